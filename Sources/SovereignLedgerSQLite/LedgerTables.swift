public import Foundation
public import GRDB
public import SovereignLedger

/// The ledger's two SQLite tables as the control plane's store writes them (`ledger_entry`: sequence, canonical
/// entry, leaf hash; `ledger_checkpoint`: size, signed note), read in one place for the server's store and for
/// `sovereign ledger verify`/`prove`, which read a database without the server.
public enum LedgerTables: Sendable {
    /// Entries from `start` in sequence order, at most `limit`.
    public static func entries(_ db: Database, from start: Int, limit: Int) throws -> [StoredEntry] {
        try Row.fetchAll(
            db,
            sql: "SELECT * FROM ledger_entry WHERE sequence >= ? ORDER BY sequence LIMIT ?",
            arguments: [start, limit]
        ).map(entry)
    }

    /// Every entry in physical order (rowid), not sorted: a reordered or renumbered row must show as such.
    public static func forEachEntry(_ db: Database, _ body: (StoredEntry) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM ledger_entry ORDER BY rowid")
        while let row = try cursor.next() { try body(entry(row)) }
    }

    /// The leaf hashes in sequence order.
    ///
    /// - Throws: ``LedgerRowError`` naming the first entry whose leaf hash is not 32 bytes; GRDB's errors.
    public static func leafHashes(_ db: Database) throws -> [TreeHash] {
        var hashes: [TreeHash] = []
        let cursor = try Data.fetchCursor(db, sql: "SELECT leafHash FROM ledger_entry ORDER BY sequence")
        while let data = try cursor.next() {
            guard let hash = TreeHash(bytes: data) else {
                throw LedgerRowError(entry: hashes.count, "the leaf hash of entry \(hashes.count) is not 32 bytes")
            }
            hashes.append(hash)
        }
        return hashes
    }

    /// Every signed checkpoint note, smallest tree first.
    public static func checkpoints(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT note FROM ledger_checkpoint ORDER BY size")
    }

    /// One `ledger_entry` row; a leaf hash that is not 32 bytes reads as the empty tree's hash, so the audit
    /// reports the row as not matching its entry.
    public static func entry(_ row: Row) -> StoredEntry {
        let bytes: Data = row["entry"]
        let leaf: Data = row["leafHash"]
        return StoredEntry(
            sequence: row["sequence"],
            canonicalJSON: [UInt8](bytes),
            leafHash: TreeHash(bytes: leaf) ?? MerkleHash.empty
        )
    }
}

/// A state database opened read-only for its ledger: no migration, no write, no lock held beyond a read, so an
/// auditor may check a copy (or a live server's file) without changing a byte of it.
public struct LedgerDatabase: Sendable {
    /// The file, as given.
    public let path: String
    private let queue: DatabaseQueue

    /// Opens `path` read-only.
    ///
    /// - Throws: ``LedgerDatabaseError`` naming the file when it does not exist, is not an SQLite database, or
    ///   holds no ledger.
    public init(path: String) throws(LedgerDatabaseError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerDatabaseError("\(path): expected a Sovereign state database, found no such file")
        }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            let tables = try queue.read { db in
                try db.tableExists("ledger_entry") && db.tableExists("ledger_checkpoint")
            }
            guard tables else {
                throw LedgerDatabaseError(
                    "\(path): expected a Sovereign state database, found no ledger_entry and ledger_checkpoint tables"
                )
            }
        } catch let error as LedgerDatabaseError {
            throw error
        } catch {
            throw LedgerDatabaseError("\(path): expected a Sovereign state database, found \(error)")
        }
    }

    /// Every entry in physical order.
    public func forEachEntry(_ body: (StoredEntry) throws -> Void) throws(LedgerDatabaseError) {
        try read { db in try LedgerTables.forEachEntry(db, body) }
    }

    /// The leaf hashes in sequence order.
    public func leafHashes() throws(LedgerDatabaseError) -> [TreeHash] {
        try read { db in try LedgerTables.leafHashes(db) }
    }

    /// Every signed checkpoint note, smallest tree first.
    public func checkpoints() throws(LedgerDatabaseError) -> [String] {
        try read { db in try LedgerTables.checkpoints(db) }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(LedgerDatabaseError) -> T {
        do {
            return try queue.read(body)
        } catch {
            throw LedgerDatabaseError("\(path): \(error)")
        }
    }
}

/// A ledger row that is not what the store writes: which entry (its position in sequence order, from 0) and
/// what was found.
public struct LedgerRowError: Error, CustomStringConvertible, Sendable {
    /// The entry's position in sequence order, from 0.
    public let entry: Int
    /// What is wrong, like `the leaf hash of entry 3 is not 32 bytes`.
    public let description: String
    init(entry: Int, _ description: String) {
        self.entry = entry
        self.description = description
    }
}

/// A state database that cannot be read for its ledger: the file and what was found.
public struct LedgerDatabaseError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
