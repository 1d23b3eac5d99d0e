import SovereignModel
import SovereignPlanner

/// Replays a plan against the constraints, independently of the planner: what it counts is what a
/// reviewer would count by hand from the segments and events.
struct PlanChecker {
    let fleet: Fleet
    let plan: Plan

    /// Segments on a site whose country a dataset of the workload may not be processed in.
    var residencyViolations: [String] {
        var found: [String] = []
        for (workload, placed) in zip(fleet.workloads, plan.workloads) {
            for segment in placed.segments {
                let site = fleet.sites[segment.reference.site]
                // A federated participant reads only its own dataset, which must be one of its workload's.
                let read = segment.participant.map { [$0] } ?? workload.datasets
                if let participant = segment.participant, !workload.datasets.contains(participant) {
                    found.append("\(workload.name) on \(segment.site) trains \(participant), not one of its datasets")
                }
                for name in read where !fleet.dataset(named: name)!.mayBeProcessed(in: site.jurisdiction) {
                    found.append("\(workload.name) on \(segment.site) reads \(name)")
                }
            }
        }
        return found
    }

    /// (site, step) where planned IT power exceeds `min(available/PUE, cooling)`.
    var powerViolations: [String] {
        let grid = plan.grid
        var used = [String: [Double]]()
        for placed in plan.workloads {
            for segment in placed.segments {
                let pool = fleet.sites[segment.reference.site].pools[segment.reference.pool]
                let model = fleet.catalog[pool.accelerator]!
                for t in segment.start..<segment.end {
                    used[segment.site, default: Array(repeating: 0, count: grid.count)][t] +=
                        Double(segment.accelerators) * model.power.watts * 0.75
                }
            }
        }
        var found: [String] = []
        for site in fleet.sites {
            let budget = SiteBudget(site: site, grid: grid)
            for (t, watts) in (used[site.name] ?? []).enumerated()
            where watts > budget.itLimit(at: t) * (1 + 1e-9) + 1e-6 {
                found.append("\(site.name) step \(t): \(watts) W > \(budget.itLimit(at: t)) W")
            }
        }
        return found
    }

    /// (pool, step) where more accelerators are planned than the pool has.
    var capacityViolations: [String] {
        var used = [String: [Int: Int]]()
        for placed in plan.workloads {
            for segment in placed.segments {
                for t in segment.start..<segment.end {
                    used["\(segment.site)/\(segment.pool)", default: [:]][t, default: 0] += segment.accelerators
                }
            }
        }
        var found: [String] = []
        for site in fleet.sites {
            for pool in site.pools {
                for (t, n) in used["\(site.name)/\(pool.name)"] ?? [:] where n > pool.count {
                    found.append("\(site.name)/\(pool.name) step \(t): \(n) > \(pool.count)")
                }
            }
        }
        return found
    }

    /// Pauses without a checkpoint at the same step just before them, and migrations off a link.
    var eventViolations: [String] {
        var found: [String] = []
        for placed in plan.workloads where placed.requiredFLOPs != nil {
            for (i, event) in placed.events.enumerated() {
                if event.kind == .pause {
                    let before = i > 0 ? placed.events[i - 1] : nil
                    if before?.kind != .checkpoint || before?.step != event.step {
                        found.append("\(placed.name): pause at step \(event.step) without a checkpoint first")
                    }
                }
                if event.kind == .migrate {
                    let from =
                        placed.events[..<i].last { $0.kind != .checkpoint && $0.kind != .pause }?.site
                        ?? placed.events[..<i].last?.site
                    if let from, from != event.site,
                        fleet.site(named: from)?.links.contains(where: { $0.to == event.site }) != true
                    {
                        found.append("\(placed.name): migrates \(from) → \(event.site) without a link")
                    }
                }
            }
        }
        return found
    }
}
