public import ArgumentParser
import Foundation
import SovereignModel

/// The `sovereign` command: every face of the product on the command line.
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
public struct Sovereign: AsyncParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "sovereign",
        abstract: "Plan AI workloads across sites split by borders, power and heat.",
        version: "0.1.0",
        subcommands: [
            Validate.self, PlanCommand.self, SimulateCommand.self, Catalog.self, Serve.self, PowerCommand.self,
            LedgerCommand.self, AgentCommand.self, SiteAgentCommand.self, KubernetesCommand.self, AssessCommand.self,
            Supervise.self, AnonymiseCommand.self,
        ]
    )

    public init() {}
}

/// Output formats shared by the subcommands.
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

/// Loads specs with a progress line on a terminal; prints every diagnostic and exits 1 when they are invalid.
func loadFleetOrExit(_ paths: [String]) throws -> Fleet {
    do {
        let fleet = try FleetLoader(progress: TerminalProgress.lineOnStandardError(label: "reading traces"))
            .load(paths: paths)
        TerminalProgress.clear()
        return fleet
    } catch let error as SpecError {
        TerminalProgress.clear()
        printError(error.description)
        let n = error.diagnostics.count
        printError("\(n) error\(n == 1 ? "" : "s")")
        throw ExitCode.failure
    }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Encodes a value as pretty, key-sorted JSON (deterministic output).
func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
