import Foundation
import SovereignBase

/// Files of checkpoint trees for the tests, written under a directory from `Fixtures.temporaryDirectory()`.
enum CheckpointFiles {
    /// Writes `bytes` at `relative` under `directory`, making its directories.
    static func write(_ bytes: [UInt8], _ relative: String, under directory: String) throws {
        let url = URL(fileURLWithPath: directory + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// `count` seeded random bytes.
    static func bytes(_ count: Int, _ generator: inout SeededGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    /// Every file under `directory`, relative path to contents.
    static func tree(_ directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return files }
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: directory + "/" + relative, isDirectory: &isDirectory)
            if !isDirectory.boolValue {
                files[relative] = FileManager.default.contents(atPath: directory + "/" + relative)
            }
        }
        return files
    }
}
