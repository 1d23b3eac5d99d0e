import Foundation
import Logging
import SovereignLedger
import SovereignModel
import SovereignServer
import Synchronization

/// A control plane whose every site runs its work through a site agent, as `serve --site-agents` builds it
/// (the real SQLite store in a temporary directory, the site agents' executor in front of the local one), with
/// `workloadsPerSite` running workloads at each site, each with one open attempt, and the report each site's
/// agent sends when all is well (its attempts running, a checkpoint each, its keys).
///
/// The fleet is written as YAML and loaded as the server loads it; the attempts are committed to the store
/// before the control plane starts, as if an earlier pass had started them, so setting up 10,000 sites does
/// not run the planner.
final class PollingFleet: Sendable {
    /// The control plane under test.
    let plane: ControlPlane
    /// Where its fleet file, store and relay are (removed by the benchmark's teardown).
    let directory: URL
    /// The sites, in fleet order.
    let sites: [String]
    /// The open attempts of each site (id, workload), in id order, by index in ``sites``.
    let attempts: [[(id: Int64, workload: String)]]
    /// Polls made so far: the next poll is of site `polls % sites.count`, so a round visits every site once.
    let polls = Mutex(0)

    /// The clock of the control plane: fixed, so no lease runs out however long a run takes.
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    /// The jurisdictions the sites are spread over, in turn.
    static let jurisdictions = ["KE", "RW", "TZ", "UG", "ET", "GH", "NG", "SN"]

