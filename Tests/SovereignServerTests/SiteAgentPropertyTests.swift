import Crypto
import Foundation
import SovereignBase
import SovereignLedger
import SovereignModel
import SovereignPlanner
import Testing

@testable import SovereignServer

// MARK: The sites' machines

/// One attempt's process at a site, as the site's machine sees it. It outlives the agent that started it (as
/// under `sovereign supervise`), does a tick of work at a time and exits 0 when its workload's work is done,
/// saves a checkpoint every few ticks, and when asked to stop takes a delay of its own to write its
/// checkpoint and exit 143. A kill ends it at once, with nothing written.
struct SimulatedProcess: Sendable {
    enum Phase: Sendable, Hashable {
        case working
        case checkpointing(ticksLeft: Int)
        case exited(AttemptExit)
    }

    let attempt: Int64
    let workload: String
    /// Ticks of its workload's work done, counting the checkpoint it resumed from.
    var progress: Int
    var phase: Phase
    /// Ticks it takes to write its checkpoint once asked to stop.
    let stopDelay: Int

    var isAlive: Bool { if case .exited = phase { false } else { true } }
}

/// A site's machine: the processes of the attempts started there, by attempt id, and each workload's
/// checkpoint (the ticks of work it saved).
struct SiteMachine: Sendable {
    let site: String
    var processes: [Int64: SimulatedProcess] = [:]
    var checkpoints: [String: Int] = [:]
    /// Attempts whose start the workload's lock refused, as the supervisor's `flock` refuses them.
    var lockRefusals = 0

    /// What the executor sees of each attempt: its process's exit, or that nothing of it is here.
    func observe(_ records: [AttemptRecord]) -> [AttemptObservation] {
        records.map { record in
            guard let id = record.id, let process = processes[id] else { return .gone }
            if case .exited(let status) = process.phase { return .ended(status) }
            return .running
        }
    }

    /// Bytes of each workload's checkpoint here: a manifest, and a kilobyte per tick of work saved.
    var checkpointBytes: [String: Int64] { checkpoints.mapValues { 4096 + Int64($0) * 1024 } }

    /// Starts an attempt's process, resuming from the workload's checkpoint here when it asks to; refused at
    /// once while another attempt of the workload runs here (it holds the workload's lock).
    mutating func start(_ record: AttemptRecord, stopDelay: Int) -> AttemptHandle {
        let id = record.id ?? 0
        let locked = processes.values.contains { $0.workload == record.workload && $0.isAlive }
        if locked { lockRefusals += 1 }
        processes[id] = SimulatedProcess(
            attempt: id,
            workload: record.workload,
            progress: record.resume ? checkpoints[record.workload] ?? 0 : 0,
            phase: locked ? .exited(ExitStatus(refused: "another attempt of this workload holds its lock")) : .working,
            stopDelay: stopDelay
        )
        return AttemptHandle("sim:\(site)/\(id)")
    }

    /// SIGTERM (checkpoint, then exit) or SIGKILL.
    mutating func signal(_ id: Int64?, _ signal: AttemptSignal) {
        guard let id, var process = processes[id], process.isAlive else { return }
        switch signal {
        case .stop:
            guard case .working = process.phase else { return }
            process.phase = .checkpointing(ticksLeft: process.stopDelay)
        case .kill:
            process.phase = .exited(ExitStatus(signal: 9))
        }
        processes[id] = process
    }

    /// One tick of every process.
    ///
    /// - Returns: the processes that completed their workload's work.
    mutating func tick(work: [String: Int], checkpointEvery: Int) -> [SimulatedProcess] {
        var completed: [SimulatedProcess] = []
        for (id, var process) in processes.sorted(by: { $0.key < $1.key }) where process.isAlive {
            switch process.phase {
            case .working:
                process.progress += 1
                if process.progress >= work[process.workload] ?? 1 {
                    process.phase = .exited(ExitStatus(exit: 0))
                    completed.append(process)
                } else if process.progress % checkpointEvery == 0 {
                    checkpoints[process.workload] = process.progress
                }
            case .checkpointing(let left) where left > 0:
                process.phase = .checkpointing(ticksLeft: left - 1)
            case .checkpointing:
                checkpoints[process.workload] = process.progress
                process.phase = .exited(ExitStatus(exit: 143))
            case .exited:
                continue
            }
            processes[id] = process
        }
        return completed
    }
}

// MARK: The agents

