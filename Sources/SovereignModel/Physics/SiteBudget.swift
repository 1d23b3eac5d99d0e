/// What a site can power and cool at each step of the grid, as the planner believes it (a forecast in a
/// simulation, the traces themselves in `sovereign plan`).
public struct SiteBudget: Sendable {
    /// Power the site can draw at each step, before PUE: grid × availability + solar.
    public private(set) var supply: [Double]
    /// PUE at each step.
    public let pue: [Double]
    /// IT heat the site can reject at each step.
    public let cooling: [Double]
    /// Carbon intensity of the site's supply at each step, g/kWh: grid and solar blended by what each
    /// delivers (solar at its lifecycle 48 g/kWh), so that sunny hours are cleaner.
    public let carbon: [Double]
    /// The solar part of the supply at each step, watts (as forecast, before any nowcast).
    public let solar: [Double]
    /// The grid's own carbon intensity at each step, g/kWh (0 without a grid).
    public let gridCarbon: [Double]

    /// Lowers the believed supply over `steps` to at most `watts`: what a persistence nowcast does when a
    /// site delivers less than forecast.
    public mutating func capSupply(_ steps: Range<Int>, at watts: Double) {
        for t in steps where t < supply.count { supply[t] = min(supply[t], watts) }
    }

    /// Lifecycle carbon intensity of solar electricity, g/kWh (DESIGN.md).
    public static let solarCarbon = 48.0

    /// Most IT power the site may run at step `t`: `min(supply/PUE, cooling)`, in watts.
    ///
    /// - Complexity: O(1).
    public func itLimit(at t: Int) -> Double { min(supply[t] / pue[t], cooling[t]) }

    /// A budget given step by step (what a control plane builds from live power signals).
    ///
    /// Every array has one value per grid step; `carbon` and `gridCarbon` in g/kWh, the rest in watts.
    public init(
        supply: [Double],
        pue: [Double],
        cooling: [Double],
        carbon: [Double],
        solar: [Double],
        gridCarbon: [Double]
    ) {
        self.supply = supply
        self.pue = pue
        self.cooling = cooling
        self.carbon = carbon
        self.solar = solar
        self.gridCarbon = gridCarbon
    }

    /// The budget the traces describe, with availability and irradiance scaled by `supplyScale` per step
    /// (1 everywhere for the traces as they are; a simulator passes forecast errors here).
    public init(site: Site, grid: TimeGrid, supplyScale: [Double]? = nil) {
        let n = grid.count
        var supply = [Double](repeating: 0, count: n)
        var pue = [Double](repeating: 1, count: n)
        var cooling = [Double](repeating: 0, count: n)
        var carbon = [Double](repeating: 0, count: n)
        var solar = [Double](repeating: 0, count: n)
        let availability = site.power.grid?.availability.baseValues(count: n) ?? []
        let gridCarbon = site.power.grid?.carbonIntensity.baseValues(count: n) ?? []
        let irradiance = site.power.solar?.irradiance.baseValues(count: n) ?? []
        let ambient = site.cooling.ambient.baseValues(count: n)
        let gridCapacity = site.power.grid?.capacity.watts ?? 0
        for t in 0..<n {
            let gridPower = availability.isEmpty ? 0 : gridCapacity * availability[t]
            let solarPower = site.power.solar?.output(irradiance: irradiance[t]).watts ?? 0
            solar[t] = solarPower * (supplyScale?[t] ?? 1)
            let available = gridPower + solarPower
            let intensity = gridCarbon.isEmpty ? Self.solarCarbon : gridCarbon[t]
            carbon[t] = available > 0 ? (gridPower * intensity + solarPower * Self.solarCarbon) / available : intensity
            supply[t] = available * (supplyScale?[t] ?? 1)
            let temperature = Temperature.celsius(ambient[t])
            pue[t] = site.cooling.pue.value(at: temperature)
            cooling[t] = site.cooling.capacity(at: temperature).watts
        }
        self.supply = supply
        self.pue = pue
        self.cooling = cooling
        self.carbon = carbon
        self.solar = solar
        self.gridCarbon = gridCarbon.isEmpty ? [Double](repeating: 0, count: n) : gridCarbon
    }
}
