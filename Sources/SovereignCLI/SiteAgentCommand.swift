import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SovereignCheckpoint
import SovereignModel
import SovereignServer

/// `sovereign site-agent`: runs a site's work where the site is, for a control plane elsewhere.
struct SiteAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site-agent",
        abstract: "Run a site's workloads at the site, as the control plane assigns them.",
        discussion: """
            The agent polls the control plane (a `sovereign serve` started with --site-agents SITE) about once a \
            --poll: it reports every attempt it runs, its checkpoints and, with --power-file or --power-command, \
            the site's power; the answer says what should run. It never accepts a connection. Work runs as local \
            processes under --work-dir (checkpoints in WORKDIR/workloads/NAME/checkpoint); with --executor slurm \
            as Slurm batch jobs submitted from this login node (WORKDIR must then be on the filesystem the compute \
            nodes share; jobs start in the agent's current directory); with --executor kubernetes as a Job per \
            attempt in --namespace (checkpoints in a claim per workload). If the control plane \
            cannot be reached for the lease it gives (serve --agent-lease), the agent checkpoints and stops its \
            work itself; the control plane moves the work only after twice the lease. A restarted agent adopts \
            what it left running. The token is the site's (`TOKEN site SITE`), from --token, --token-file or \
            $SOVEREIGN_TOKEN. The power source prints or holds a power signal: JSON as PUT \
            /v1/sites/{site}/power takes ({"available": "120 kW", "forecast": [...], "ambient": "31 C"}), or \
            just a power like "120 kW".
            """
    )

    @Option(help: "The site this agent runs work for.")
    var site: String

    @Option(name: .customLong("control-plane"), help: "The control plane, like https://control.example:8443.")
    var controlPlane: String

    @OptionGroup(title: "Token")
    var credentials: SiteTokenOptions

    @OptionGroup(title: "TLS")
    var tls: ClientTLSOptions

    @Option(name: .customLong("work-dir"), help: "Where the site's workloads keep checkpoints, logs and locks.")
    var workDirectory: String

    @Option(name: .customLong("power-file"), help: "A file holding the site's power signal, read at every poll.")
    var powerFile: String?

    @Option(name: .customLong("power-command"), help: "A shell command printing the site's power signal.")
    var powerCommand: String?

    @Option(help: "Time between two polls, like \"1 s\" (and between two looks at the site while a poll is held).")
    var poll = "1 s"

    @OptionGroup(title: "Executor")
    var executorOptions: ExecutorOptions

    @Option(
        name: .customLong("long-poll"),
        help:
            "How long the control plane may hold a poll while nothing changes for the site (20 s by default; 0 s: never; it holds at most a quarter of its lease)."
    )
    var longPoll = "20 s"

    @Option(
        name: .customLong("peer-listen"),
        help: "HOST:PORT to serve checkpoints that travel directly to other agents (checkpointTransit: direct)."
    )
    var peerListen: String?

    @Option(
        name: .customLong("peer-url"),
        help: "The URL other agents reach --peer-listen at (default http://HOST:PORT)."
    )
    var peerURL: String?

    @OptionGroup(title: "Kubernetes executor")
    var kubernetes: KubernetesExecutorOptions

    func run() async throws {
        let interval = try validatedPoll()
        let secret: String? = try tls.presentsCertificate ? credentials.optionalToken() : credentials.readToken()
        // Read once: nothing the agent starts (the site's work, its power command, Slurm's commands) inherits it.
        unsetenv("SOVEREIGN_TOKEN")
        let directory = URL(fileURLWithPath: workDirectory, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let base = controlPlane.hasSuffix("/") ? String(controlPlane.dropLast()) : controlPlane
        let listen = try peerListen.map { try Serve.address($0, option: "--peer-listen") }
        try await withSiteExecutor { executor in
            try await tls.withClient(for: base, failFast: true) { client in
                let agent = try agent(
                    base: base,
                    token: secret,
                    client: client,
                    directory: directory,
                    listen: listen,
                    executor: executor
                )
                try await serve(agent, listen: listen, every: interval)
            }
        }
    }

    /// The poll interval in seconds, once the options are checked.
    func validatedPoll() throws -> Double {
        guard SpecNames.isObjectName(site) else {
            printError("--site: expected a site name like \"nairobi-1\", found \"\(site)\"")
            throw ExitCode.validationFailure
        }
        guard let interval = TimeSpan.parse(poll), interval.seconds >= 0.05, interval.seconds <= 60 else {
            printError("--poll: expected a time between 50 ms and 1 min like \"1 s\", found \"\(poll)\"")
            throw ExitCode.validationFailure
        }
        guard TimeSpan.parse(longPoll).map({ (0...60).contains($0.seconds) }) == true else {
            printError(
                "--long-poll: expected a time between 0 s and 1 min like \"20 s\", found \"\(longPoll.prefix(40))\""
            )
            throw ExitCode.validationFailure
        }
        if powerFile != nil && powerCommand != nil {
            printError("--power-command: expected one power source, found --power-file as well")
            throw ExitCode.validationFailure
        }
        if let problem = executorOptions.problem {
            printError(problem)
            throw ExitCode.validationFailure
        }
        return interval.seconds
    }

    /// The agent, reaching the control plane at `base` (its polls and its relay) and other agents' peer
    /// listeners through `client`.
    func agent(
        base: String,
        token: String?,
        client: HTTPClient,
        directory: URL,
        listen: (host: String, port: Int)?,
        executor: (any Executor)? = nil
    ) throws -> SiteAgent {
        let url = "\(base)/v1/sites/\(site)/agent"
        return try SiteAgent(
            site: site,
            directory: directory,
            transport: { report, timeout in
                try await Self.post(report, to: url, token: token, client: client, timeout: timeout)
            },
            relay: RelayClient(base: base, token: token, client: client).transport,
            peer: peerURL ?? listen.map { "http://\($0.host):\($0.port)" },
            peerTransport: { url, secret in RelayClient(base: url, token: secret, client: client).transport },
            power: powerSource(),
            executor: executor,
            say: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        )
    }

    /// Polls, and with `--peer-listen` serves its checkpoints to other agents beside it, until stopped.
    func serve(_ agent: SiteAgent, listen: (host: String, port: Int)?, every interval: Double) async throws {
        guard let listen else { return try await loop(agent, every: interval) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await PeerListener.run(agent.courier, host: listen.host, port: listen.port) { port in
                    FileHandle.standardOutput.write(Data("\(site): serving peers on \(listen.host):\(port)\n".utf8))
                }
            }
            group.addTask { try await loop(agent, every: interval) }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Polls until the process is stopped.
    func loop(_ agent: SiteAgent, every interval: Double) async throws {
        var state: SiteAgentState
        do {
            state = try agent.loadState()
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        FileHandle.standardOutput.write(
            Data("\(site): site agent polling \(controlPlane) (\(state.attempts.count) attempts adopted)\n".utf8)
        )
        var power: PowerReading?
        let hold = TimeSpan.parse(longPoll)?.seconds ?? 0
        while !Task.isCancelled {
            let started = ContinuousClock.now
            _ = try await agent.pollOnce(&state, lastPower: &power, hold: hold, watch: interval)
            // At most one poll per interval: a held poll that returns has waited already.
            let rest = Duration.seconds(interval) - (ContinuousClock.now - started)
            if rest > .zero { try await Task.sleep(for: rest) }
        }
    }

    /// The site's power source, when one is given.
    func powerSource() -> (@Sendable () throws -> PowerSignalBody)? {
        if let powerFile {
            return {
                guard let data = FileManager.default.contents(atPath: powerFile) else {
                    throw SiteAgentFailure("\(powerFile): expected a readable power signal file, found none")
                }
                return try Self.powerSignal(data, source: powerFile)
            }
        }
        if let powerCommand {
            return { try Self.powerSignal(try Self.output(of: powerCommand), source: "--power-command") }
        }
        return nil
    }

    /// A power signal from JSON (as `PUT /v1/sites/{site}/power` takes it) or a bare power like "120 kW".
    static func powerSignal(_ data: Data, source: String) throws -> PowerSignalBody {
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.hasPrefix("{") {
            guard let power = Power.parse(text), power.watts.isFinite, power.watts >= 0 else {
                throw SiteAgentFailure(
                    "\(source): expected a power signal (JSON) or \(Power.expectation), found \"\(text.prefix(80))\""
                )
            }
            return PowerSignalBody(available: power)
        }
        do {
            return try JSONDecoder().decode(PowerSignalBody.self, from: Data(text.utf8))
        } catch {
            throw SiteAgentFailure("\(source): expected a power signal like {\"available\": \"120 kW\"}: \(error)")
        }
    }

    /// What a shell command prints, within ten seconds (with the agent's environment, from which the site's
    /// token is gone).
    static func output(of command: String) throws -> Data {
        let ran = BoundedCommand(
            ["/bin/sh", "-c", command],
            environment: ProcessInfo.processInfo.environment,
            timeout: 10
        )
        let outcome: BoundedCommand.Outcome
        do throws(BoundedCommand.Failure) {
            outcome = try ran.run()
        } catch {
            throw SiteAgentFailure("--power-command: expected an answer within 10 s, found none (\(error.problem))")
        }
        guard outcome.succeeded else {
            let said = String(decoding: outcome.errors.suffix(300), as: UTF8.self)
            throw SiteAgentFailure("--power-command: expected exit status 0, found that it \(outcome.ending): \(said)")
        }
        return outcome.output
    }

    /// Sends a report; a 4xx is a refusal that says why, anything else that fails is retried at the next poll.
    static func post(
        _ report: AgentReport,
        to url: String,
        token: String?,
        client: HTTPClient,
        timeout: Double
    ) async throws
        -> AgentAssignments
    {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(report)))
        let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else {
            throw SiteAgentFailure("POST \(url): \(response.status.code) \(String(buffer: body).prefix(500))")
        }
        return try JSONDecoder().decode(AgentAssignments.self, from: Data(body.readableBytesView))
    }
}

