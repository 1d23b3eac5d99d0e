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

    private var auditor = Auditor()
    /// Every checkpoint note, read (and verified) before the first row.
    private let readings: [Auditor.Reading]
    /// The tree sizes whose roots the checkpoints need, ascending, and the next one to record.
    private let wantedSizes: [Int]
    private var nextWanted = 0
    /// The rebuilt tree as it grows: only its frontier, and the roots recorded at the wanted sizes.
    private var frontier = MerkleFrontier()
    private var roots: [Int: TreeHash] = [0: MerkleHash.empty]
    private var batch: [StoredEntry] = []
    private var orderReported = false

    /// Starts an audit: reads every checkpoint note (and verifies its signature when `verifier` is given).
    /// Feed the rows in stored order with ``add(_:)``, then call ``finish()``.
    ///
    /// - Parameters:
    ///   - checkpoints: The signed checkpoint notes, oldest first.
    ///   - verifier: The log's key; when `nil`, signatures are not checked (the notes must still parse).
    ///   - origin: The origin every checkpoint must carry; when `nil`, the verifier's key name, or without
    ///     a verifier the first checkpoint's origin.
    public init(checkpoints: [String], verifier: NoteVerifier?, origin: String? = nil) {
        readings = Auditor.read(checkpoints, verifier: verifier, origin: origin)
        wantedSizes = Set(readings.compactMap(\.checkpoint?.size)).filter { $0 > 0 }.sorted()
        batch.reserveCapacity(rowBatchSize)
    }

    /// Audits a ledger.
    ///
    /// It checks that the rows' sequences run 0, 1, 2, … without gaps or reordering; that each row is
    /// canonical JSON of a ledger entry whose own `sequence` is the row's; that each stored leaf hash is
    /// the hash of the row's bytes. It rebuilds the tree from the rows' contents, then for every
    /// checkpoint, in order: verifies its signature (when `verifier` is given) and origin, compares its
    /// root with the recomputed root at its size, and checks it against the checkpoint before it: sizes
    /// never shrink and equal sizes have equal roots. A checkpoint that does not match is blamed on the
    /// entries since the largest smaller checkpoint that matched, unless a matching checkpoint at least as
    /// large vouches for those entries: then the log itself signed two different histories. (Two checkpoints
    /// whose roots both equal the rebuilt tree's are consistent by construction: the rebuilt tree of the larger
    /// size extends the smaller, so no consistency proof needs to be checked between them.)
    ///
    /// The rows stream through: the audit keeps a batch of rows, the tree's frontier (one hash per set bit of
    /// its size) and one root per checkpoint size, so its memory does not grow with the ledger.
    ///
    /// - Parameters:
    ///   - entries: The rows in stored order.
    ///   - checkpoints: The signed checkpoint notes, oldest first.
    ///   - verifier: The log's key; when `nil`, signatures are not checked (the notes must still parse).
    ///   - origin: The origin every checkpoint must carry (see ``init(checkpoints:verifier:origin:)``).
    /// - Returns: The report.
    /// - Complexity: O(*n*) in the rows' total size, plus O(log *c*) per checkpoint; O(batch + log *n* + *c*)
    ///   memory for *c* checkpoints.
    public static func audit(
        entries: some Sequence<StoredEntry>,
        checkpoints: [String],
        verifier: NoteVerifier?,
        origin: String? = nil
    ) -> AuditReport {
        var audit = LedgerAudit(checkpoints: checkpoints, verifier: verifier, origin: origin)
        for row in entries { audit.add(row) }
        return audit.finish()
    }

    /// Takes the next row in stored order. Rows are checked in batches, each spread over the cores.
    public mutating func add(_ row: StoredEntry) {
        batch.append(row)
        if batch.count == rowBatchSize { checkBatch() }
    }

    /// Checks the rows still batched, then every checkpoint against the rebuilt tree.
    public mutating func finish() -> AuditReport {
        checkBatch()
        let tree = TreeRoots(size: frontier.size, roots: roots)
        auditor.checkCheckpoints(readings, tree: tree)
        return AuditReport(
            entries: frontier.size,
            checkpoints: readings.count,
            problems: auditor.listedProblems,
            firstBadSequence: auditor.firstBadSequence,
            root: frontier.root
        )
    }

    private mutating func checkBatch() {
        for (row, check) in zip(batch, RowCheck.run(batch)) {
            checkOrder(row)
            // A row's leaf is the hash of what it says, not of what it claims to hash to.
            frontier.append(check.leaf)
            recordRoot()
            checkContents(row, check)
        }
        batch.removeAll(keepingCapacity: true)
    }

    private mutating func recordRoot() {
        guard nextWanted < wantedSizes.count, wantedSizes[nextWanted] == frontier.size else { return }
        roots[frontier.size] = frontier.root
        nextWanted += 1
    }

    private mutating func checkOrder(_ row: StoredEntry) {
        let position = frontier.size
        guard row.sequence != position, !orderReported else { return }
        orderReported = true
        let detail =
            row.sequence > position
            ? "entries \(position)..<\(row.sequence) are missing or out of order"
            : "entry \(row.sequence) appears again or out of order"
        auditor.report(
            "row \(position): expected sequence \(position), found \(row.sequence) (\(detail))",
            bad: position
        )
    }

    private mutating func checkContents(_ row: StoredEntry, _ check: RowCheck) {
        let kind = check.kind ?? "unreadable"
        if let error = check.error {
            auditor.report("entry \(row.sequence): \(error.message)", bad: row.sequence)
        } else if check.sequence != row.sequence {
            auditor.report(
                "entry \(row.sequence) (\(kind)): its JSON says sequence \(check.sequence), the row says \(row.sequence)",
                bad: row.sequence
            )
        }
        if check.leaf != row.leafHash {
            auditor.report(
                "entry \(row.sequence) (\(kind)): stored leaf hash \(row.leafHash.hex) does not match its contents, which hash to \(check.leaf.hex)",
                bad: row.sequence
            )
        }
    }
}