/// A site agent as ``SiteAgent/pollOnce(_:lastPower:)`` runs one, over its site's simulated machine and an
/// in-memory courier. Its ``SiteAgentState`` is written as JSON after every change, as the real agent writes
/// `agent-state.json`, and a restart reads it back and forgets everything else (the courier's transfers).
struct SimulatedAgent: Sendable {
    let site: String
    /// What the agent keeps in its state file.
    var saved = Data()
    var state = SiteAgentState()
    /// The courier's transfers, the ones it sends, and the tick each fetch may complete at.
    var transfers: [String: TransferProgress] = [:]
    var sending: Set<String> = []
    var fetchDue: [String: Int] = [:]
    /// Whether it cannot reach the control plane (nor its relay).
    var partitioned = false
    /// The site's power, sent with the next report that reaches the control plane.
    var power: PowerSignalBody?
    /// Whether its process dies in its next poll, after saving what it decided and before acting on it.
    var crashesMidPoll = false

    mutating func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        saved = try encoder.encode(state)
    }

    /// A new agent process in the same work directory: it reads the state file; the processes run on.
    mutating func restart() throws {
        state = saved.isEmpty ? SiteAgentState() : try JSONDecoder().decode(SiteAgentState.self, from: saved)
        transfers = [:]
        sending = []
        fetchDue = [:]
    }

    /// Its public keys as its reports carry them (the simulated courier signs and seals nothing).
    var keys: AgentKeys { AgentKeys(agreement: "agreement-\(site)", signing: "signing-\(site)") }
}

/// The relay between agents, in memory: what each source sent, by transfer. A parcel stands for the sealed
/// chunks (ciphertext for the destination's key), so the relay holds no readable byte; the moves it carried
/// are kept to compare with the ledger.
struct SimulatedRelay: Sendable {
    struct Parcel: Sendable, Hashable {
        let transfer: String
        let workload: String
        let from: String
        let to: String
        let progress: Int
        let bytes: Int64
        let manifest: String
    }

    var parcels: [String: Parcel] = [:]
    var carried: [Parcel] = []
}

// MARK: The fleet

/// Five sites in three jurisdictions, and datasets that may be processed in Kenya, in Kenya and Rwanda, or
/// in France; each site's grid carries three workloads of eight A100s, and every two sites are linked (the
/// planner moves a checkpoint only along a link).
enum SimulatedFleet {
    static let sites: [(name: String, jurisdiction: String)] = [
        ("nairobi-1", "KE"), ("mombasa-1", "KE"), ("kigali-1", "RW"), ("paris-1", "FR"), ("lyon-1", "FR"),
    ]

    /// What each dataset allows, written here apart from the code under test: the oracle.
    static let residency: [String: Set<String>] = [
        "ke-records": ["KE"], "eac-survey": ["KE", "RW"], "fr-health": ["FR"],
    ]

    /// The datasets a workload may read (none: it may run anywhere).
    static let datasetChoices: [[String]] = [
        ["ke-records"], ["eac-survey"], ["fr-health"], ["ke-records", "eac-survey"], [],
    ]

    static let capacityWatts = 10_000.0

    static func jurisdiction(of site: String) -> String { sites.first { $0.name == site }?.jurisdiction ?? "?" }

    /// The jurisdictions where a workload reading `datasets` may run and keep its checkpoint.
    static func allowed(_ datasets: [String]) -> Set<String> {
        datasets.reduce(Set(sites.map(\.jurisdiction))) { $0.intersection(residency[$1] ?? []) }
    }

    static var text: String {
        let siteDocuments = sites.map { site in
            let links = sites.filter { $0.name != site.name }.map { "{to: \($0.name), bandwidth: 10 Gbps}" }
            return """
                apiVersion: sovereign.dev/v1
                kind: Site
                metadata: {name: \(site.name)}
                spec:
                  jurisdiction: \(site.jurisdiction)
                  operator: {name: op-\(site.name), jurisdiction: \(site.jurisdiction)}
                  power:
                    grid: {capacity: 10 kW, carbonIntensity: 100 g/kWh}
                  cooling: {capacity: 40 kW, designAmbient: 32 C, ambient: 24 C, pue: {base: 1.25}}
                  pools:
                    - {name: a100, accelerator: nvidia-a100-80gb, count: 24, perNode: 8}
                  links: [\(links.joined(separator: ", "))]

                """
        }
        let datasets = """
            apiVersion: sovereign.dev/v1
            kind: Dataset
            metadata: {name: ke-records}
            spec: {size: 200 GB, site: nairobi-1, residency: [KE], classification: personal}
            ---
            apiVersion: sovereign.dev/v1
            kind: Dataset
            metadata: {name: eac-survey}
            spec: {size: 50 GB, site: kigali-1, residency: [KE, RW], classification: internal}
            ---
            apiVersion: sovereign.dev/v1
            kind: Dataset
            metadata: {name: fr-health}
            spec: {size: 80 GB, site: paris-1, residency: [FR], classification: sensitive}

            """
        return (siteDocuments + [datasets]).joined(separator: "---\n")
    }