/// A power source or a control plane that did not give the agent what it expected: which, and what it gave.
struct SiteAgentFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The control plane's checkpoint relay over HTTP: `PUT` and `GET` of `/v1/transfers/{transfer}/offer` and
/// `/v1/transfers/{transfer}/chunks/{chunk}`, with the site's token. A 404 on a `GET` means "not sent yet".
struct RelayClient: Sendable {
    let base: String
    let token: String?
    let client: HTTPClient

    /// Seconds one relay request may take (a chunk is 1 MiB).
    static let timeout: Int64 = 60

    var transport: RelayTransport {
        RelayTransport(
            putOffer: { transfer, offer in
                _ = try await request(.PUT, "\(transfer)/offer", body: try JSONEncoder().encode(offer), json: true)
            },
            putChunk: { transfer, index, sealed in
                _ = try await request(.PUT, "\(transfer)/chunks/\(index)", body: sealed, json: false)
            },
            offer: { transfer in
                let body = try await request(.GET, "\(transfer)/offer")
                return try body.map { try JSONDecoder().decode(SignedOffer.self, from: $0) }
            },
            chunk: { transfer, index in try await request(.GET, "\(transfer)/chunks/\(index)") }
        )
    }

    /// One request: the body of a 2xx, `nil` for a 404 on a `GET`, else an error with what the server said.
    func request(_ method: HTTPMethod, _ path: String, body: Data? = nil, json: Bool = false) async throws -> Data? {
        let url = "\(base)/v1/transfers/\(path)"
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: json ? "application/json" : "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: .seconds(Self.timeout))
        let answer = try await response.body.collect(upTo: SignedOffer.maximumSize + (64 << 20))
        if method == .GET && response.status == .notFound { return nil }
        guard (200..<300).contains(response.status.code) else {
            throw SiteAgentFailure("\(method) \(url): \(response.status.code) \(String(buffer: answer).prefix(500))")
        }
        return Data(answer.readableBytesView)
    }
}

