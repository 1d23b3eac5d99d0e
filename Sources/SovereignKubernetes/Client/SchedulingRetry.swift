import Foundation
import SovereignModel
import SovereignPlanner
import Synchronization

/// Decides the value of ``KubernetesLabels/retry`` on each site's nodes, so that kube-scheduler retries the
/// pods it parked as soon as they may fit, not after its unschedulable back-off (60 s to 5 min).
///
/// kube-scheduler requeues parked pods on a node update that changes labels. The value is
/// `<start>-<generation>`: `start` is new each time the process starts, so the labeller's first pass after a
/// restart touches every node of the fleet; `generation` counts the site's improvements since, where an
/// improvement is a better power or thermal condition, or room for at least one more accelerator of the
/// site's least hungry pool.
public final class SchedulingRetry: Sendable {
    private struct Site {
        var generation = 0
        var headroom: Double
        var rank: Int
    }

    private let start: String
    private let sites = Mutex<[Int: Site]>([:])

    /// A fresh start.
    ///
    /// - Parameter start: What distinguishes this process's values from the last one's: the start time in
    ///   seconds, base 36, unless given.
    public init(start: String? = nil) {
        self.start = start ?? String(Int(Date().timeIntervalSince1970), radix: 36)
    }

    /// The label value for the nodes of site `s`.
    public func value(site s: Int) -> String {
        "\(start)-\(sites.withLock { $0[s]?.generation ?? 0 })"
    }

    /// Compares a new state with the last one seen and counts an improvement at each site that gained.
    ///
    /// - Returns: The sites that improved (empty the first time).
    /// - Complexity: O(pools + sites).
    @discardableResult
    public func observe(_ snapshot: ExtenderSnapshot) -> [Int] {
        let now = Self.measure(snapshot)
        return sites.withLock { sites in
            var improved: [Int] = []
            for (s, (headroom, rank, step)) in now.enumerated() {
                guard var site = sites[s] else {
                    sites[s] = Site(headroom: headroom, rank: rank)
                    continue
                }
                if rank < site.rank || headroom >= site.headroom + step {
                    site.generation += 1
                    improved.append(s)
                    site.headroom = headroom
                } else if headroom < site.headroom {
                    site.headroom = headroom  // room lost: the next gain counts from here
                }
                site.rank = rank
                sites[s] = site
            }
            return improved
        }
    }

    /// The managed labels of a node: its site's conditions and retry value, or `nil` outside the fleet.
    public func labels(forNode labels: [String: String], in snapshot: ExtenderSnapshot) -> [String: String]? {
        guard case .pool(let c) = snapshot.locate(labels: labels) else { return nil }
        let s = snapshot.candidates[c].siteIndex
        var out = snapshot.labels(forSite: s)
        out[KubernetesLabels.retry] = value(site: s)
        return out
    }

    /// Per site: IT room now, how bad its conditions are (0 ok … 4 both shedding), and the power of one
    /// accelerator of its least hungry pool (what room must grow by to count).
    static func measure(_ snapshot: ExtenderSnapshot) -> [(headroom: Double, rank: Int, step: Double)] {
        var step = [Double](repeating: .infinity, count: snapshot.fleet.sites.count)
        for candidate in snapshot.candidates {
            let one = PhysicalModel.runningPower(model: candidate.model, count: 1)
            step[candidate.siteIndex] = min(step[candidate.siteIndex], one)
        }
        return snapshot.fleet.sites.indices.map { s in
            let limit = snapshot.budgets[s].itLimit(at: 0)
            let rank = [snapshot.power[s], snapshot.thermal[s]].map(Self.rank).reduce(0, +)
            return (limit - snapshot.draw(site: s), rank, step[s])
        }
    }

    private static func rank(_ condition: SiteCondition) -> Int {
        switch condition {
        case .ok: 0
        case .constrained: 1
        case .shedding: 2
        }
    }
}
