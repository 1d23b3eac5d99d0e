import Foundation
import SovereignKubernetes
import SovereignModel
import SovereignPlanner
import SovereignTesting

/// kube-scheduler's calls for one pod with a `nodeCacheCapable` extender: `filter` with the names of the
/// nodes its own plug-ins passed, then `prioritize` with the names `filter` kept. The calls of one pod are
/// a cycle; kube-scheduler schedules one pod at a time, so one call is in flight.
struct PodCycle {
    let load: Load

    /// Latencies of each call, in nanoseconds, one entry per pod.
    struct Times {
        var filter: [Double] = []
        var prioritize: [Double] = []
        var kept: [Int] = []
        var cycle: [Double] { zip(filter, prioritize).map { $0 + $1 } }
    }

    /// The `filter` body of the `i`th pod.
    func filterBody(_ i: Int) -> [UInt8] {
        load.replay.arguments(pod(i), nodes: load.window(i), nodeCacheCapable: true)
    }

    /// The `prioritize` body of the `i`th pod, given what `filter` answered.
    func prioritizeBody(_ i: Int, filterReply: some Collection<UInt8>) throws -> (body: [UInt8], kept: Int) {
        guard let object = try JSONSerialization.jsonObject(with: Data(filterReply)) as? [String: Any],
            let names = object["NodeNames"] as? [String]
        else {
            throw LoadError("expected an ExtenderFilterResult with NodeNames, found \(Data(filterReply).count) bytes")
        }
        let kept = Set(names)
        let nodes = load.window(i).filter { kept.contains($0.name) }
        return (load.replay.arguments(pod(i), nodes: nodes, nodeCacheCapable: true), nodes.count)
    }

    private func pod(_ i: Int) -> ClusterReplay.Pod { load.replay.pods[i % load.replay.pods.count] }

    /// Runs `pods` cycles over HTTP on one connection, after `warmup` more, and times each call from the
    /// first byte written to the last byte read (building and decoding bodies is kube-scheduler's own time).
    func overHTTP(_ connection: HTTPConnection, prefix: String, pods: Int, warmup: Int) throws -> Times {
        var times = Times()
        let clock = ContinuousClock()
        for i in 0..<(warmup + pods) {
            let filter = filterBody(i)
            let t0 = clock.now
            let filtered = try connection.send("POST", prefix + "/filter", body: filter)
            let t1 = clock.now
            guard filtered.status == 200 else {
                throw LoadError(
                    "filter of pod \(i): expected 200, found \(filtered.status): \(String(decoding: filtered.body, as: UTF8.self))"
                )
            }
            let (prioritize, kept) = try prioritizeBody(i, filterReply: filtered.body)
            let t2 = clock.now
            let scored = try connection.send("POST", prefix + "/prioritize", body: prioritize)
            let t3 = clock.now
            guard scored.status == 200 else {
                throw LoadError("prioritize of pod \(i): expected 200, found \(scored.status)")
            }
            guard i >= warmup else { continue }
            times.filter.append(nanoseconds(t1 - t0))
            times.prioritize.append(nanoseconds(t3 - t2))
            times.kept.append(kept)
        }
        return times
    }

    /// The same cycles answered in this process by an extender on the same fleet (no HTTP, no sockets): what
    /// parsing, the snapshot, the verdicts and encoding cost alone.
    func inProcess(pods: Int, warmup: Int) throws -> Times {
        let extender = try Self.extender(load)
        var times = Times()
        let clock = ContinuousClock()
        for i in 0..<(warmup + pods) {
            let filter = filterBody(i)
            let t0 = clock.now
            let filtered = try extender.filter(filter)
            let t1 = clock.now
            let (prioritize, kept) = try prioritizeBody(i, filterReply: filtered)
            let t2 = clock.now
            _ = try extender.prioritize(prioritize)
            let t3 = clock.now
            guard i >= warmup else { continue }
            times.filter.append(nanoseconds(t1 - t0))
            times.prioritize.append(nanoseconds(t3 - t2))
            times.kept.append(kept)
        }
        return times
    }

    /// Bare round trips on the connection: `GET /healthz`, what HTTP on loopback costs with no body.
    func healthz(_ connection: HTTPConnection, count: Int) throws -> [Double] {
        let clock = ContinuousClock()
        return try (0..<count).map { _ in
            let t0 = clock.now
            _ = try connection.send("GET", "/healthz")
            return nanoseconds(clock.now - t0)
        }
    }

    /// An extender as `serve` makes one, on the load's fleet with no bound pods and no running work.
    static func extender(_ load: Load) throws -> Extender {
        let fleet = try FleetLoader().load(sources: [(file: "fleet.yaml", text: load.replay.fleetYAML)])
        let grid = TimeGrid(start: Date(timeIntervalSince1970: 1_688_169_600), horizon: .hours(24), step: .hours(1))
        let snapshot = ExtenderSnapshot(
            fleet: fleet,
            workloads: [:],
            policy: .powerAware,
            grid: grid,
            budgets: fleet.sites.map { SiteBudget(site: $0, grid: grid) },
            running: fleet.sites.map { _ in 0 }
        )
        let extender = Extender(snapshot: snapshot)
        extender.nodes.replace(with: load.replay.nodes.map { (name: $0.name, labels: $0.labels) })
        return extender
    }
}

func nanoseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
}

/// p50, p90, p99 and max of `samples` (nanoseconds), in milliseconds.
func summary(_ samples: [Double]) -> String {
    let sorted = samples.sorted()
    func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)] }
    let cells = [at(0.5), at(0.9), at(0.99), sorted.last ?? 0].map { String(format: "%.3f", $0 / 1e6) }
    return cells.joined(separator: " | ")
}
