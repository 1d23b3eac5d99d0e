import Foundation
import SovereignTesting
import Testing

/// `plan`, `simulate` and `assess` output, JSON and text, byte for byte against files stored before the
/// architecture change (issue 14), on both bundled examples and on seeded generated fleets. The wall-clock field
/// (`wallSeconds`) is the only thing left out. Set `SOVEREIGN_UPDATE_GOLDEN=1` to write the files (only for an
/// intended change of output, said in the commit).
struct GoldenOutputTests {
    struct Command: Sendable, CustomTestStringConvertible {
        let name: String
        let arguments: [String]
        var testDescription: String { name }
    }

    static let cut = ["--cut", "vendor=NVIDIA", "--cut", "operator-jurisdiction=US"]

    /// Every command whose output is kept, for a fleet at `path`.
    static func commands(_ path: String) -> [Command] {
        var commands: [Command] = []
        for policy in ["greedy", "power-aware", "carbon-aware"] {
            commands.append(
                Command(name: "plan-\(policy).json", arguments: ["plan", "--format", "json", "--policy", policy, path])
            )
            commands.append(Command(name: "plan-\(policy).txt", arguments: ["plan", "--policy", policy, path]))
        }
        commands.append(Command(name: "simulate.json", arguments: ["simulate", "--format", "json", path]))
        commands.append(Command(name: "simulate.txt", arguments: ["simulate", path]))
        commands.append(Command(name: "assess.json", arguments: ["assess", "--format", "json"] + cut + [path]))
        commands.append(Command(name: "assess.txt", arguments: ["assess"] + cut + [path]))
        return commands
    }

    /// The command's standard output with wall-clock lines left out, or what went wrong.
    static func output(_ arguments: [String], in directory: String) async throws -> String {
        let run = try await CLITests.run(arguments, in: directory)
        let stdout = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("wallSeconds") && !$0.contains("wall time") }
            .joined(separator: "\n")
        return "exit \(run.status)\n" + stdout + (run.stderr.isEmpty ? "" : "\n--- stderr\n" + run.stderr)
    }

    static func check(_ name: String, _ command: Command, in directory: String) async throws {
        let mismatch = try Golden.mismatch(
            "cli/\(name)/\(command.name)",
            try await output(command.arguments, in: directory)
        )
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    @Test(arguments: ["east-africa", "europe"])
    func examplesAreByteIdentical(_ example: String) async throws {
        for command in Self.commands("Examples/\(example)") {
            try await Self.check(example, command, in: Fixtures.repositoryRoot.path)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func generatedFleetsAreByteIdentical(_ seed: UInt64) async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try RandomFleet.make(seed: seed, in: directory)
        for command in Self.commands("fleet.yaml") {
            try await Self.check("generated-\(seed)", command, in: directory.path)
        }
    }
}
