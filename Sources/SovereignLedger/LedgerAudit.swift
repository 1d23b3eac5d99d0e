import Foundation
import SovereignBase

/// One ledger row as the database keeps it.
public struct StoredEntry: Sendable, Hashable {
    /// The row's sequence number: its leaf index, from 0.
    public var sequence: Int
    /// The entry's canonical JSON, as written (``LedgerEntry/canonicalJSON()``).
    public var canonicalJSON: [UInt8]
    /// The leaf hash stored with the row (``MerkleHash/leaf(_:)`` of `canonicalJSON` when it was written).
    public var leafHash: TreeHash

    /// Makes a row.
    ///
    /// - Parameters:
    ///   - sequence: The leaf index.
    ///   - canonicalJSON: The entry's canonical JSON.
    ///   - leafHash: The stored leaf hash.
    public init(sequence: Int, canonicalJSON: [UInt8], leafHash: TreeHash) {
        self.sequence = sequence
        self.canonicalJSON = canonicalJSON
        self.leafHash = leafHash
    }

    /// The row for an entry, as the ledger writes it.
    ///
    /// - Parameter entry: The entry.
    public init(_ entry: LedgerEntry) {
        let json = entry.canonicalJSON()
        self.init(
            sequence: entry.sequence,
            canonicalJSON: json,
            leafHash: json.withUnsafeBytes { MerkleHash.leaf(bytes: $0) }
        )
    }
}

/// What an audit found.
public struct AuditReport: Sendable, Hashable, CustomStringConvertible {
    /// `true` when nothing is wrong: ``problems`` is empty.
    public var ok: Bool { problems.isEmpty }
    /// How many rows were read.
    public var entries: Int
    /// How many checkpoints were examined.
    public var checkpoints: Int
    /// What is wrong, for a person, most important (earliest) first. Long runs of problems are cut
    /// after ``LedgerAudit/maximumListedProblems`` with a line saying how many more there were.
    public var problems: [String]
    /// The lowest sequence known or suspected to be bad: the lowest row found bad by itself (altered,
    /// unreadable, missing or misplaced), or lower still, the start of the range a mismatching checkpoint
    /// blames when no bad row lies in that range. `nil` when no row is to blame (a forged signature, say).
    public var firstBadSequence: Int?
    /// The root of the tree recomputed from the rows' contents, over all ``entries`` rows.
    public var root: TreeHash

    /// `ok: …` with the counts and root, or `FAILED: …` followed by one problem per line.
    public var description: String {
        if ok {
            return "ok: \(entries) entries, \(checkpoints) checkpoints, root \(root.hex)"
        }
        let count = "\(problems.count) problem\(problems.count == 1 ? "" : "s")"
        return "FAILED: \(entries) entries, \(checkpoints) checkpoints, \(count):\n"
            + problems.map { "- \($0)" }.joined(separator: "\n")
    }
}

/// Re-checks a whole ledger from its rows and its stored checkpoints.
public struct LedgerAudit: Sendable {
    /// At most this many problems are listed one by one; the rest are counted.
    public static let maximumListedProblems = 100