    static func workload(_ name: String, datasets: [String], priority: Int, graceSeconds: Int) -> String {
        """
        apiVersion: sovereign.dev/v1
        kind: Workload
        metadata: {name: \(name)}
        spec:
          type: fine-tuning
          model: {parameters: 1B}
          datasets: [\(datasets.joined(separator: ", "))]
          compute: {flops: 1e18}
          accelerators: {min: 8, max: 8}
          priority: \(priority)
          preemptible: true
          run: {command: [python3, train.py], gracePeriod: \(graceSeconds) s, attempts: 20}

        """
    }
}

// MARK: The simulation

/// How one run disturbs its fleet.
struct SimulationSettings: Sendable {
    /// The agents' lease `L` and the seconds between two ticks (each agent polls once a tick).
    var leaseSeconds = 10.0
    var tickSeconds = 3.0
    /// The workloads' grace periods to draw from, and the ticks a process takes to checkpoint.
    var graceSeconds = [4, 8, 30, 60]
    var stopDelays = 0...8
    /// Ticks between a process's own checkpoints.
    var checkpointEvery = 3
    /// Ticks of disturbance, then most seconds for every workload to complete once all is healed.
    var disturbedTicks = 80
    var settlingSeconds = 900.0
    var workloads = 6

    /// Settings drawn from a run's generator: grace periods shorter and longer than the lease, processes
    /// that checkpoint at once or take up to eight ticks.
    static func drawn(_ random: inout SeededGenerator) -> SimulationSettings {
        var settings = SimulationSettings()
        settings.tickSeconds = [2.0, 3.0][Int.random(in: 0...1, using: &random)]
        settings.stopDelays = 0...Int.random(in: 0...8, using: &random)
        settings.checkpointEvery = Int.random(in: 2...4, using: &random)
        settings.workloads = Int.random(in: 5...8, using: &random)
        return settings
    }
}

/// A control plane (the harness: a real store and ledger, a fake clock) and one simulated agent per site, all
/// in process: every tick the sites' processes work, the agents poll (or, partitioned, do not), the courier
/// moves what the control plane orders, the control loop runs, and the invariants are checked against the
/// sites' machines, the ground truth.
///
/// The courier is simulated: a source puts a parcel in ``SimulatedRelay`` when an answer names the send and
/// its site holds the checkpoint, and the destination's fetch completes one to three ticks later, each side
/// passing the relay routes' own check (``ControlPlane/relayMove(_:site:sending:)``). A partitioned agent
/// reaches neither the control plane nor the relay.
struct AgentSimulation {
    let seed: UInt64
    let h: ControlFixtures.Harness
    var random: SeededGenerator
    let settings: SimulationSettings
    var tick = 0
    var machines: [String: SiteMachine] = [:]
    var agents: [String: SimulatedAgent] = [:]
    var relay = SimulatedRelay()
    /// Each submitted workload's work (ticks) and the jurisdictions its datasets allow.
    var work: [String: Int] = [:]
    var allowed: [String: Set<String>] = [:]
    var violations: [String] = []
    var counts: [String: Int] = [:]
    /// Each workload's completed processes, by attempt id, with the time each completed: the ground truth
    /// that the control plane's one counted completion is checked against.
    var completions: [String: [Int64: Double]] = [:]

    /// A run of `seed`, with `settings` or, by default, settings drawn from the seed.
    init(seed: UInt64, settings: SimulationSettings? = nil) throws {
        self.seed = seed
        random = SeededGenerator(seed: seed)
        self.settings = settings ?? .drawn(&random)
        let names = SimulatedFleet.sites.map(\.name)
        h = try ControlFixtures.harness(
            fleetText: SimulatedFleet.text,
            agentSites: Set(names),
            lease: .seconds(self.settings.leaseSeconds)
        )
        for name in names {
            machines[name] = SiteMachine(site: name)
            agents[name] = SimulatedAgent(site: name)
        }
    }

