import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SovereignFederation
import SovereignModel

#if canImport(Glibc)
import Glibc
#endif

/// `sovereign agent`: a federated site's agent.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Train a federated workload's model at this site; only model updates leave it.",
        discussion: """
            The agent polls the coordinator (a running `sovereign serve`) for its site's steps: it never \
            accepts a connection, so a site behind a firewall needs only outbound HTTP(S). It trains on --data \
            (a numeric CSV, plain or gzip, label in the last column unless --label-column says otherwise) with \
            the built-in trainer, or runs --trainer-command (see Examples/federated/README.md for the contract), \
            and sends back the update, clipped, noised and masked as the workload asks. The token is the \
            site's (`TOKEN site SITE` in the server's tokens file), from --token, --token-file or \
            $SOVEREIGN_TOKEN; it is never printed. Over https the server is verified against --ca (else the \
            system's trust store); with --client-cert/--client-key (a certificate naming sovereign://site/SITE, \
            signed by the server's --client-ca) no token is needed.
            """
    )

    @Option(help: "The site this agent trains for.")
    var site: String

    @Option(help: "The coordinator, like https://coordinator.example:8443.")
    var coordinator: String

    @OptionGroup(title: "TLS")
    var tls: ClientTLSOptions

    @OptionGroup(title: "Token")
    var credentials: SiteTokenOptions

    @Option(help: "The site's training data (CSV, plain or gzip). It never leaves this machine.")
    var data: String

    @Option(name: .customLong("label-column"), help: "0-based column of the label (default: the last).")
    var labelColumn: Int?

    @Option(help: "Longest wait between two polls when there is nothing to do, like \"1 s\".")
    var poll = "1 s"

    @Option(
        name: .customLong("exit-after-idle"),
        help: "Exit once there was nothing to do for this long, like \"30 s\"."
    )
    var exitAfterIdle: String?

    @Option(name: .customLong("record-outgoing"), help: .hidden)
    var recordOutgoing: String?

    /// Fault injection for tests: `PHASE:ROUND` makes the agent SIGKILL itself right after that step, so
    /// a test can drop a site at an exact point of the protocol.
    @Option(name: .customLong("kill-self-after"), help: .hidden)
    var killSelfAfter: String?

    @Option(
        name: .customLong("trainer-command"),
        parsing: .remaining,
        help: "Train with this program and its arguments instead of the built-in trainer (must come last)."
    )
    var trainerCommand: [String] = []

    func run() async throws {
        guard let pollSpan = TimeSpan.parse(poll), pollSpan.seconds > 0 else {
            printError("--poll: expected a time like \"1 s\", found \"\(poll)\"")
            throw ExitCode.validationFailure
        }
        var idleLimit: Double?
        if let exitAfterIdle {
            guard let span = TimeSpan.parse(exitAfterIdle), span.seconds > 0 else {
                printError("--exit-after-idle: expected a time like \"30 s\", found \"\(exitAfterIdle)\"")
                throw ExitCode.validationFailure
            }
            idleLimit = span.seconds
        }
        let secret: String? = try tls.presentsCertificate ? credentials.optionalToken() : credentials.readToken()
        var options = TrainingData.LoadOptions()
        if let labelColumn { options.labelColumn = .index(labelColumn) }
        let trainer: any SiteTrainer
        if trainerCommand.isEmpty {
            let loaded: TrainingData
            do {
                loaded = try TrainingData.load(contentsOf: URL(fileURLWithPath: data), options: options)
            } catch {
                printError("error: \(error)")
                throw ExitCode.failure
            }
            trainer = BuiltInSiteTrainer(data: loaded)
            say("\(site): \(loaded.count) examples, \(loaded.featureCount) features in \(data)")
        } else {
            guard FileManager.default.isReadableFile(atPath: data) else {
                printError("\(data): error: expected a readable data file, found none")
                throw ExitCode.failure
            }
            trainer = ExternalSiteTrainer(command: trainerCommand, data: data)
        }
        let base = coordinator.hasSuffix("/") ? String(coordinator.dropLast()) : coordinator
        try await tls.withClient(for: base) { client in
            let transport = HTTPFederationTransport(
                base: base,
                token: secret,
                client: client,
                recordPath: recordOutgoing
            )
            let agent = FederationAgent(
                site: site,
                transport: transport,
                trainer: trainer,
                random: SystemRandomNumberGenerator()
            )
            try await poll(agent, every: pollSpan.seconds, idleLimit: idleLimit)
        }
    }

    /// Polls until idle for `idleLimit` (or forever), printing the agent's events.
    func poll(_ agent: FederationAgent, every interval: Double, idleLimit: Double?) async throws {
        var idleSince = Date()
        var shown = 0
        var failures = 0
        while !Task.isCancelled {
            var wait = interval
            do {
                let next = try await agent.pollOnce()
                failures = 0
                if next == 0 { idleSince = Date() }
                wait = min(max(next, 0.05), interval)
            } catch let error as FederationError where error.code == .refused {
                printError("\(site): the coordinator refused: \(error)")
                throw ExitCode.failure
            } catch {
                failures += 1
                // The coordinator may be restarting: back off, keep the site's state, try again.
                wait = min(30, interval * Double(1 << min(failures, 5)))
                if failures == 1 || failures % 10 == 0 { printError("\(site): cannot reach the coordinator: \(error)") }
            }
            let events = await agent.events
            for line in events.dropFirst(shown) { say("\(site): \(line)") }
            shown = events.count
            if let killSelfAfter {
                let parts = killSelfAfter.split(separator: ":")
                if parts.count == 2, let round = Int(parts[1]),
                    await agent.steps.contains(where: { $0.phase.rawValue == parts[0] && $0.round == round })
                {
                    say("\(site): killing itself after \(killSelfAfter)")
                    kill(getpid(), SIGKILL)
                }
            }
            if let idleLimit, Date().timeIntervalSince(idleSince) >= idleLimit {
                if failures > 0 {
                    printError("\(site): could not reach the coordinator for \(Int(idleLimit)) s; exiting")
                    throw ExitCode.failure
                }
                say("\(site): nothing to do for \(Int(idleLimit)) s; exiting")
                return
            }
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        }
    }

    func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

}