    /// Audits a ledger.
    ///
    /// It checks that the rows' sequences run 0, 1, 2, … without gaps or reordering; that each row is
    /// canonical JSON of a ledger entry whose own `sequence` is the row's; that each stored leaf hash is
    /// the hash of the row's bytes. It rebuilds the tree from the rows' contents, then for every
    /// checkpoint, in order: verifies its signature (when `verifier` is given) and origin, compares its
    /// root with the recomputed root at its size, and checks it against the checkpoint before it: sizes
    /// never shrink, equal sizes have equal roots, and a consistency proof generated from the rebuilt tree
    /// verifies between them. A checkpoint that does not match is blamed on the entries since the largest
    /// smaller checkpoint that matched, unless a matching checkpoint at least as large vouches for those
    /// entries: then the log itself signed two different histories.
    ///
    /// - Parameters:
    ///   - entries: The rows in stored order.
    ///   - checkpoints: The signed checkpoint notes, oldest first.
    ///   - verifier: The log's key; when `nil`, signatures are not checked (the notes must still parse).
    ///   - origin: The origin every checkpoint must carry; when `nil`, the verifier's key name, or without
    ///     a verifier the first checkpoint's origin.
    /// - Returns: The report.
    /// - Complexity: O(*n*) in the rows' total size, plus O(log² *n*) per checkpoint.
    public static func audit(
        entries: some Sequence<StoredEntry>,
        checkpoints: [String],
        verifier: NoteVerifier?,
        origin: String? = nil
    ) -> AuditReport {
        var audit = Auditor()
        var leaves: [TreeHash] = []
        leaves.reserveCapacity(entries.underestimatedCount)
        var orderReported = false
        // Rows are checked in batches, each spread over the cores, then reported in order; memory stays
        // bounded by the batch, whatever the sequence holds.
        var iterator = entries.makeIterator()
        var batch: [StoredEntry] = []
        batch.reserveCapacity(rowBatchSize)
        while true {
            batch.removeAll(keepingCapacity: true)
            while batch.count < rowBatchSize, let row = iterator.next() { batch.append(row) }
            if batch.isEmpty { break }
            for (row, check) in zip(batch, RowCheck.run(batch)) {
                let position = leaves.count
                if row.sequence != position, !orderReported {
                    orderReported = true
                    let detail =
                        row.sequence > position
                        ? "entries \(position)..<\(row.sequence) are missing or out of order"
                        : "entry \(row.sequence) appears again or out of order"
                    audit.report(
                        "row \(position): expected sequence \(position), found \(row.sequence) (\(detail))",
                        bad: position
                    )
                }
                // A row's leaf is the hash of what it says, not of what it claims to hash to.
                leaves.append(check.leaf)
                let kind = check.kind ?? "unreadable"
                if let error = check.error {
                    audit.report("entry \(row.sequence): \(error.message)", bad: row.sequence)
                } else if check.sequence != row.sequence {
                    audit.report(
                        "entry \(row.sequence) (\(kind)): its JSON says sequence \(check.sequence), the row says \(row.sequence)",
                        bad: row.sequence
                    )
                }
                if check.leaf != row.leafHash {
                    audit.report(
                        "entry \(row.sequence) (\(kind)): stored leaf hash \(row.leafHash.hex) does not match its contents, which hash to \(check.leaf.hex)",
                        bad: row.sequence
                    )
                }
            }
        }
        let tree = MerkleTree(leafHashes: leaves)
        audit.checkCheckpoints(checkpoints, tree: tree, verifier: verifier, origin: origin)
        return AuditReport(
            entries: leaves.count,
            checkpoints: checkpoints.count,
            problems: audit.listedProblems,
            firstBadSequence: audit.firstBadSequence,
            root: tree.root
        )
    }
}

/// How many rows are read before they are checked together.
private let rowBatchSize = 16_384

/// What one row says about itself: its leaf hash, and its entry's kind and sequence, or why it is not
/// a canonical entry.
private struct RowCheck {
    var leaf: TreeHash
    var kind: String?
    var sequence = -1
    var error: LedgerError?

    init(_ row: StoredEntry) {
        leaf = row.canonicalJSON.withUnsafeBytes { MerkleHash.leaf(bytes: $0) }
        do {
            let entry = try LedgerEntry(canonicalBytes: row.canonicalJSON)
            kind = entry.kind
            sequence = entry.sequence
        } catch {
            self.error = error
        }
    }

    /// Checks `rows` on all cores, in order.
    static func run(_ rows: [StoredEntry]) -> [RowCheck] {
        [RowCheck](unsafeUninitializedCapacity: rows.count) { buffer, initialized in
            // Each worker initializes its own disjoint slice of the buffer.
            nonisolated(unsafe) let output = buffer
            Parallel.forEachRange(count: rows.count, grain: 1024) { range in
                for index in range {
                    (output.baseAddress! + index).initialize(to: RowCheck(rows[index]))
                }
            }
            initialized = rows.count
        }
    }
}

/// The audit's running state: problems found so far, and which sequences are known or suspected bad.
private struct Auditor {
    private(set) var problems: [String] = []
    private var unlisted = 0
    /// Sequences of rows found bad by themselves, in the order found.
    private var badEntries: [Int] = []
    /// The lowest start of a checkpoint range that no known bad row explains.
    private var firstSuspect: Int?

    var listedProblems: [String] {
        unlisted == 0 ? problems : problems + ["…and \(unlisted) more problem\(unlisted == 1 ? "" : "s") not listed"]
    }