    var siteNames: [String] { SimulatedFleet.sites.map(\.name) }

    mutating func violation(_ text: String) { violations.append("seed \(seed), tick \(tick): \(text)") }

    mutating func draw(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

    /// Disturbs the fleet, then heals everything and waits for every workload to complete; stops at the first
    /// tick that breaks an invariant.
    mutating func run() async throws {
        for _ in 0..<settings.disturbedTicks where violations.isEmpty {
            try await step(disturbing: true)
        }
        guard violations.isEmpty else { return }
        try await healEverything()
        let deadline = tick + Int(settings.settlingSeconds / settings.tickSeconds)
        while violations.isEmpty, tick < deadline, try !allCompleted() {
            try await step(disturbing: false)
        }
        guard violations.isEmpty else { return }
        try checkLiveness()
        try await checkLedger()
        try checkCompletions()
    }

    /// One tick: disturbances, the processes' work, the courier's fetches, every agent's poll (in a random
    /// order), the control loop, the checks, and the clock.
    mutating func step(disturbing: Bool) async throws {
        // Each tick lets the other tests' tasks run: a simulation never suspends on its own, and 24 of them
        // would otherwise hold every thread of the test run's cooperative pool for minutes.
        await Task.yield()
        tick += 1
        if disturbing {
            for _ in 0..<2 { try await disturb() }
        }
        for site in siteNames {
            // Read out and written back: the machine is changed while the simulation's other fields are read.
            guard var machine = machines[site] else { continue }
            let completed = machine.tick(work: work, checkpointEvery: settings.checkpointEvery)
            machines[site] = machine
            counts["completions", default: 0] += completed.count
            for process in completed {
                completions[process.workload, default: [:]][process.attempt] = h.clock.read().timeIntervalSince1970
            }
        }
        try await deliverFetches()
        for site in siteNames.shuffled(using: &random) {
            try await poll(site)
            checkProcesses(after: "\(site)'s poll")
        }
        try await h.plane.reconcile()
        checkProcesses(after: "the control loop")
        checkCheckpoints()
        try checkStore()
        try await checkKeptView()
        h.clock.advance(settings.tickSeconds)
    }

    /// At most one random disturbance: a power change, a partition, a healed partition, an agent restart, or
    /// a new workload.
    mutating func disturb() async throws {
        let site = siteNames[draw(0...(siteNames.count - 1))]
        switch draw(0...99) {
        case 0..<12: try await changePower(site)
        case 12..<20:
            agents[site]?.partitioned = true
            counts["partitions", default: 0] += 1
        case 20..<34:
            agents[site]?.partitioned = false
        case 34..<37:
            try agents[site]?.restart()
            counts["restarts", default: 0] += 1
        case 37..<40:
            agents[site]?.crashesMidPoll = true
            counts["crashes mid-poll", default: 0] += 1
        case 40..<60 where work.count < settings.workloads: try await submit()
        default: break
        }
    }

    /// Sets a site's power to its capacity, to a third of it (one workload) or to nothing: reported by its
    /// agent with its next report that gets through, or by an external bridge (`PUT .../power`).
    mutating func changePower(_ site: String) async throws {
        let watts = [SimulatedFleet.capacityWatts, 3_500, 0][draw(0...2)]
        counts["power changes", default: 0] += 1
        if draw(0...1) == 0 {
            agents[site]?.power = PowerSignalBody(available: .watts(watts))
        } else {
            _ = try await h.plane.receivePower(
                site: site,
                available: .watts(watts),
                forecast: [],
                ambient: nil,
                by: ControlFixtures.requester
            )
        }
    }

    /// Submits a workload reading datasets, with a priority, a grace period and work drawn at random.
    mutating func submit() async throws {
        let datasets = SimulatedFleet.datasetChoices[draw(0...(SimulatedFleet.datasetChoices.count - 1))]
        let grace = settings.graceSeconds[draw(0...(settings.graceSeconds.count - 1))]
        try await submit("w\(work.count)", datasets: datasets, graceSeconds: grace)
    }

    mutating func submit(_ name: String, datasets: [String], graceSeconds grace: Int) async throws {
        _ = try await h.plane.submit(
            document: SimulatedFleet.workload(name, datasets: datasets, priority: draw(0...2), graceSeconds: grace),
            by: ControlFixtures.requester
        )
        work[name] = draw(10...30)
        allowed[name] = SimulatedFleet.allowed(datasets)
    }

    /// Heals every partition, forgets power reports not yet sent, and gives every site its full power.
    mutating func healEverything() async throws {
        for site in siteNames {
            agents[site]?.partitioned = false
            agents[site]?.power = nil
            _ = try await h.plane.receivePower(
                site: site,
                available: .watts(SimulatedFleet.capacityWatts),
                forecast: [],
                ambient: nil,
                by: ControlFixtures.requester
            )
        }
    }
}

// MARK: Polls, the courier, actions

extension AgentSimulation {
    /// One poll, as ``SiteAgent/pollOnce(_:lastPower:)`` makes it: observe, report, follow the answer (or, cut
    /// off past the lease, stop everything), save, act, save.
    mutating func poll(_ site: String) async throws {
        guard var agent = agents[site], var machine = machines[site] else { return }
        agent.state.observe(machine.observe(agent.state.unsettled))
        let now = h.clock.read().timeIntervalSince1970
        let actions: [AgentAction]
        if agent.partitioned {
            let since = agent.state.lastAnswer ?? now
            actions =
                now - since > agent.state.leaseSeconds
                ? agent.state.leaseLost(now: now) : agent.state.killOverdue(now: now)
        } else {
            var report = agent.state.report(agent: "sim", checkpoints: machine.checkpointBytes, power: agent.power)
            report.keys = agent.keys
            let answer = try await h.plane.agentPoll(site: site, report: report, by: ControlFixtures.requester)
            agent.power = nil
            try await send(answer.sends, agent: &agent, machine: machine)
            actions = agent.state.follow(answer, site: site, now: now, transfers: agent.transfers) { "\($0)/\($1)" }
        }
        try agent.save()
        if agent.crashesMidPoll {
            agent.crashesMidPoll = false
            try agent.restart()
            agents[site] = agent
            return
        }
        perform(actions, agent: &agent, machine: &machine)
        try agent.save()
        agents[site] = agent
        machines[site] = machine
    }