/// Which executor runs the site's attempts, and its options.
struct ExecutorOptions: ParsableArguments {
    /// The kinds of executor a site agent can drive.
    enum Kind: String, ExpressibleByArgument, CaseIterable, Sendable {
        /// Local processes under the work directory.
        case local
        /// Slurm batch jobs submitted from this login node.
        case slurm
        /// Kubernetes Jobs in the agent's namespace (with the Kubernetes options).
        case kubernetes
    }

    @Option(
        name: .customLong("executor"),
        help: "How the site runs work: local processes, Slurm jobs, or Kubernetes Jobs (with the options below)."
    )
    var kind: Kind = .local

    @Option(help: "Slurm: the partition jobs are submitted to (sbatch --partition).")
    var partition: String?

    @Option(help: "Slurm: the account jobs are charged to (sbatch --account).")
    var account: String?

    @Option(help: "Slurm: the generic resource accelerators are asked as, like gpu or gpu:h100 (--gres=GRES:N).")
    var gres = "gpu"

    @Option(name: .customLong("slurm-conf"), help: "Slurm: the slurm.conf its commands read (sets SLURM_CONF).")
    var slurmConf: String?

    /// What is wrong with the options, in words, when something is.
    var problem: String? {
        let slurmOnly = [("--partition", partition), ("--account", account), ("--slurm-conf", slurmConf)]
        if kind != .slurm, let given = slurmOnly.first(where: { $0.1 != nil }) {
            return "\(given.0): expected only with --executor slurm, found --executor \(kind.rawValue)"
        }
        if let slurmConf, !FileManager.default.isReadableFile(atPath: slurmConf) {
            return "--slurm-conf: expected a readable slurm.conf, found none at \(slurmConf)"
        }
        let word = /[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?/
        if (try? word.wholeMatch(in: gres)) == nil {
            return "--gres: expected a generic resource like gpu or gpu:h100, found \"\(gres)\""
        }
        return nil
    }

    /// The Slurm executor for the agent's workloads directory, when `--executor slurm` asks for it (the
    /// agent makes its own local one, and `withSiteExecutor` the Kubernetes one with its client).
    func slurmExecutor(site: String, workloads: URL) -> SlurmExecutor? {
        switch kind {
        case .local, .kubernetes:
            return nil
        case .slurm:
            let options = SlurmOptions(
                partition: partition,
                account: account,
                gres: gres,
                workingDirectory: FileManager.default.currentDirectoryPath
            )
            let commands = SlurmCommands.system(slurmConf: slurmConf)
            return SlurmExecutor(
                directory: workloads,
                options: options,
                commands: commands,
                say: { line in FileHandle.standardOutput.write(Data("\(site): \(line)\n".utf8)) }
            )
        }
    }
}