    /// The lowest bad row, or failing that, the start of the first range a checkpoint blames.
    var firstBadSequence: Int? {
        let known = badEntries.min()
        guard let suspect = firstSuspect else { return known }
        return min(known ?? suspect, suspect)
    }

    mutating func report(_ problem: String) {
        if problems.count < LedgerAudit.maximumListedProblems {
            problems.append(problem)
        } else {
            unlisted += 1
        }
    }

    /// Reports a problem with the row at `sequence` itself.
    mutating func report(_ problem: String, bad sequence: Int) {
        report(problem)
        badEntries.append(sequence)
    }

    /// Reports a problem somewhere in rows `range`: a suspect only when no bad row already found lies in it.
    mutating func report(_ problem: String, suspect range: Range<Int>) {
        report(problem)
        // badEntries is sorted by now: find the first bad row at or after the range's start.
        var low = 0
        var high = badEntries.count
        while low < high {
            let middle = (low + high) / 2
            if badEntries[middle] < range.lowerBound { low = middle + 1 } else { high = middle }
        }
        if low == badEntries.count || !range.contains(badEntries[low]) {
            firstSuspect = min(firstSuspect ?? range.lowerBound, range.lowerBound)
        }
    }

    mutating func checkCheckpoints(_ notes: [String], tree: MerkleTree, verifier: NoteVerifier?, origin: String?) {
        badEntries.sort()
        // First read every checkpoint, so that each can be judged against all those that match the rows.
        let readings = Self.read(notes, verifier: verifier, origin: origin)
        let matched = MatchedCheckpoints(readings, tree: tree, count: notes.count)
        var previous: (index: Int, checkpoint: Checkpoint, matched: Bool)?
        for (index, reading) in readings.enumerated() {
            let checkpoint: Checkpoint
            switch reading {
            case .unreadable(let error):
                report("\(matched.label(index)): \(error.message)")
                continue
            case .wrongOrigin(let read, let expected):
                report(
                    "\(matched.named(index, read)): expected origin \(Checkpoint.quote(expected)), found \(Checkpoint.quote(read.origin))"
                )
                continue
            case .read(let read):
                checkpoint = read
            }
            let isMatch = matched.matches(checkpoint)
            if !isMatch { reportMismatch(index, checkpoint, matched: matched, tree: tree) }
            if let previous {
                checkSequence(from: previous, to: (index, checkpoint, isMatch), names: matched, tree: tree)
            }
            previous = (index, checkpoint, isMatch)
        }
    }

    /// Every checkpoint note read (and verified, with a verifier), each of one origin: the one given, else the
    /// verifier's, else the first note's.
    private static func read(_ notes: [String], verifier: NoteVerifier?, origin: String?) -> [Reading] {
        var expectedOrigin = origin ?? verifier?.name
        var readings: [Reading] = []
        for note in notes {
            do throws(LedgerError) {
                let checkpoint: Checkpoint
                if let verifier {
                    checkpoint = try verifier.verify(note)
                } else {
                    checkpoint = try Self.unverifiedCheckpoint(note)
                }
                if let expected = expectedOrigin, checkpoint.origin != expected {
                    readings.append(.wrongOrigin(checkpoint, expected: expected))
                } else {
                    expectedOrigin = checkpoint.origin
                    readings.append(.read(checkpoint))
                }
            } catch {
                readings.append(.unreadable(error))
            }
        }
        return readings
    }

    /// A checkpoint whose root is not the rows': the rows up to its size are vouched for by a matching checkpoint
    /// at least as large (then the log signed two histories); otherwise blame the rows since the largest matching
    /// checkpoint below it.
    private mutating func reportMismatch(
        _ index: Int,
        _ checkpoint: Checkpoint,
        matched: MatchedCheckpoints,
        tree: MerkleTree
    ) {
        let name = matched.named(index, checkpoint)
        let (below, covering) = matched.around(size: checkpoint.size)
        let start = below?.checkpoint.size ?? 0
        let since =
            below.map { "since \(matched.named($0.index, $0.checkpoint)), the last that matched" } ?? "from the start"
        if let covering {
            report(
                "\(name): signed root \(checkpoint.root.hex) does not match the rows, which \(matched.named(covering.index, covering.checkpoint)) vouches for: the log signed two different histories"
            )
        } else if checkpoint.size > tree.size {
            report(
                "\(name): expected at least \(checkpoint.size) entries, the ledger has \(tree.size): entries \(tree.size)..<\(checkpoint.size) are missing",
                suspect: min(start, tree.size)..<checkpoint.size
            )
        } else {
            report(
                "\(name): signed root \(checkpoint.root.hex) does not match the root recomputed from the entries, \(tree.rootUnchecked(size: checkpoint.size).hex): entries \(start)..<\(checkpoint.size) (\(since)) were altered, removed or reordered, or the checkpoint was signed over another history",
                suspect: start..<checkpoint.size
            )
        }
    }

