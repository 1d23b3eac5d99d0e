public import Foundation

/// Stored outputs under `Tests/Golden` that a refactoring must reproduce byte for byte (issue 14). A test renders an
/// output and asks for its mismatch with the stored file; `SOVEREIGN_UPDATE_GOLDEN=1` writes the file instead, for an
/// intended change of output, said in its commit.
public enum Golden: Sendable {
    /// `Tests/Golden`.
    public static let directory = Fixtures.repositoryRoot.appendingPathComponent("Tests/Golden")

    /// Whether this run writes the files instead of comparing.
    public static var updating: Bool { ProcessInfo.processInfo.environment["SOVEREIGN_UPDATE_GOLDEN"] == "1" }

    /// Nil when `output` is the stored file's text (or when updating, after writing it); otherwise where they first
    /// differ, with both lines.
    public static func mismatch(_ name: String, _ output: String) throws -> String? {
        let url = directory.appendingPathComponent(name)
        if updating {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try Data(output.utf8).write(to: url, options: .atomic)
            return nil
        }
        guard let stored = try? String(contentsOf: url, encoding: .utf8) else {
            return "\(name): no stored output (run with SOVEREIGN_UPDATE_GOLDEN=1 to write it)"
        }
        return firstDifference(name, stored: stored, output: output)
    }

    /// The first line at which `output` leaves `stored`, or nil when they are equal.
    static func firstDifference(_ name: String, stored: String, output: String) -> String? {
        if stored == output { return nil }
        let expected = stored.split(separator: "\n", omittingEmptySubsequences: false)
        let found = output.split(separator: "\n", omittingEmptySubsequences: false)
        for line in 0..<max(expected.count, found.count) {
            let want = line < expected.count ? String(expected[line]) : "(end of file)"
            let got = line < found.count ? String(found[line]) : "(end of output)"
            if want != got {
                return "\(name):\(line + 1): expected \(want.prefix(400)), found \(got.prefix(400))"
            }
        }
        return "\(name): differs"
    }
}