/// The rebuilt tree as the checkpoint checks see it: its size, and its root at every size a checkpoint names.
private struct TreeRoots {
    let size: Int
    let roots: [Int: TreeHash]

    /// The root of the first `size` leaves; `size` is 0 or a checkpoint's size within the tree.
    func root(size: Int) -> TreeHash { roots[size]! }
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

    mutating func checkCheckpoints(_ readings: [Reading], tree: TreeRoots) {
        badEntries.sort()
        // Every checkpoint was read first, so that each can be judged against all those that match the rows.
        let matched = MatchedCheckpoints(readings, tree: tree, count: readings.count)
        var previous: (index: Int, checkpoint: Checkpoint)?
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
            if !matched.matches(checkpoint) { reportMismatch(index, checkpoint, matched: matched, tree: tree) }
            if let previous { checkSequence(from: previous, to: (index, checkpoint), names: matched) }
            previous = (index, checkpoint)
        }
    }

    /// Every checkpoint note read (and verified, with a verifier), each of one origin: the one given, else the
    /// verifier's, else the first note's.
    static func read(_ notes: [String], verifier: NoteVerifier?, origin: String?) -> [Reading] {
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
        tree: TreeRoots
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
                "\(name): signed root \(checkpoint.root.hex) does not match the root recomputed from the entries, \(tree.root(size: checkpoint.size).hex): entries \(start)..<\(checkpoint.size) (\(since)) were altered, removed or reordered, or the checkpoint was signed over another history",
                suspect: start..<checkpoint.size
            )
        }
    }

    /// One checkpoint after the one before it: a log never shrinks, and one size has one root.
    private mutating func checkSequence(
        from previous: (index: Int, checkpoint: Checkpoint),
        to current: (index: Int, checkpoint: Checkpoint),
        names: MatchedCheckpoints
    ) {
        let old = previous.checkpoint
        let checkpoint = current.checkpoint
        let name = names.named(current.index, checkpoint)
        let before = names.named(previous.index, old)
        if checkpoint.size < old.size {
            report("\(name): expected a size of at least \(old.size), as \(before) has; a log never shrinks")
        } else if checkpoint.size == old.size, checkpoint.root != old.root {
            report("\(name): has the size of \(before) but another root: the log forked")
        }
    }

    /// What reading one checkpoint note gave.
    enum Reading {
        case unreadable(LedgerError)
        case wrongOrigin(Checkpoint, expected: String)
        case read(Checkpoint)

        /// The checkpoint read, when it was read and of the right origin.
        var checkpoint: Checkpoint? {
            guard case .read(let checkpoint) = self else { return nil }
            return checkpoint
        }
    }

    /// Reads the checkpoint in a note without checking its signature.
    static func unverifiedCheckpoint(_ note: String) throws(LedgerError) -> Checkpoint {
        try Checkpoint(parsing: SignedNote(parsing: note).body)
    }
}

/// The checkpoints that match the ledger's rows, by size, to find the ones around any other in O(log c); and how
/// the audit names checkpoints.
private struct MatchedCheckpoints {
    let tree: TreeRoots
    let count: Int
    let matched: [(index: Int, checkpoint: Checkpoint)]

    init(_ readings: [Auditor.Reading], tree: TreeRoots, count: Int) {
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
    static func matches(_ checkpoint: Checkpoint, _ tree: TreeRoots) -> Bool {
        checkpoint.size <= tree.size && tree.root(size: checkpoint.size) == checkpoint.root
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
