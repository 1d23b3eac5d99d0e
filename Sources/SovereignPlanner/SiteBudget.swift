public import SovereignModel

/// What a site can power and cool at each step of the grid, as the planner believes it (a forecast in a
/// simulation, the traces themselves in `sovereign plan`).
public struct SiteBudget: Sendable {
    /// Power the site can draw at each step, before PUE: grid × availability + solar.
    public let supply: [Double]
    /// PUE at each step.
    public let pue: [Double]
    /// IT heat the site can reject at each step.
    public let cooling: [Double]
    /// Carbon intensity of the site's supply at each step, g/kWh: grid and solar blended by what each
    /// delivers (solar at its lifecycle 48 g/kWh), so that sunny hours are cleaner.
    public let carbon: [Double]

    /// Lifecycle carbon intensity of solar electricity, g/kWh (DESIGN.md).
    public static let solarCarbon = 48.0

    /// Most IT power the site may run at step `t`: `min(supply/PUE, cooling)`, in watts.
    ///
    /// - Complexity: O(1).
    public func itLimit(at t: Int) -> Double { min(supply[t] / pue[t], cooling[t]) }

    /// The budget the traces describe, with availability and irradiance scaled by `supplyScale` per step
    /// (1 everywhere for the traces as they are; a simulator passes forecast errors here).
    public init(site: Site, grid: TimeGrid, supplyScale: [Double]? = nil) {
        var supply = [Double](repeating: 0, count: grid.count)
        var pue = [Double](repeating: 1, count: grid.count)
        var cooling = [Double](repeating: 0, count: grid.count)
        var carbon = [Double](repeating: 0, count: grid.count)
        for t in 0..<grid.count {
            var gridPower = 0.0
            var gridCarbon = 0.0
            if let g = site.power.grid {
                gridPower = g.capacity.watts * g.availability.value(at: t).value
                gridCarbon = g.carbonIntensity.value(at: t).gramsPerKilowattHour
            }
            let solarPower = site.power.solar?.output(at: t).watts ?? 0
            let available = gridPower + solarPower
            carbon[t] =
                available > 0
                ? (gridPower * gridCarbon + solarPower * Self.solarCarbon) / available
                : (site.power.grid == nil ? Self.solarCarbon : gridCarbon)
            supply[t] = available * (supplyScale?[t] ?? 1)
            let ambient = site.cooling.ambient.value(at: t)
            pue[t] = site.cooling.pue.value(at: ambient)
            cooling[t] = site.cooling.capacity(at: ambient).watts
        }
        self.supply = supply
        self.pue = pue
        self.cooling = cooling
        self.carbon = carbon
    }
}
