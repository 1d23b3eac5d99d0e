import Foundation
import SovereignBase
import Testing

struct POSIXTests {
    @Test func writesAtomicallyAndReplaces() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("base-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try POSIX.writeAtomically(Data("first".utf8), to: path)
        try POSIX.writeAtomically(Data("second".utf8), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("second".utf8))
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp.\(ProcessInfo.processInfo.processIdentifier)"))
    }

    @Test func namesThePathItCannotWrite() {
        let path = "/nonexistent-\(UUID().uuidString)/file"
        #expect {
            try POSIX.writeAtomically(Data(), to: path)
        } throws: { error in
            "\(error)".hasPrefix("cannot write \(path).tmp.") && "\(error)".hasSuffix("No such file or directory")
        }
    }

    @Test func aFileIsWrittenAndReadAtOffsetsAndNeverThroughASymbolicLink() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("base-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/file"
        do {
            let file = try POSIX.File(path, for: .writing)
            try Array("world".utf8).withUnsafeBytes { try file.write($0, at: 6) }
            try Array("hello ".utf8).withUnsafeBytes { try file.write($0, at: 0) }
            try file.sync()
        }
        #expect(FileManager.default.contents(atPath: path) == Data("hello world".utf8))
        let file = try POSIX.File(path, for: .reading)
        var buffer = [UInt8](repeating: 0, count: 8)
        // A read past the end stops there: 5 of the 8 bytes asked for.
        #expect(try buffer.withUnsafeMutableBytes { try file.read(into: $0, at: 6) } == 5)
        #expect(Array(buffer.prefix(5)) == Array("world".utf8))
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: path)
        let error = try #require(throws: FileError.self) { _ = try POSIX.File(directory + "/link", for: .reading) }
        #expect(error.operation == "open")
        #expect(error.path == directory + "/link")
    }

    @Test func signalZeroProbesAProcess() {
        #expect(POSIX.sendSignal(0, to: ProcessInfo.processInfo.processIdentifier) == 0)
    }
}
