import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import NIOHTTP1
import NIOSSL
import SovereignTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sovereign serve` end to end: the real binary, the real example workload (a Python training loop),
/// power signals through `sovereign power replay`, the ledger verified and tampered with, and a server
/// killed with SIGKILL in the middle of everything.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ServeTests {
    /// A running `sovereign serve`.
    final class Server: Sendable {
        let process: Process
        let url: String
        let token: String
        let db: String
        /// Where the server's log goes (`FILES.server.log`): beside an SQLite `db`, or named for a replica.
        let files: String
        /// The tokens file the server reads.
        let tokens: String
        let output: Mutex<String>
        /// The CA that signed the server's certificate, when it serves HTTPS.
        let ca: String?

        init(
            db: String,
            tick: String = "200 ms",
            specs: [String] = ["Examples/east-africa"],
            tokens: String? = nil,
            options: [String] = [],
            ca: String? = nil,
            files: String? = nil
        ) throws {
            self.db = db
            self.files = files ?? db
            self.tokens = tokens ?? db + ".tokens"
            self.ca = ca
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLITests.binary)
            process.arguments =
                ["serve"] + specs + ["--db", db, "--listen", "127.0.0.1:0", "--tick", tick]
                + (tokens.map { ["--tokens", $0] } ?? []) + options
            process.currentDirectoryURL = Fixtures.repositoryRoot
            let out = Pipe()
            process.standardOutput = out
            // Every server on this database appends its log here, for the message of a failed wait.
            let log = open(self.files + ".server.log", O_WRONLY | O_CREAT | O_APPEND, 0o600)
            guard log >= 0 else { throw ServeError(message: "cannot open \(self.files).server.log") }
            process.standardError = FileHandle(fileDescriptor: log, closeOnDealloc: true)
            try process.run()
            self.process = process
            // The first line says where it listens.
            var line = Data()
            while true {
                let byte = out.fileHandleForReading.readData(ofLength: 1)
                if byte.isEmpty || byte == Data("\n".utf8) { break }
                line.append(byte)
            }
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("listening on ") else {
                process.terminate()
                throw ServeError(message: "the server printed \"\(text)\" instead of where it listens")
            }
            url = String(text.dropFirst("listening on ".count))
            let lines = try String(contentsOfFile: self.tokens, encoding: .utf8).split(separator: "\n")
            token = String(lines.first { !$0.hasPrefix("#") && $0.hasSuffix(" operator") }!.split(separator: " ")[0])
            output = Mutex("")
        }

        func stop(signal: Int32 = SIGTERM) {
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }

        func request(
            _ method: HTTPMethod,
            _ path: String,
            body: String? = nil,
            token: String? = nil
        ) async throws -> (Int, String) {
            let (status, data) = try await fetch(method, path, body: body, token: token)
            return (status, String(buffer: data))
        }

        /// A request with the operator's token (or `token`), over HTTPS trusting ``ca`` when set.
        func fetch(
            _ method: HTTPMethod,
            _ path: String,
            body: String? = nil,
            token: String? = nil
        ) async throws -> (Int, ByteBuffer) {
            try await ServeTests.fetch(method, url + path, body: body, token: token ?? self.token, ca: ca)
        }

        func workload(_ name: String) async throws -> [String: Any] {
            let (status, body) = try await request(.GET, "/v1/workloads/\(name)")
            guard status == 200, let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            else {
                throw ServeError(message: "GET /v1/workloads/\(name): \(status) \(body)")
            }
            return object
        }

        func state(_ name: String) async throws -> String {
            ((try await workload(name))["workload"] as? [String: Any])?["state"] as? String ?? "?"
        }

        /// Waits until `condition` holds, polling; fails after `seconds`.
        func wait(
            _ what: String,
            seconds: Double = 60,
            _ condition: () async throws -> Bool
        ) async throws {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if try await condition() { return }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            throw ServeError(message: "timed out waiting for \(what)\n\(await diagnostics())")
        }

        /// Every workload with its attempts and history, and the end of the server's log: what a failed
        /// wait needs to be understood from the test's output alone.
        func diagnostics() async -> String {
            var text = ""
            let (_, list) = (try? await request(.GET, "/v1/workloads")) ?? (0, "")
            let object = try? JSONSerialization.jsonObject(with: Data(list.utf8)) as? [String: Any]
            let workloads = object?["workloads"] as? [[String: Any]] ?? []
            for name in workloads.compactMap({ $0["name"] as? String }) {
                text += "\(name): \((try? await request(.GET, "/v1/workloads/\(name)").1) ?? "(no answer)")\n"
            }
            let log = (try? String(contentsOfFile: files + ".server.log", encoding: .utf8)) ?? "(no log)"
            return text + "server log (its end):\n" + log.suffix(6000)
        }

        func log(_ name: String, attempt: Int) async throws -> String {
            try await request(.GET, "/v1/workloads/\(name)/log?attempt=\(attempt)").1
        }
    }

    /// One request with a bearer token; over HTTPS, a client that trusts `ca` (else the system's store) is
    /// made for it alone.
    static func fetch(
        _ method: HTTPMethod,
        _ url: String,
        body: String? = nil,
        token: String,
        ca: String?
    ) async throws -> (Int, ByteBuffer) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        guard let ca else {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            return (Int(response.status.code), try await response.body.collect(upTo: 1 << 24))
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(30)))
        // A refused handshake fails at once with its own error instead of being retried into a timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let data = try await response.body.collect(upTo: 1 << 24)
            try await client.shutdown()
            return (Int(response.status.code), data)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    struct ServeError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func workloadDocument(
        name: String = "digits-dar",
        priority: Int = 10,
        epochs: Int = 30,
        pace: Double = 0.2
    )
        throws -> String
    {
        try String(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Examples/workloads/digits-dar.yaml"),
            encoding: .utf8
        )
        .replacingOccurrences(of: "name: digits-dar", with: "name: \(name)")
        .replacingOccurrences(of: "priority: 10", with: "priority: \(priority)")
        .replacingOccurrences(of: "--epochs, \"40\"", with: "--epochs, \"\(epochs)\"")
        .replacingOccurrences(of: "--seconds-per-epoch, \"0.5\"", with: "--seconds-per-epoch, \"\(pace)\"")
    }

    /// The example training workload, whose attempt goes on running after training until `gate` exists:
    /// what a test does to a running attempt never races the attempt's end, however long the test is held up.
    static func gatedDocument(_ gate: URL, epochs: Int) throws -> String {
        try wrappingTraining(
            try ServeTests.workloadDocument(epochs: epochs),
            in: "python3 \"$0\" \"$@\" && until [ -e \(gate.path) ]; do sleep 0.1; done"
        )
    }

    /// The example training workload, whose attempts wait for `gate` to exist before they train: they are
    /// running, and stay so, however long the server or the test is held up before the test opens the gate.
    static func heldDocument(_ gate: URL, name: String, priority: Int, epochs: Int, pace: Double) throws -> String {
        try wrappingTraining(
            try ServeTests.workloadDocument(name: name, priority: priority, epochs: epochs, pace: pace),
            in: "until [ -e \(gate.path) ]; do sleep 0.1; done; exec python3 \"$0\" \"$@\""
        )
    }

    /// The document with its training command run by `sh -c SCRIPT` (the script gets the command as `$0 $@`).
    static func wrappingTraining(_ document: String, in script: String) throws -> String {
        let training = "command: [python3, Examples/workloads/train_digits.py,"
        guard document.contains(training) else { throw ServeTests.ServeError(message: "no \(training) in the example") }
        return document.replacingOccurrences(
            of: training,
            with: "command: [sh, -c, '\(script)', Examples/workloads/train_digits.py,"
        )
    }

    static func replay(_ server: Server, site: String, kilowatts: [Double], in dir: URL) async throws -> CLITests.Run {
        var csv = "time,power_kw\n"
        for (i, kw) in kilowatts.enumerated() { csv += "2026-11-22T10:\(String(format: "%02d", i)):00Z,\(kw)\n" }
        let trace = dir.appendingPathComponent("power-\(UUID().uuidString).csv")
        try csv.write(to: trace, atomically: true, encoding: .utf8)
        return try await CLITests.run([
            "power", "replay", site, trace.path, "--to", server.url, "--token-file", server.tokens,
            "--interval", "0.1 s",
        ])
    }

    @Test func aWorkloadPausesWhenPowerDropsAndResumesFromItsCheckpoint() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("state.sqlite").path
        let server = try Server(db: db)
        defer { server.stop() }

        // 100 epochs of 0.2 s: long enough that the pause lands before the end even on a busy machine.
        let (status, _) = try await server.request(.POST, "/v1/workloads", body: try Self.workloadDocument(epochs: 100))
        #expect(status == 201)
        try await server.wait("it to train a few epochs") {
            try await server.log("digits-dar", attempt: 1).contains("epoch 3/")
        }
        let drop = try await Self.replay(server, site: "dar-1", kilowatts: [96, 0], in: dir)
        #expect(drop.status == 0, "\(drop.stderr)")
        try await server.wait("it to pause") { try await server.state("digits-dar") == "paused" }
        let log1 = try await server.log("digits-dar", attempt: 1)
        #expect(log1.contains("checkpointed at epoch"))
        // No power, nowhere else it may go (its data must stay in Tanzania): it stays paused.
        try await Task.sleep(nanoseconds: 1_000_000_000)
        #expect(try await server.state("digits-dar") == "paused")

        let rise = try await Self.replay(server, site: "dar-1", kilowatts: [96], in: dir)
        #expect(rise.status == 0)
        try await server.wait("it to complete", seconds: 120) { try await server.state("digits-dar") == "completed" }
        let log2 = try await server.log("digits-dar", attempt: 2)
        let resumedLine = try #require(log2.split(separator: "\n").first { $0.hasPrefix("resumed from epoch") })
        let resumedAt = Int(resumedLine.split(separator: " ")[3].filter(\.isNumber)) ?? 0
        #expect(resumedAt > 0, "\(resumedLine)")
        #expect(log2.contains("done: test accuracy"))
        let detail = try await server.workload("digits-dar")
        let history = (detail["history"] as? [[String: Any]])?.compactMap { $0["to"] as? String } ?? []
        #expect(history == ["pending", "placed", "running", "pausing", "paused", "resuming", "running", "completed"])
        let attempts = detail["attempts"] as? [[String: Any]] ?? []
        #expect(attempts.map { $0["site"] as? String } == ["dar-1", "dar-1"])
        #expect(attempts.map { $0["outcome"] as? String } == ["paused", "completed"])

        // The ledger verifies; altering one row makes `ledger verify` name it.
        server.stop()
        let verified = try await CLITests.run(["ledger", "verify", "--db", db])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.hasPrefix("ok: "))
        try await Self.checkProofsIndependently(db: db)
        let queue = try DatabaseQueue(path: db)
        let victim = try await queue.write { db -> Int in
            try db.execute(sql: "DROP TRIGGER ledger_entry_no_update")
            let sequence = try Int.fetchOne(
                db,
                sql: "SELECT sequence FROM ledger_entry WHERE CAST(entry AS TEXT) LIKE '%workload.paused%'"
            )!
            try db.execute(
                sql:
                    "UPDATE ledger_entry SET entry = CAST(REPLACE(CAST(entry AS TEXT), 'dar-1', 'dar-2') AS BLOB) WHERE sequence = ?",
                arguments: [sequence]
            )
            return sequence
        }
        let tampered = try await CLITests.run(["ledger", "verify", "--db", db])
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("entry \(victim) (workload.paused)"), "\(tampered.stderr)")
    }

    /// `sovereign ledger prove` for every entry and a spread of size pairs, and the latest signed
    /// checkpoint, all checked by the independent RFC 9162 / signed-note verifier written in Python.
    static func checkProofsIndependently(db: String) async throws {
        func hex(_ value: Any?) -> String { value as? String ?? "" }
        func json(_ run: CLITests.Run) throws -> [String: Any] {
            try #require(run.status == 0, "\(run.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        }
        let head = try json(try await CLITests.run(["ledger", "prove", "--db", db, "inclusion", "0"]))
        let size = try #require(head["size"] as? Int)
        try #require(size > 2)
        var inclusion: [[String: Any]] = []
        for index in 0..<size {
            let proof = try json(try await CLITests.run(["ledger", "prove", "--db", db, "inclusion", "\(index)"]))
            inclusion.append([
                "leaf": hex(proof["leafHash"]), "index": index, "size": size,
                "proof": (proof["proof"] as? [String] ?? []).map(hex), "root": hex(proof["root"]),
            ])
        }
        var consistency: [[String: Any]] = []
        for (first, second) in [(1, size), (2, size), (size / 2, size), (3, size - 1), (size - 1, size)] {
            let proof = try json(
                try await CLITests.run(["ledger", "prove", "--db", db, "consistency", "\(first)", "\(second)"])
            )
            consistency.append([
                "first": first, "second": second, "proof": (proof["proof"] as? [String] ?? []).map(hex),
                "first_hash": hex(proof["oldRoot"]), "second_hash": hex(proof["newRoot"]),
            ])
        }
        let vkey = try String(contentsOfFile: db + ".key.pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let queue = try DatabaseQueue(path: db)
        let notes = try await queue.read { db in try String.fetchAll(db, sql: "SELECT note FROM ledger_checkpoint") }
        try #require(!notes.isEmpty)
        let batch: [String: Any] = [
            "inclusion": inclusion, "consistency": consistency,
            "notes": notes.map { ["vkey": vkey, "note": $0] },
        ]
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3",
            Fixtures.repositoryRoot.appendingPathComponent("Tests/SovereignLedgerTests/Verifier/rfc9162.py").path,
        ]
        let input = Pipe()
        let output = Pipe()
        python.standardInput = input
        python.standardOutput = output
        try python.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: batch))
        try input.fileHandleForWriting.close()
        let answer = output.fileHandleForReading.readDataToEndOfFile()
        python.waitUntilExit()
        try #require(python.terminationStatus == 0)
        let result = try #require(try JSONSerialization.jsonObject(with: answer) as? [String: Any])
        #expect((result["inclusion"] as? [Bool])?.count == size)
        #expect((result["inclusion"] as? [Bool])?.allSatisfy { $0 } == true)
        #expect((result["consistency"] as? [Bool]) == Array(repeating: true, count: 5))
        #expect((result["notes"] as? [Bool]) == Array(repeating: true, count: notes.count))
    }

    @Test func aKilledServerLosesNothingAndRunsNothingTwice() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("state.sqlite").path
        var server = try Server(db: db)
        // Whichever server runs when the test ends, however it ends, is stopped (each one killed on the way
        // already has been).
        defer { server.stop() }
        let names = ["digits-a", "digits-b", "digits-c"]
        // Held before training until all three are seen running: a loaded machine has taken longer to answer
        // the submission (a commit's fsync) than the workloads took to train, and then "all running" never held.
        let gate = dir.appendingPathComponent("gate")
        let documents = try names.enumerated().map { i, name in
            try Self.heldDocument(gate, name: name, priority: 10 + i, epochs: 100, pace: 0.15)
        }
        let (status, body) = try await server.request(
            .POST,
            "/v1/workloads",
            body: documents.joined(separator: "---\n")
        )
        #expect(status == 201, "\(body)")
        let start = Date()
        var polls: [String] = []
        do {
            try await server.wait("all to run") {
                var all = true
                var seen: [String] = []
                for name in names {
                    let asked = Date()
                    let state = try await server.state(name)
                    seen.append("\(name)=\(state) in \(Int(Date().timeIntervalSince(asked) * 1000)) ms")
                    if state != "running" { all = false }
                }
                polls.append("t+\(Int(Date().timeIntervalSince(start) * 1000)) ms: " + seen.joined(separator: ", "))
                return all
            }
        } catch {
            Issue.record("polls:\n\(polls.suffix(400).joined(separator: "\n"))")
            throw error
        }
        _ = FileManager.default.createFile(atPath: gate.path, contents: nil)
        // Room for one: two are paused; kill the server while they pause.
        let power = try await Self.replay(server, site: "dar-1", kilowatts: [4.5], in: dir)
        #expect(power.status == 0, "\(power.stderr)")
        server.stop(signal: SIGKILL)
        try await Task.sleep(nanoseconds: 1_500_000_000)
        server = try Server(db: db)
        try await Task.sleep(nanoseconds: 2_000_000_000)
        server.stop(signal: SIGKILL)
        server = try Server(db: db)
        let back = try await Self.replay(server, site: "dar-1", kilowatts: [96], in: dir)
        #expect(back.status == 0)
        try await server.wait("all to complete", seconds: 180) {
            var all = true
            for name in names where try await server.state(name) != "completed" { all = false }
            return all
        }
        try await Self.expectNothingFailedOrRanTwice(names, on: server)
        server.stop()
        let verified = try await CLITests.run(["ledger", "verify", "--db", db])
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    /// Nothing failed (a second attempt started while one ran would be refused by the workload's lock and
    /// show as a failure), attempts of a workload never overlap, every one ended, and the last completed.
    static func expectNothingFailedOrRanTwice(_ names: [String], on server: Server) async throws {
        for name in names {
            let detail = try await server.workload(name)
            #expect((detail["workload"] as? [String: Any])?["failures"] as? Int == 0, "\(name): \(detail)")
            let attempts = detail["attempts"] as? [[String: Any]] ?? []
            #expect(!attempts.isEmpty)
            for a in attempts {
                #expect(
                    ["paused", "killed", "completed", "not-started"].contains(a["outcome"] as? String ?? ""),
                    "\(name): \(a)"
                )
            }
            var lastEnd = ""
            for a in attempts {
                let start = a["startedAt"] as? String ?? ""
                let end = try #require(a["endedAt"] as? String, "\(name) attempt \(a["number"] ?? "?") never ended")
                #expect(start >= lastEnd, "\(name): an attempt started before the previous one ended")
                lastEnd = end
            }
            #expect(attempts.last?["outcome"] as? String == "completed")
            #expect(try await server.log(name, attempt: attempts.count).contains("done: test accuracy"))
        }
    }
}
