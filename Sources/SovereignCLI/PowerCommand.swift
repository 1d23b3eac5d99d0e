import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SovereignBase
import SovereignModel

/// `sovereign power ...`: power signals for a running server.
struct PowerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "power",
        abstract: "Send power signals to a running server.",
        subcommands: [Replay.self]
    )

    /// `sovereign power replay SITE TRACE --to URL`.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a power trace against a running server, one PUT per row.",
            discussion: """
                TRACE is a CSV file with a header: the first column is the time (ISO 8601), the value column \
                (--column, else the second) is either power in --unit, or, with --capacity, a fraction of that \
                capacity (a grid-availability trace). Rows are sent --interval apart (time compressed for demos \
                and tests). The token comes from $SOVEREIGN_TOKEN or the first operator line of --token-file; it \
                is never printed. Over https the server is verified against --ca (else the system's trust store).
                """
        )

        @Argument(help: "The site the trace is for.")
        var site: String

        @Argument(help: "The trace file (CSV).")
        var trace: String

        @Option(help: "The server, like https://sovereign.example:8443.")
        var to: String

        @OptionGroup(title: "TLS")
        var tls: ClientTLSOptions

        @Option(help: "Column holding the values (default: the second).")
        var column: String?

        @Option(help: "Unit of the values: W, kW or MW.")
        var unit = "kW"

        @Option(help: "Values are fractions of this power, like \"135 kW\".")
        var capacity: String?

        @Option(help: "Time between two rows, like \"1 s\".")
        var interval = "1 s"

        @Option(name: .customLong("token-file"), help: "A tokens file; its first operator token is used.")
        var tokenFile: String?

        @Option(help: "Send at most this many rows.")
        var limit: Int?

        func run() async throws {
            let rows = try readTrace()
            guard let pause = TimeSpan.parse(interval), pause.seconds >= 0 else {
                printError("--interval: expected a time like \"1 s\", found \"\(interval)\"")
                throw ExitCode.validationFailure
            }
            let token = try readToken()
            let base = to.hasSuffix("/") ? String(to.dropLast()) : to
            let sent = try await tls.withClient(for: base) { client in
                try await send(rows, to: "\(base)/v1/sites/\(site)/power", token: token, every: pause, with: client)
            }
            printError("sent \(sent) power signal\(sent == 1 ? "" : "s") to \(site)")
        }

        /// PUTs one signal per row; returns how many were sent.
        func send(
            _ rows: [Row],
            to url: String,
            token: String,
            every pause: TimeSpan,
            with client: HTTPClient
        )
            async throws -> Int
        {
            var sent = 0
            for (i, row) in rows.prefix(limit ?? rows.count).enumerated() {
                if i > 0, pause.seconds > 0 { try await Task.sleep(nanoseconds: UInt64(pause.seconds * 1e9)) }
                var request = HTTPClientRequest(url: url)
                request.method = .PUT
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Content-Type", value: "application/json")
                let body = "{\"available\": \(row.watts)}"
                request.body = .bytes(ByteBuffer(string: body))
                let response: HTTPClientResponse
                do {
                    response = try await client.execute(request, timeout: .seconds(30))
                } catch {
                    printError("\(url): cannot reach the server: \(error)")
                    throw ExitCode.failure
                }
                let answer = try await response.body.collect(upTo: 1 << 20)
                guard response.status == .ok else {
                    printError(
                        "\(trace):\(row.line):1: the server answered \(response.status.code): \(String(buffer: answer))"
                    )
                    throw ExitCode.failure
                }
                FileHandle.standardOutput.write(Data("\(row.time)  \(site)  \(Power.watts(row.watts))\n".utf8))
                sent += 1
            }
            return sent
        }

        struct Row {
            let line: Int
            let time: String
            let watts: Double
        }

        func readTrace() throws -> [Row] {
            guard let data = FileManager.default.contents(atPath: trace) else {
                printError("\(trace):1:1: error: expected a readable trace file, found none")
                throw ExitCode.failure
            }
            let csv = CSVTokenizer([UInt8](data))
            let firstLine = csv.firstLines(1).first.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let header = CSVTokenizer.fields(of: csv.firstLines(1).first ?? [])
                .map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard header.count >= 2 else {
                printError("\(trace):1:1: error: expected a header like \"time,available\", found \"\(firstLine)\"")
                throw ExitCode.failure
            }
            let index = try valueColumn(in: header)
            let factor = try wattsPerUnit()
            var rows: [Row] = []
            var failure: String?
            csv.forEachLine { number, line in
                guard number > 1, failure == nil, !line.isEmpty else { return }
                switch row(CSVTokenizer.fields(of: line), line: number, column: index, of: header.count) {
                case .success(let (time, value)): rows.append(Row(line: number, time: time, watts: value * factor))
                case .failure(let error): failure = error.description
                }
            }
            if let failure {
                printError(failure)
                throw ExitCode.failure
            }
            return rows
        }

        /// A located problem with one row of the trace.
        struct RowError: Error, CustomStringConvertible {
            let location: SourceLocation
            let message: String
            var description: String { "\(location): error: \(message)" }
        }

        /// One row's time and value, or what is wrong with it.
        func row(_ cells: [CSVField], line: Int, column index: Int, of count: Int) -> Result<(String, Double), RowError>
        {
            guard cells.count == count else {
                let location = SourceLocation(file: trace, line: line, column: 1)
                return .failure(RowError(location: location, message: "expected \(count) fields, found \(cells.count)"))
            }
            let cell = cells[index].text.trimmingCharacters(in: .whitespaces)
            guard let value = Double(cell), value.isFinite, value >= 0 else {
                let location = SourceLocation(file: trace, line: line, column: cells[index].column)
                return .failure(
                    RowError(location: location, message: "expected a number not below 0, found \"\(cell)\"")
                )
            }
            return .success((cells[0].text, value))
        }

        /// The index of the column that holds the power: `--column`, or the second.
        func valueColumn(in header: [String]) throws -> Int {
            guard let column else { return 1 }
            guard let found = header.firstIndex(of: column) else {
                printError(
                    "\(trace):1:1: error: expected a column \"\(column)\", found \(header.joined(separator: ", "))"
                )
                throw ExitCode.failure
            }
            return found
        }

        /// Watts per unit of the trace's values: `--capacity` (values are fractions of it) or `--unit`.
        func wattsPerUnit() throws -> Double {
            if let capacity {
                guard let power = Power.parse(capacity) else {
                    printError("--capacity: expected \(Power.expectation), found \"\(capacity)\"")
                    throw ExitCode.validationFailure
                }
                return power.watts
            }
            switch unit {
            case "W": return 1
            case "kW": return 1e3
            case "MW": return 1e6
            default:
                printError("--unit: expected W, kW or MW, found \"\(unit)\"")
                throw ExitCode.validationFailure
            }
        }

        func readToken() throws -> String {
            if let token = ProcessInfo.processInfo.environment["SOVEREIGN_TOKEN"], !token.isEmpty { return token }
            guard let tokenFile else {
                printError("expected a token in $SOVEREIGN_TOKEN or --token-file, found neither")
                throw ExitCode.validationFailure
            }
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                printError("\(tokenFile):1:1: error: expected a readable tokens file, found none")
                throw ExitCode.failure
            }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let words = line.split(separator: "#").first?.split(separator: " ") ?? []
                if words.count == 2, words[1] == "operator" { return String(words[0]) }
            }
            printError("\(tokenFile):1:1: error: expected a \"TOKEN operator\" line, found none")
            throw ExitCode.failure
        }
    }
}
