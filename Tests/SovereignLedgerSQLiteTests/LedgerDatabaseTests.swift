import Foundation
import GRDB
import SovereignLedger
import SovereignLedgerSQLite
import Testing

/// `sovereign ledger verify`/`prove` read a state database through ``LedgerDatabase``: read-only, and every file it
/// cannot use is refused naming the file and what it found.
struct LedgerDatabaseTests {
    static func temporaryFile(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-db-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name)
    }

    /// A database with the store's two ledger tables, `count` entries whose leaf hashes are those of their bytes,
    /// and one checkpoint note.
    static func ledger(at url: URL, count: Int, badLeafAt bad: Int? = nil) throws {
        let queue = try DatabaseQueue(path: url.path)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE ledger_entry (sequence INTEGER PRIMARY KEY, entry BLOB NOT NULL, leafHash BLOB NOT NULL);
                    CREATE TABLE ledger_checkpoint (size INTEGER PRIMARY KEY, note TEXT NOT NULL, createdAt REAL NOT NULL);
                    """
            )
            for i in 0..<count {
                let bytes = Array("{\"sequence\":\(i)}".utf8)
                let leaf = i == bad ? Data([1, 2, 3]) : Data(MerkleHash.leaf(bytes).bytes)
                try db.execute(
                    sql: "INSERT INTO ledger_entry (sequence, entry, leafHash) VALUES (?, ?, ?)",
                    arguments: [i, Data(bytes), leaf]
                )
            }
            try db.execute(sql: "INSERT INTO ledger_checkpoint VALUES (2, 'note two', 0), (1, 'note one', 0)")
        }
        try queue.close()
    }

    @Test func readsEntriesHashesAndCheckpointsWithoutChangingTheFile() throws {
        let url = try Self.temporaryFile("state.sqlite")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try Self.ledger(at: url, count: 3)
        let before = try Data(contentsOf: url)
        let database = try LedgerDatabase(path: url.path)
        var sequences: [Int] = []
        try database.forEachEntry { sequences.append($0.sequence) }
        #expect(sequences == [0, 1, 2])
        let hashes = try database.leafHashes()
        #expect(hashes == (0..<3).map { MerkleHash.leaf(Array("{\"sequence\":\($0)}".utf8)) })
        #expect(try database.checkpoints() == ["note one", "note two"])
        #expect(try Data(contentsOf: url) == before)
        let siblings = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(siblings == ["state.sqlite"])
    }

    @Test func aLeafHashOfTheWrongLengthIsNamed() throws {
        let url = try Self.temporaryFile("state.sqlite")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try Self.ledger(at: url, count: 3, badLeafAt: 1)
        let database = try LedgerDatabase(path: url.path)
        #expect(throws: LedgerDatabaseError.self) { try database.leafHashes() }
        do {
            _ = try database.leafHashes()
        } catch {
            #expect(error.description == "\(url.path): the leaf hash of entry 1 is not 32 bytes")
        }
    }

    @Test func filesThatHoldNoLedgerAreRefusedNamingTheFile() throws {
        let url = try Self.temporaryFile("state.sqlite")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        func refusal(_ path: String) -> String? {
            do {
                _ = try LedgerDatabase(path: path)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(refusal(url.path) == "\(url.path): expected a Sovereign state database, found no such file")
        try Data("not a database at all, just text".utf8).write(to: url)
        #expect(refusal(url.path)?.hasPrefix("\(url.path): expected a Sovereign state database, found ") == true)
        try FileManager.default.removeItem(at: url)
        let queue = try DatabaseQueue(path: url.path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE other (x INTEGER)") }
        try queue.close()
        #expect(
            refusal(url.path)
                == "\(url.path): expected a Sovereign state database, found no ledger_entry and ledger_checkpoint tables"
        )
    }
}