    /// The courier's sends: each one the answer names is packed from the site's checkpoint and put in the
    /// relay once (a site without the checkpoint fails and is asked again next poll); a send no longer named
    /// is forgotten.
    mutating func send(_ sends: [CheckpointSend], agent: inout SimulatedAgent, machine: SiteMachine) async throws {
        let named = Set(sends.map(\.transfer))
        for transfer in agent.sending where !named.contains(transfer) {
            agent.sending.remove(transfer)
            agent.transfers[transfer] = nil
        }
        for send in sends where agent.transfers[send.transfer] == nil {
            guard let progress = machine.checkpoints[send.workload] else { continue }
            _ = try await h.plane.relayMove(send.transfer, site: machine.site, sending: true)
            await checkMove(send, from: machine.site)
            let bytes = machine.checkpointBytes[send.workload] ?? 0
            let parcel = SimulatedRelay.Parcel(
                transfer: send.transfer,
                workload: send.workload,
                from: machine.site,
                to: send.to,
                progress: progress,
                bytes: bytes,
                manifest: Hex.encode(SHA256.hash(data: Data("\(send.transfer):\(progress)".utf8)))
            )
            relay.parcels[send.transfer] = parcel
            agent.sending.insert(send.transfer)
            agent.transfers[send.transfer] = .done(
                ReceivedCheckpoint(transfer: send.transfer, manifest: parcel.manifest, bytes: bytes)
            )
        }
    }

    /// Completes the fetches that are due and whose parcel is at the relay: the checkpoint is put in place at
    /// the destination. A parcel of a move the control plane no longer orders is pruned, as the relay prunes.
    mutating func deliverFetches() async throws {
        for site in siteNames {
            guard var agent = agents[site], !agent.partitioned else { continue }
            for (transfer, due) in agent.fetchDue.sorted(by: { $0.key < $1.key }) where due <= tick {
                guard agent.transfers[transfer] == .moving, let parcel = relay.parcels[transfer] else { continue }
                do {
                    _ = try await h.plane.relayMove(transfer, site: site, sending: false)
                } catch is ControlError {
                    relay.parcels[transfer] = nil
                    continue
                }
                machines[site]?.checkpoints[parcel.workload] = parcel.progress
                relay.carried.append(parcel)
                counts["moves", default: 0] += 1
                agent.fetchDue[transfer] = nil
                agent.transfers[transfer] = .done(
                    ReceivedCheckpoint(transfer: transfer, manifest: parcel.manifest, bytes: parcel.bytes)
                )
            }
            agents[site] = agent
        }
    }

