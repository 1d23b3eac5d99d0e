import Foundation
import HTTPTypes
import Prometheus
import Synchronization

/// Prometheus metrics for `/metrics`: request counts by route and status, and gauges read from the
/// control plane at each scrape (workloads by state, site power, ledger size, loop counters).
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let requests = Mutex<[String: Counter]>([:])

    /// Counts an answer of a route, refusals (401, 403) included.
    func request(_ route: APIRoute, status: Int) {
        request(method: route.method, path: route.path, status: status)
    }

    /// Counts an answer to a method on a route's path.
    func request(method: HTTPRequest.Method, path: String, status: Int) {
        let counter = requests.withLock { counters in
            let key = "\(method.rawValue) \(path) \(status)"
            if let existing = counters[key] { return existing }
            let made = registry.makeCounter(
                name: "sovereign_http_requests_total",
                labels: [("method", method.rawValue), ("route", path), ("status", String(status))],
                help: "HTTP requests answered, by method, route and status"
            )
            counters[key] = made
            return made
        }
        counter.increment()
    }

    func render(_ plane: ControlPlane) async -> String {
        if let snapshot = try? await plane.metricsSnapshot() {
            for state in WorkloadState.allCases {
                registry.makeGauge(
                    name: "sovereign_workloads",
                    labels: [("state", state.rawValue)],
                    help: "Workloads by lifecycle state"
                ).set(Double(snapshot.states[state] ?? 0))
            }
            for site in snapshot.sites {
                registry.makeGauge(
                    name: "sovereign_site_supply_watts",
                    labels: [("site", site.name)],
                    help: "Power the site can draw now"
                ).set(site.supplyWatts)
                registry.makeGauge(
                    name: "sovereign_site_it_limit_watts",
                    labels: [("site", site.name)],
                    help: "IT power the site can run now, after PUE and cooling"
                ).set(site.itLimitWatts)
                registry.makeGauge(
                    name: "sovereign_site_running_watts",
                    labels: [("site", site.name)],
                    help: "IT power of the attempts running at the site"
                ).set(site.runningWatts)
            }
            registry.makeGauge(name: "sovereign_ledger_entries", help: "Entries in the ledger").set(
                Double(snapshot.ledger)
            )
            registry.makeGauge(
                name: "sovereign_leader",
                help: "1 while this replica holds the leader lease (runs the control loop), else 0"
            ).set(Double(await plane.leads ? 1 : 0))
            let c = snapshot.counters
            for (name, value, help) in [
                ("sovereign_reconciles_total", c.reconciles, "Control-loop passes"),
                ("sovereign_attempt_starts_total", c.starts, "Attempts started"),
                ("sovereign_pauses_total", c.pauses, "Pauses asked of running attempts"),
                ("sovereign_kills_total", c.kills, "Attempts killed after their grace period"),
                ("sovereign_power_signals_total", c.powerSignals, "Power signals received"),
            ] {
                registry.makeGauge(name: name, help: help).set(Double(value))
            }
        }
        return registry.emitToString()
    }
}