/// The agent's side of the protocol over HTTP(S) (AsyncHTTPClient): every request carries the site's bearer
/// token, or none when the client certificate speaks for the site; a 4xx answer is a refusal, anything else
/// that fails is worth retrying.
struct HTTPFederationTransport: FederationTransport {
    let base: String
    let token: String?
    let client: HTTPClient
    /// When set, every request body sent is appended here (for the test that no data row ever leaves).
    let recordPath: String?

    func tasks() async throws -> FederationTaskList {
        let body = try await call(.GET, "/v1/federation/tasks", body: nil, limit: 16 << 20)
        return try JSONDecoder().decode(FederationTaskList.self, from: Data(body))
    }

    func model(workload: String) async throws -> [UInt8] {
        try await call(.GET, "/v1/federation/workloads/\(Self.escape(workload))/model", body: nil, limit: 1 << 31)
    }

    func uploadChunk(workload: String, round: Int, attempt: Int, index: Int, bytes: ArraySlice<UInt8>) async throws {
        _ = try await call(
            .PUT,
            "\(Self.roundPath(workload, round, attempt))/update/\(index)",
            body: Array(bytes),
            limit: 1 << 16
        )
    }

    func commitUpdate(workload: String, round: Int, attempt: Int, _ commit: UpdateCommit) async throws {
        let body = try JSONEncoder().encode(commit)
        _ = try await call(
            .POST,
            "\(Self.roundPath(workload, round, attempt))/update",
            body: Array(body),
            limit: 1 << 16
        )
    }

    func send(_ message: SecureMessage, workload: String, round: Int, attempt: Int) async throws {
        let body = try JSONEncoder().encode(message)
        _ = try await call(
            .POST,
            "\(Self.roundPath(workload, round, attempt))/secure",
            body: Array(body),
            limit: 1 << 16
        )
    }

    static func roundPath(_ workload: String, _ round: Int, _ attempt: Int) -> String {
        "/v1/federation/workloads/\(escape(workload))/rounds/\(round)/attempts/\(attempt)"
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
            ?? s
    }

    private func call(_ method: HTTPMethod, _ path: String, body: [UInt8]?, limit: Int) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(
                name: "Content-Type",
                value: method == .PUT ? "application/octet-stream" : "application/json"
            )
            request.body = .bytes(ByteBuffer(bytes: body))
            if let recordPath { Self.append(body, to: recordPath) }
        }
        let response = try await client.execute(request, timeout: .seconds(120))
        let answer = try await response.body.collect(upTo: limit)
        let code = Int(response.status.code)
        if (200..<300).contains(code) { return Array(answer.readableBytesView) }
        let text = String(buffer: answer)
        if (400..<500).contains(code) {
            throw FederationError(.refused, "\(method) \(path): \(code) \(text.prefix(500))")
        }
        throw TransportError(message: "\(method) \(path): \(code) \(text.prefix(500))")
    }

    struct TransportError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func append(_ bytes: [UInt8], to path: String) {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
        try? handle.close()
    }
}

/// A site's own training program (a PyTorch script, say), run once per round under the contract in
/// Examples/federated/README.md: the global model goes in as safetensors, the local model comes back as
/// safetensors with `__metadata__.examples`.
struct ExternalSiteTrainer: SiteTrainer {
    let command: [String]
    let data: String

    func train(global: ModelWeights, task: FederationTask) async throws -> (local: ModelWeights, examples: Int) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sovereign-agent-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("global.safetensors")
        let output = folder.appendingPathComponent("local.safetensors")
        try Safetensors.write(global, metadata: ["workload": task.workload, "round": "\(task.round)"], to: input.path)
        let local = task.trainer.local
        var environment = ProcessInfo.processInfo.environment
        environment["SOVEREIGN_FL_GLOBAL_MODEL"] = input.path
        environment["SOVEREIGN_FL_LOCAL_MODEL"] = output.path
        environment["SOVEREIGN_FL_DATA"] = data
        environment["SOVEREIGN_FL_ROUND"] = "\(task.round)"
        environment["SOVEREIGN_FL_EPOCHS"] = "\(local.epochs)"
        environment["SOVEREIGN_FL_BATCH_SIZE"] = "\(local.batchSize)"
        environment["SOVEREIGN_FL_LEARNING_RATE"] = "\(local.learningRate)"
        environment["SOVEREIGN_FL_PROXIMAL_MU"] = "\(local.proximalMu)"
        environment["SOVEREIGN_FL_SEED"] = "\(task.trainingSeed)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.standardError
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let tail = String(decoding: stderr.suffix(2000), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw FederationError(
                .trainingData,
                "the trainer \(command.joined(separator: " ")) exited with \(process.terminationStatus): \(tail)"
            )
        }
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(path: output.path)
        } catch {
            throw FederationError(
                .incompatibleUpdate,
                "the trainer wrote no usable \(output.lastPathComponent): \(error)"
            )
        }
        guard let text = file.metadata["examples"], let examples = Int(text), examples >= 1 else {
            throw FederationError(
                .incompatibleUpdate,
                "expected __metadata__.examples (a count ≥ 1) in the trainer's output, found \(file.metadata["examples"].map { "\"\($0)\"" } ?? "none")"
            )
        }
        return (try file.modelWeights(matching: global), examples)
    }
}