    /// Starts, signals, fetches and cancels as the agent decided.
    mutating func perform(_ actions: [AgentAction], agent: inout SimulatedAgent, machine: inout SiteMachine) {
        for action in actions {
            switch action {
            case .start(let record, _):
                if let id = record.id, machine.processes[id] != nil {
                    violation("attempt \(id) of \(record.workload) was started a second time at \(machine.site)")
                }
                let handle = machine.start(record, stopDelay: draw(settings.stopDelays))
                agent.state.started(record, handle: handle)
            case .signal(let record, let signal):
                machine.signal(record.id, signal)
            case .fetch(let fetch, _):
                guard agent.transfers[fetch.transfer] == nil else { continue }
                agent.transfers[fetch.transfer] = .moving
                agent.fetchDue[fetch.transfer] = tick + draw(1...3)
            case .cancelFetch(let transfer):
                agent.transfers[transfer] = nil
                agent.fetchDue[transfer] = nil
            }
        }
    }
}

// MARK: The invariants

extension AgentSimulation {
    /// Invariants 1 and 2, from the machines: no process outside its workload's residency, and never two
    /// live processes of one workload, wherever they are.
    mutating func checkProcesses(after moment: String) {
        var running: [String: [String]] = [:]
        for site in siteNames {
            for process in machines[site]?.processes.values.sorted(by: { $0.attempt < $1.attempt }) ?? []
            where process.isAlive {
                let country = SimulatedFleet.jurisdiction(of: site)
                if allowed[process.workload]?.contains(country) != true {
                    violation(
                        "after \(moment), attempt \(process.attempt) of \(process.workload) runs at \(site) in "
                            + "\(country), outside \(allowed[process.workload]?.sorted() ?? [])"
                    )
                }
                running[process.workload, default: []].append("attempt \(process.attempt) at \(site)")
            }
        }
        for (workload, where_) in running.sorted(by: { $0.key < $1.key }) where where_.count > 1 {
            violation("after \(moment), \(workload) runs twice at once: \(where_.joined(separator: " and "))")
        }
    }

    /// Invariant 3, at rest: every copy of a checkpoint is at a site its residency allows.
    mutating func checkCheckpoints() {
        for site in siteNames {
            let country = SimulatedFleet.jurisdiction(of: site)
            for workload in machines[site]?.checkpoints.keys.sorted() ?? []
            where allowed[workload]?.contains(country) != true {
                violation("a checkpoint of \(workload) is at \(site) in \(country)")
            }
        }
    }

    /// Invariant 3, in motion: a send is a move between two sites the residency allows, through the relay.
    mutating func checkMove(_ send: CheckpointSend, from site: String) async {
        let countries = [site, send.to].map(SimulatedFleet.jurisdiction(of:))
        if !countries.allSatisfy({ allowed[send.workload]?.contains($0) == true }) {
            violation("the checkpoint of \(send.workload) is sent from \(site) to \(send.to) (\(countries))")
        }
        let fleet = await h.plane.fleet
        guard let spec = await h.plane.specs[send.workload], let source = fleet.site(named: site),
            let destination = fleet.site(named: send.to),
            case .success(let move) = CheckpointResidency.move(
                spec,
                from: source,
                to: destination,
                relayJurisdiction: nil,
                in: fleet
            ),
            move.route == .relay
        else {
            violation("the relay carries \(send.workload) from \(site) to \(send.to), a move residency refuses")
            return
        }
    }

    /// Invariant 2 as the store has it: at most one open attempt per workload.
    mutating func checkStore() throws {
        let open = Dictionary(grouping: try h.store.openAttempts(), by: \.workload)
        for (workload, attempts) in open.sorted(by: { $0.key < $1.key }) where attempts.count > 1 {
            violation("the store holds \(attempts.count) open attempts of \(workload)")
        }
    }

    /// Invariant 7: the view of the store the control plane keeps from pass to pass (``PassView``), applying its
    /// own commits instead of reading the store again, is the store as a full read finds it: a pass decides from
    /// the same workloads, attempts, power signals, attempt numbers and derivations as one that read it all.
    mutating func checkKeptView() async throws {
        let kept = try await h.plane.readView()
        let read = try PassView.read(from: h.store, commits: kept.commits ?? -1, ledger: kept.ledger)
        guard kept != read else { return }
        counts["kept views differing", default: 0] += 1
        violation(
            "the kept view differs from the store: workloads \(kept.workloads == read.workloads), attempts "
                + "\(kept.attempts == read.attempts), power \(kept.powerSignals == read.powerSignals), attempt numbers "
                + "\(kept.lastAttempts == read.lastAttempts), derivations \(kept.derivations == read.derivations)"
        )
    }