    /// One checkpoint after the one before it: a log never shrinks, one size has one root, and between two
    /// checkpoints that match the rows the consistency proof verifies.
    private mutating func checkSequence(
        from previous: (index: Int, checkpoint: Checkpoint, matched: Bool),
        to current: (index: Int, checkpoint: Checkpoint, matched: Bool),
        names: MatchedCheckpoints,
        tree: MerkleTree
    ) {
        let old = previous.checkpoint
        let checkpoint = current.checkpoint
        let name = names.named(current.index, checkpoint)
        let before = names.named(previous.index, old)
        if checkpoint.size < old.size {
            report("\(name): expected a size of at least \(old.size), as \(before) has; a log never shrinks")
        } else if checkpoint.size == old.size, checkpoint.root != old.root {
            report("\(name): has the size of \(before) but another root: the log forked")
        } else if old.size > 0, previous.matched, current.matched {
            // (Every tree extends the empty one: from size 0 there is nothing to prove.)
            // Both roots are the rebuilt tree's; the proof between them must verify.
            let proof = tree.consistencyProofUnchecked(from: old.size, to: checkpoint.size)
            if !MerkleVerifier.verifyConsistency(
                from: old.size,
                to: checkpoint.size,
                proof: proof,
                oldRoot: old.root,
                newRoot: checkpoint.root
            ) {
                report("\(name): the consistency proof from \(before) does not verify")
            }
        }
    }

    /// What reading one checkpoint note gave.
    fileprivate enum Reading {
        case unreadable(LedgerError)
        case wrongOrigin(Checkpoint, expected: String)
        case read(Checkpoint)
    }

    /// Reads the checkpoint in a note without checking its signature.
    static func unverifiedCheckpoint(_ note: String) throws(LedgerError) -> Checkpoint {
        try Checkpoint(parsing: SignedNote(parsing: note).body)
    }
}

/// The checkpoints that match the ledger's rows, by size, to find the ones around any other in O(log c); and how
/// the audit names checkpoints.
private struct MatchedCheckpoints {
    let tree: MerkleTree
    let count: Int
    let matched: [(index: Int, checkpoint: Checkpoint)]

    init(_ readings: [Auditor.Reading], tree: MerkleTree, count: Int) {
        self.tree = tree
        self.count = count
        matched = readings.enumerated().compactMap { index, reading in
            guard case .read(let checkpoint) = reading, Self.matches(checkpoint, tree) else { return nil }
            return (index, checkpoint)
        }.sorted { ($0.checkpoint.size, $0.index) < ($1.checkpoint.size, $1.index) }
    }

    func label(_ index: Int) -> String { "checkpoint \(index + 1) of \(count)" }

    func named(_ index: Int, _ checkpoint: Checkpoint) -> String { "\(label(index)) (size \(checkpoint.size))" }

    /// Whether the rows' tree of the checkpoint's size has the checkpoint's root.
    func matches(_ checkpoint: Checkpoint) -> Bool { Self.matches(checkpoint, tree) }

    /// Whether `tree` of the checkpoint's size has the checkpoint's root.
    static func matches(_ checkpoint: Checkpoint, _ tree: MerkleTree) -> Bool {
        checkpoint.size <= tree.size && tree.rootUnchecked(size: checkpoint.size) == checkpoint.root
    }

    /// The largest matching checkpoint below `size` and the first of at least `size`.
    func around(
        size: Int
    ) -> (below: (index: Int, checkpoint: Checkpoint)?, covering: (index: Int, checkpoint: Checkpoint)?) {
        var low = 0
        var high = matched.count
        while low < high {
            let middle = (low + high) / 2
            if matched[middle].checkpoint.size < size { low = middle + 1 } else { high = middle }
        }
        return (low > 0 ? matched[low - 1] : nil, low < matched.count ? matched[low] : nil)
    }
}
