/// What a site can power and cool at each step of the grid, as the planner believes it (a forecast in a
/// simulation, the traces themselves in `sovereign plan`).
public struct SiteBudget: Sendable {
    /// Power the site can draw at each step, before PUE: grid × availability + solar.
    public private(set) var supply: StepValues
    /// PUE at each step.
    public let pue: StepValues
    /// IT heat the site can reject at each step.
    public let cooling: StepValues
    /// Carbon intensity of the site's supply at each step, g/kWh: grid and solar blended by what each
    /// delivers (solar at its lifecycle 48 g/kWh), so that sunny hours are cleaner.
    public let carbon: StepValues
    /// The solar part of the supply at each step, watts (as forecast, before any nowcast).
    public let solar: StepValues
    /// The grid's own carbon intensity at each step, g/kWh (0 without a grid).
    public let gridCarbon: StepValues

    /// Lowers the believed supply over `steps` to at most `watts`: what a persistence nowcast does when a
    /// site delivers less than forecast.
    public mutating func capSupply(_ steps: Range<Int>, at watts: Double) {
        supply.update(steps) { min($0, watts) }
    }

    /// Lifecycle carbon intensity of solar electricity, g/kWh (DESIGN.md).
    public static let solarCarbon = 48.0

    /// Most IT power the site may run at step `t`: `min(supply/PUE, cooling)`, in watts.
    ///
    /// - Complexity: O(log runs).
    public func itLimit(at t: Int) -> Double { min(supply[t] / pue[t], cooling[t]) }

    /// What a budget holds at one step.
    public struct Step: Sendable {
        public let supply: Double
        public let pue: Double
        public let cooling: Double
        public let solar: Double
        public let gridCarbon: Double
    }

    /// The values of step `t` (all but the blended carbon), read once.
    ///
    /// - Complexity: O(log runs).
    public func at(_ t: Int) -> Step {
        Step(supply: supply[t], pue: pue[t], cooling: cooling[t], solar: solar[t], gridCarbon: gridCarbon[t])
    }

    /// ``itLimit(at:)`` at every step, computed once per stretch where supply, PUE and cooling all hold.
    ///
    /// - Complexity: O(runs × log runs) (O(steps) where a series is dense).
    public var itLimits: StepValues {
        var (supply, pue, cooling) = (StepValues.Cursor(supply), StepValues.Cursor(pue), StepValues.Cursor(cooling))
        var limits = StepValues.Builder()
        while limits.count < self.supply.count {
            let t = limits.count
            let (s, p, c) = (supply.seek(t), pue.seek(t), cooling.seek(t))
            limits.append(min(s.value / p.value, c.value), count: min(s.end, p.end, c.end) - t)
        }
        return limits.build()
    }

    /// The step after the last of the stretch from `t` over which every series of the budget holds the
    /// values of step `t` (bit for bit): whatever the budget decides at `t` it decides the same way there.
    ///
    /// No later than `limit` (but at least `t + 1`): a reader that needs the nearest of several ends passes the
    /// nearest so far, so a series kept dense is scanned no further.
    ///
    /// - Complexity: O(log runs) (O(min(run length, `limit` − `t`)) for a series kept dense).
    public func runEnd(containing t: Int, notBeyond limit: Int = .max) -> Int {
        [supply, pue, cooling, carbon, solar, gridCarbon].reduce(min(limit, supply.count)) {
            min($0, $1.runEnd(containing: t, notBeyond: $0))
        }
    }

    /// A budget given step by step (what a control plane builds from live power signals).
    ///
    /// Every series has one value per grid step; `carbon` and `gridCarbon` in g/kWh, the rest in watts.
    public init(
        supply: StepValues,
        pue: StepValues,
        cooling: StepValues,
        carbon: StepValues,
        solar: StepValues,
        gridCarbon: StepValues
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
    ///
    /// Each stretch of steps over which every trace (and the scale) holds one value is computed once, so the
    /// budget has a run wherever its inputs do.
    ///
    /// - Complexity: O(runs of the inputs × log runs), O(steps) where the scale or a trace is dense.
    public init(site: Site, grid: TimeGrid, supplyScale: StepValues? = nil) {
        let n = grid.count
        let one = StepValues(repeating: 1, count: n)
        let inputs = [
            site.power.grid?.availability.steps(count: n) ?? one,
            site.power.grid?.carbonIntensity.steps(count: n) ?? one,
            site.power.solar?.irradiance.steps(count: n) ?? one,
            site.cooling.ambient.steps(count: n),
            supplyScale ?? one,
        ]
        var cursors = inputs.map(StepValues.Cursor.init)
        var (supply, pue, cooling) = (StepValues.Builder(), StepValues.Builder(), StepValues.Builder())
        var (carbon, solar, intensity) = (StepValues.Builder(), StepValues.Builder(), StepValues.Builder())
        var t = 0
        while t < n {
            var end = n
            func seek(_ i: Int) -> Double {
                let (value, runEnd) = cursors[i].seek(t)
                end = min(end, runEnd)
                return value
            }
            let (availability, gridCarbon, irradiance, ambient, scale) = (seek(0), seek(1), seek(2), seek(3), seek(4))
            let step = Self.power(site, availability: availability, gridCarbon: gridCarbon, irradiance: irradiance)
            let temperature = Temperature.celsius(ambient)
            supply.append(step.available * scale, count: end - t)
            pue.append(site.cooling.pue.value(at: temperature), count: end - t)
            cooling.append(site.cooling.capacity(at: temperature).watts, count: end - t)
            carbon.append(step.carbon, count: end - t)
            solar.append(step.solar * scale, count: end - t)
            intensity.append(site.power.grid == nil ? 0 : gridCarbon, count: end - t)
            t = end
        }
        self.init(
            supply: supply.build(),
            pue: pue.build(),
            cooling: cooling.build(),
            carbon: carbon.build(),
            solar: solar.build(),
            gridCarbon: intensity.build()
        )
    }

    /// A step's power before any scale (grid and solar), its solar part and its blended carbon intensity.
    private static func power(
        _ site: Site,
        availability: Double,
        gridCarbon: Double,
        irradiance: Double
    ) -> (available: Double, solar: Double, carbon: Double) {
        let gridPower = site.power.grid == nil ? 0 : (site.power.grid?.capacity.watts ?? 0) * availability
        let solarPower = site.power.solar?.output(irradiance: irradiance).watts ?? 0
        let available = gridPower + solarPower
        let intensity = site.power.grid == nil ? Self.solarCarbon : gridCarbon
        let carbon = available > 0 ? (gridPower * intensity + solarPower * Self.solarCarbon) / available : intensity
        return (available, solarPower, carbon)
    }
}