    /// Invariant 6: each workload's work is counted as completed once, by an attempt whose process did
    /// complete (reported late or not), and every process completed before any later attempt of its workload
    /// started (a completion hidden by a partition happened before the rerun, which it supersedes).
    mutating func checkCompletions() throws {
        let ledger = Dictionary(grouping: try CheckpointMoveTests.entries(h, "workload.completed")) {
            if case .string(let workload) = $0["workload"] { workload } else { "" }
        }
        for name in work.keys.sorted() {
            let attempts = try h.store.attempts(of: name)
            let counted = attempts.filter { $0.outcome == "completed" }
            let completed = completions[name] ?? [:]
            if counted.count != 1 || ledger[name]?.count != 1 {
                violation(
                    "\(name) is counted as completed \(counted.count) times (ledger: \(ledger[name]?.count ?? 0)); its "
                        + "processes completed \(completed.count) times"
                )
            }
            for attempt in counted where attempt.id.flatMap({ completed[$0] }) == nil {
                violation("\(name) is counted as completed by attempt \(attempt.number), whose process never completed")
            }
            for (id, at) in completed.sorted(by: { $0.key < $1.key }) {
                for later in attempts where later.id ?? 0 > id && later.startedAt < at {
                    violation("attempt \(later.number) of \(name) started before attempt id \(id) completed")
                }
            }
            if ledger[name]?.first?["reportedLate"] == .bool(true) { counts["late completions", default: 0] += 1 }
        }
    }

    func allCompleted() throws -> Bool {
        try work.keys.allSatisfy { try h.store.workload(named: $0)?.state == .completed }
    }

    /// Invariant 4: once all is healed, every workload completed.
    mutating func checkLiveness() throws {
        for name in work.keys.sorted() {
            let record = try h.store.workload(named: name)
            guard record?.state != .completed else { continue }
            violation(
                "\(name) has not completed \(Int(settings.settlingSeconds)) s after everything healed: "
                    + "\(record?.state.rawValue ?? "missing"), \(record?.detail ?? "")"
            )
        }
    }

    /// Invariant 5: the ledger verifies, and each `checkpoint.moved` entry is a move the relay carried,
    /// between sites in the workload's residency.
    mutating func checkLedger() async throws {
        _ = try await h.plane.signCheckpoint(force: true)
        var entries: [StoredEntry] = []
        try h.store.forEachLedgerEntry { entries.append($0) }
        let audit = LedgerAudit.audit(
            entries: entries,
            checkpoints: try h.store.checkpoints(),
            verifier: try NoteVerifier(verifierKey: h.signer.verifierKey)
        )
        if !audit.ok { violation("the ledger does not verify: \(audit.problems)") }
        for fields in try CheckpointMoveTests.entries(h, "checkpoint.moved") {
            guard case .string(let workload) = fields["workload"], case .string(let from) = fields["from"],
                case .string(let to) = fields["to"], case .string(let manifest) = fields["manifestSHA256"]
            else {
                violation("a checkpoint.moved entry without its workload, sites or manifest: \(fields)")
                continue
            }
            let countries = [from, to].map(SimulatedFleet.jurisdiction(of:))
            if !countries.allSatisfy({ allowed[workload]?.contains($0) == true }) {
                violation("the ledger records \(workload)'s checkpoint moved from \(from) to \(to) (\(countries))")
            }
            let carried = relay.carried.contains {
                $0.workload == workload && $0.from == from && $0.to == to && $0.manifest == manifest
            }
            if !carried { violation("the ledger records a move of \(workload) from \(from) to \(to) nobody made") }
        }
    }
}

/// Site agents, partitions, agent restarts and power cuts, simulated over many seeds: residency holds for
/// every process and every checkpoint copy, no workload ever runs twice at once, every workload completes once
/// all is healed, and the ledger verifies.
struct SiteAgentPropertyTests {
    @Test(arguments: 0..<24)
    func agentsKeepEveryInvariantThroughPartitionsRestartsAndPowerCuts(seed: UInt64) async throws {
        var simulation = try AgentSimulation(seed: seed)
        try await simulation.run()
        #expect(simulation.violations.isEmpty, "\(simulation.violations.prefix(5).joined(separator: "\n"))")
    }

