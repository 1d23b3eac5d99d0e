import Foundation
import SovereignModel

/// Site budgets for a plan that starts now, from the power signals the sites sent.
///
/// A site's supply at a step is the latest forecast point at or before it, else the power available now;
/// a site that has sent nothing yet is planned on its grid connection's nameplate capacity (solar only
/// counts once a site reports it). A `dark` site (its agent silent past its lease) has no power: nothing is
/// placed there until it is heard from again. PUE and cooling follow the reported ambient temperature, else
/// the site's design ambient.
enum LiveBudgets {
    static func make(
        fleet: Fleet,
        grid: TimeGrid,
        signals: [String: PowerSignalRecord],
        now: Double,
        dark: Set<String> = []
    ) -> [SiteBudget] {
        fleet.sites.map { site in
            let n = grid.count
            let signal = signals[site.name]
            var supply = [Double](repeating: 0, count: n)
            // Points at or before the signal are the past: what is available now replaces them.
            let ahead = signal.map { s in s.forecast.filter { $0.at > s.at } } ?? []
            for t in 0..<n where !dark.contains(site.name) {
                // Step 0 is the step holding `now`: what is available now, not at the step's start.
                supply[t] =
                    signal.map { available($0, ahead: ahead, at: max(now, grid.start + Double(t) * grid.step)) }
                    ?? (site.power.grid?.capacity.watts ?? 0)
            }
            let ambient = Temperature.celsius(signal?.ambient ?? site.cooling.designAmbient.baseValue)
            let pue = site.cooling.pue.value(at: ambient)
            let cooling = site.cooling.capacity(at: ambient).watts
            let intensity =
                site.power.grid.map { g -> Double in
                    let values = g.carbonIntensity.steps(count: max(1, fleet.scenario?.grid.count ?? 1))
                    return values.reduce(0, +) / Double(max(1, values.count))
                } ?? SiteBudget.solarCarbon
            return SiteBudget(
                supply: StepValues(supply),
                pue: StepValues(repeating: pue, count: n),
                cooling: StepValues(repeating: cooling, count: n),
                carbon: StepValues(repeating: intensity, count: n),
                solar: StepValues(repeating: 0, count: n),
                gridCarbon: StepValues(repeating: site.power.grid == nil ? 0 : intensity, count: n)
            )
        }
    }

    /// Watts a signal says are available at `time` (seconds since 1970): the latest forecast point after
    /// the signal and at or before `time`, else the power available when the signal was sent.
    ///
    /// - Complexity: O(log F) for F forecast points.
    static func available(
        _ signal: PowerSignalRecord,
        ahead points: [PowerSignalRecord.ForecastPoint],
        at time: Double
    ) -> Double {
        var low = 0
        var high = points.count
        while low < high {
            let mid = (low + high) / 2
            if points[mid].at <= time { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? signal.available : points[low - 1].available
    }
}
