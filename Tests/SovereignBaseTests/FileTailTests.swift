import Foundation
import SovereignBase
import Testing

struct FileTailTests {
    @Test func theEndOfAFileAndAllOfAShortOne() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tail-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: path))
        #expect(FileTail.read(path, limit: 4) == Data("6789".utf8))
        #expect(FileTail.read(path, limit: 100) == Data("0123456789".utf8))
        #expect(FileTail.read(path, limit: 0) == Data())
        #expect(FileTail.read(path + ".missing", limit: 4) == nil)
    }
}