    /// Found by the simulation (seed 3, then any seed once grace periods reach the lease): an agent cut off
    /// past its lease asks its work to stop, and work that takes longer to checkpoint than its grace period
    /// allows ran on past `2L`, when the control plane started it at another site. Now it is killed half a
    /// lease after the lease ran out, whatever its grace period.
    @Test func workSlowToCheckpointIsKilledBeforeTheControlPlaneStartsItElsewhere() async throws {
        var settings = SimulationSettings()
        settings.graceSeconds = [60]
        settings.stopDelays = 100...100
        var simulation = try AgentSimulation(seed: 3, settings: settings)
        try await simulation.submit("w0", datasets: ["ke-records"], graceSeconds: 60)
        for _ in 0..<2 { try await simulation.step(disturbing: false) }
        let first = try #require(try simulation.h.store.workload(named: "w0")?.site)
        #expect(simulation.machines[first]?.processes.values.first?.phase == .working)
        simulation.agents[first]?.partitioned = true
        for _ in 0..<12 { try await simulation.step(disturbing: false) }
        #expect(simulation.violations.isEmpty, "\(simulation.violations.prefix(3).joined(separator: "\n"))")
        let moved = try #require(try simulation.h.store.workload(named: "w0")?.site)
        #expect(moved != first, "the control plane started the work elsewhere after 2L")
        let left = simulation.machines[first]?.processes.values.first { $0.workload == "w0" }
        #expect(left?.phase == .exited(ExitStatus(signal: 9)), "the cut-off agent killed it")
    }

    /// Found by the simulation (177 completions for 156 workloads): work that completed at a site cut off
    /// from the control plane was taken as lost after 2L and ran again, and the exit 0 its agent reported
    /// once back in touch was ignored. Now that report completes the workload, once, and the rerun is
    /// cancelled as superseded.
    @Test func aCompletionHiddenByAPartitionCompletesTheWorkloadOnceAndCancelsTheRerun() async throws {
        var settings = SimulationSettings()
        settings.stopDelays = 0...0
        var simulation = try AgentSimulation(seed: 5, settings: settings)
        try await simulation.submit("w0", datasets: ["ke-records"], graceSeconds: 8)
        simulation.work["w0"] = 3
        for _ in 0..<2 { try await simulation.step(disturbing: false) }
        let first = try #require(try simulation.h.store.workload(named: "w0")?.site)
        simulation.agents[first]?.partitioned = true
        var rerun: SimulatedProcess?
        for _ in 0..<20 where rerun == nil {
            try await simulation.step(disturbing: false)
            rerun = simulation.machines.values.filter { $0.site != first }.flatMap(\.processes.values).first
        }
        let cutOff = simulation.machines[first]?.processes.values.first
        #expect(cutOff?.phase == .exited(ExitStatus(exit: 0)), "the work completed while its site was cut off")
        let second = try #require(rerun, "the control plane ran the work again after 2L")
        #expect(try simulation.h.store.attempts(of: "w0").map(\.outcome) == ["lost", nil])

        simulation.agents[first]?.partitioned = false
        for _ in 0..<3 { try await simulation.step(disturbing: false) }
        #expect(simulation.violations.isEmpty, "\(simulation.violations.prefix(3).joined(separator: "\n"))")
        #expect(try simulation.h.store.workload(named: "w0")?.state == .completed)
        #expect(try simulation.h.store.attempts(of: "w0").map(\.outcome) == ["completed", "superseded"])
        let history = try simulation.h.store.transitions(of: "w0").last?.reason ?? ""
        #expect(history.hasPrefix("completed at \(first) by attempt 1, reported late"), "\(history)")
        let rerunSite = try #require(simulation.machines.values.first { $0.processes[second.attempt] != nil })
        #expect(history.hasSuffix("attempt 2 at \(rerunSite.site), which ran it again, is cancelled"), "\(history)")
        #expect(rerunSite.processes[second.attempt]?.isAlive == false, "the superseded rerun was stopped")
        let completed = try CheckpointMoveTests.entries(simulation.h, "workload.completed")
        #expect(completed.count == 1)
        #expect(completed.first?["reportedLate"] == .bool(true))
        #expect(completed.first?["supersededAttempt"] == .number(2))
        #expect(completed.first?["overlappedAttempt"] == nil, "it completed before the rerun started")
        try simulation.checkCompletions()
        #expect(simulation.violations.isEmpty, "\(simulation.violations.prefix(3).joined(separator: "\n"))")
    }
}