    /// Builds a fleet of `siteCount` sites under a fresh temporary directory, whose store also holds `ended`
    /// workloads submitted and completed before (each with its one completed attempt).
    init(siteCount: Int, workloadsPerSite: Int, ended: Int = 0) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sovereign-bench-agents-\(siteCount)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("fleet.yaml")
        try Self.fleetYAML(siteCount: siteCount, workloadsPerSite: workloadsPerSite)
            .write(to: file, atomically: true, encoding: .utf8)
        let (fleet, declared) = try SovereignServer.loadFleet([file.path])
        let store = try SQLiteControlStore(path: directory.appendingPathComponent("state.sqlite").path)
        sites = fleet.sites.map(\.name)
        try Self.recordEnded(ended, in: store, sites: sites)
        attempts = try Self.startAttempts(of: fleet, in: store, sites: sites)
        let clock: @Sendable () -> Date = { PollingFleet.now }
        let agents = SiteAgentExecutor(
            sites: Set(sites),
            lease: .seconds(30),
            relay: CheckpointRelay(root: directory.appendingPathComponent("relay", isDirectory: true)),
            clock: clock
        )
        plane = try ControlPlane(
            fleet: fleet,
            declared: declared,
            store: store,
            executor: SiteRoutedExecutor(
                local: LocalProcessExecutor(directory: directory.appendingPathComponent("work")),
                agents: agents
            ),
            agents: agents,
            signer: NoteSigner(name: "bench", privateKey: .init()),
            origin: "bench",
            logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: clock
        )
    }

    /// What site `index`'s agent says when all its work runs.
    func steadyReport(_ index: Int) -> AgentReport {
        let held = attempts[index]
        return AgentReport(
            agent: "bench-agent/\(sites[index])",
            seenThrough: held.last?.id ?? 0,
            attempts: held.map { ReportedAttempt.running(id: $0.id, workload: $0.workload) },
            checkpoints: held.map { ReportedCheckpoint(workload: $0.workload, bytes: 12 << 30) },
            keys: AgentKeys(agreement: Self.publicKeyText, signing: Self.publicKeyText)
        )
    }

    /// A base64 text of 32 bytes, as an agent's public keys are sent (the poll stores them unread).
    static let publicKeyText = Data(repeating: 7, count: 32).base64EncodedString()

    /// Commits, as one earlier pass would have, a running workload and its open first attempt for each of
    /// the fleet's workloads, at the site its name gives.
    ///
    /// - Returns: each site's attempts as the store numbered them.
    static func startAttempts(
        of fleet: Fleet,
        in store: SQLiteControlStore,
        sites: [String]
    ) throws -> [[(id: Int64, workload: String)]] {
        let time = now.timeIntervalSince1970
        var change = StateChange()
        for workload in fleet.workloads {
            let site = site(of: workload.name)
            let (record, started) = Self.record(name: workload.name, site: site, state: .running, at: time)
            var attempt = started
            attempt.handle = AttemptHandle("site-agent:\(site)/\(workload.name)")
            change.newWorkloads.append(record)
            change.newAttempts.append(attempt)
        }
        let ids = try store.commit(change, at: now).attemptIDs
        let index = Dictionary(uniqueKeysWithValues: sites.enumerated().map { ($1, $0) })
        var bySite = [[(id: Int64, workload: String)]](repeating: [], count: sites.count)
        for (id, attempt) in zip(ids, change.newAttempts) {
            guard let at = index[attempt.site] else { continue }
            bySite[at].append((id, attempt.workload))
        }
        return bySite
    }

    /// Commits `count` workloads that ran at the sites in turn and completed, each with its one attempt, as the
    /// store of a control plane that has served them holds them.
    static func recordEnded(_ count: Int, in store: SQLiteControlStore, sites: [String]) throws {
        guard count > 0 else { return }
        let time = now.timeIntervalSince1970 - 86_400
        var change = StateChange()
        for n in 0..<count {
            let (record, ended) = Self.record(
                name: "ended-\(n)",
                site: sites[n % sites.count],
                state: .completed,
                at: time
            )
            var attempt = ended
            attempt.endedAt = time + 3_600
            attempt.outcome = "completed"
            attempt.exitStatus = 0
            change.newWorkloads.append(record)
            change.newAttempts.append(attempt)
        }
        _ = try store.commit(change, at: Date(timeIntervalSince1970: time))
    }

    /// A workload `name` in `state` at `site` on its eight accelerators of pool `a100`, with its first attempt,
    /// started at `time`.
    static func record(
        name: String,
        site: String,
        state: WorkloadState,
        at time: Double
    ) -> (WorkloadRecord, AttemptRecord) {
        var record = WorkloadRecord(name: name, source: "spec", document: "", at: time)
        record.state = state
        record.site = site
        record.pool = "a100"
        record.accelerators = 8
        let attempt = AttemptRecord(
            workload: name,
            number: 1,
            site: site,
            pool: "a100",
            accelerators: 8,
            resume: false,
            startedAt: time,
            logPath: "site \(site): \(name)/attempts/1/log"
        )
        return (record, attempt)
    }

    /// The site a workload of ``fleetYAML(siteCount:workloadsPerSite:)`` runs at: its name up to `-w`.
    static func site(of workload: String) -> String {
        String(workload[..<(workload.range(of: "-w")?.lowerBound ?? workload.endIndex)])
    }

    /// The fleet: `siteCount` sites over ``jurisdictions`` in turn, one 64-accelerator pool each, a dataset
    /// resident in each jurisdiction, and `workloadsPerSite` eight-accelerator fine-tuning workloads (with
    /// `run:`) per site, bound to their site's jurisdiction by their dataset.
    static func fleetYAML(siteCount: Int, workloadsPerSite: Int) -> String {
        var documents: [String] = []
        for (j, code) in jurisdictions.enumerated() where j < siteCount {
            documents.append(
                """
                apiVersion: sovereign.dev/v1
                kind: Dataset
                metadata: {name: records-\(code.lowercased())}
                spec: {size: 200 GB, site: \(siteName(j)), residency: [\(code)], classification: internal}

                """
            )
        }
        for n in 0..<siteCount {
            documents.append(siteYAML(siteName(n), jurisdiction: jurisdictions[n % jurisdictions.count]))
            for k in 0..<workloadsPerSite {
                documents.append(workloadYAML(siteName(n) + "-w\(k)", dataset: jurisdictions[n % jurisdictions.count]))
            }
        }
        return documents.joined(separator: "---\n")
    }

    static func siteYAML(_ name: String, jurisdiction code: String) -> String {
        """
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: \(name)}
        spec:
          jurisdiction: \(code)
          operator: {name: operator-\(code.lowercased()), jurisdiction: \(code)}
          power:
            grid: {capacity: 500 kW, carbonIntensity: 300 g/kWh}
          cooling: {capacity: 600 kW, designAmbient: 35 C, ambient: 25 C, pue: {base: 1.3}}
          pools:
            - {name: a100, accelerator: nvidia-a100-80gb, count: 64, perNode: 8}

        """
    }

    static func siteName(_ n: Int) -> String {
        "site-" + String(repeating: "0", count: max(0, 5 - String(n).count)) + String(n)
    }

    static func workloadYAML(_ name: String, dataset code: String) -> String {
        """
        apiVersion: sovereign.dev/v1
        kind: Workload
        metadata: {name: \(name)}
        spec:
          type: fine-tuning
          model: {parameters: 1B}
          datasets: [records-\(code.lowercased())]
          compute: {flops: 1e20}
          accelerators: {min: 8, max: 8}
          preemptible: true
          run: {command: [python3, train.py], gracePeriod: 30 s, attempts: 3}

        """
    }
}
