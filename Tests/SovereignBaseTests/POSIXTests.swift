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

    @Test func signalZeroProbesAProcess() {
        #expect(POSIX.sendSignal(0, to: ProcessInfo.processInfo.processIdentifier) == 0)
    }
}
