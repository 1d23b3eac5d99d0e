import Crypto
import Foundation
import SovereignLedger
import Testing

/// A 50-entry ledger with signed checkpoints at sizes 10, 20, 35 and 50, as the server would keep it.
struct LedgerFixture {
    static let origin = "sovereign.example/ledger"
    static let signer = NoteSigner(
        name: origin,
        privateKey: try! Curve25519.Signing.PrivateKey(rawRepresentation: SHA256.hash(data: Array("audit".utf8)))
    )
    static let kinds = ["workload.submitted", "workload.placed", "power.shed", "workload.completed"]
    static let checkpointSizes = [10, 20, 35, 50]

    var entries: [LedgerEntry]
    var rows: [StoredEntry]
    var checkpoints: [String]

    init(count: Int = 50, variant: String = "") {
        entries = (0..<count).map { sequence in
            LedgerEntry(
                sequence: sequence,
                time:
                    "2026-11-22T10:\(String(format: "%02d", sequence % 60)):00.\(String(format: "%03d", sequence % 1000))Z",
                kind: Self.kinds[sequence % Self.kinds.count],
                fields: [
                    "workload": .string("job-\(sequence)\(variant)"), "gpus": .number(Double(8 * (sequence % 5 + 1))),
                ]
            )
        }
        rows = entries.map(StoredEntry.init)
        let tree = MerkleTree(leafHashes: rows.map(\.leafHash))
        checkpoints = Self.checkpointSizes.filter { $0 <= count }.map { size in
            Self.signer.sign(Checkpoint(origin: Self.origin, size: size, root: try! tree.root(size: size)))
        }
    }

    func audit(verifier: NoteVerifier? = LedgerFixture.signer.verifier) -> AuditReport {
        LedgerAudit.audit(entries: rows, checkpoints: checkpoints, verifier: verifier)
    }

    /// Replaces row `sequence`'s fields, keeping (or, when `rehash`, recomputing) its stored leaf hash.
    mutating func alter(_ sequence: Int, rehash: Bool) {
        var entry = entries[sequence]
        entry.fields["gpus"] = 512
        let json = entry.canonicalJSON()
        rows[sequence].canonicalJSON = json
        if rehash { rows[sequence].leafHash = MerkleHash.leaf(json) }
    }
}

/// The audit names what is wrong: the first entry out of place or altered, the checkpoint that does not
/// verify or does not match, and the range of entries to look at.
struct LedgerAuditTests {
    @Test func untouchedLedgerAuditsClean() throws {
        let ledger = LedgerFixture()
        let report = ledger.audit()
        #expect(report.ok)
        #expect(report.problems == [])
        #expect(report.entries == 50)
        #expect(report.checkpoints == 4)
        #expect(report.firstBadSequence == nil)
        #expect(report.root == MerkleTree(leafHashes: ledger.rows.map(\.leafHash)).root)
        #expect(report.description == "ok: 50 entries, 4 checkpoints, root \(report.root.hex)")
        // Without a key the notes must still parse, and the origin still has to agree.
        #expect(ledger.audit(verifier: nil).ok)
        // An empty ledger is fine too.
        let empty = LedgerAudit.audit(entries: [], checkpoints: [], verifier: nil)
        #expect(empty.ok)
        #expect(empty.root == MerkleHash.empty)
    }

    @Test func alteredRowIsNamed() {
        var ledger = LedgerFixture()
        ledger.alter(12, rehash: false)
        let report = ledger.audit()
        #expect(!report.ok)
        #expect(report.firstBadSequence == 12)
        #expect(
            report.problems.first?.hasPrefix("entry 12 (workload.submitted): stored leaf hash ") == true,
            "\(report)"
        )
        #expect(report.problems.first?.contains("does not match its contents") == true)
        // The tree is rebuilt from the contents, so the checkpoints covering entry 12 no longer match.
        #expect(
            report.problems.contains { $0.hasPrefix("checkpoint 2 of 4 (size 20)") && $0.contains("entries 10..<20") }
        )
        #expect(!report.problems.contains { $0.hasPrefix("checkpoint 1 of 4") })
    }

    @Test func alteredRowWithRecomputedHashIsCaughtByTheCheckpoints() {
        var ledger = LedgerFixture()
        ledger.alter(27, rehash: true)
        let report = ledger.audit()
        #expect(report.firstBadSequence == 20)
        #expect(
            report.problems.first?.hasPrefix("checkpoint 3 of 4 (size 35): signed root ") == true,
            "\(report)"
        )
        #expect(
            report.problems.first?.contains(
                "entries 20..<35 (since checkpoint 2 of 4 (size 20), the last that matched) were altered"
            ) == true
        )
        #expect(report.problems.count == 2)
        #expect(report.problems.last?.hasPrefix("checkpoint 4 of 4 (size 50)") == true)
    }

    @Test func removedRowIsNamed() {
        var ledger = LedgerFixture()
        ledger.rows.remove(at: 7)
        let report = ledger.audit()
        #expect(report.entries == 49)
        #expect(report.firstBadSequence == 7)
        #expect(
            report.problems.first == "row 7: expected sequence 7, found 8 (entries 7..<8 are missing or out of order)"
        )
        #expect(
            report.problems.contains {
                $0.hasPrefix("checkpoint 4 of 4 (size 50): expected at least 50 entries, the ledger has 49")
            }
        )
    }

    @Test func swappedRowsAreNamed() {
        var ledger = LedgerFixture()
        ledger.rows.swapAt(30, 31)
        let report = ledger.audit()
        #expect(report.firstBadSequence == 30)
        #expect(
            report.problems.first
                == "row 30: expected sequence 30, found 31 (entries 30..<31 are missing or out of order)"
        )
        #expect(
            report.problems.contains { $0.hasPrefix("checkpoint 3 of 4 (size 35)") && $0.contains("entries 20..<35") }
        )
        #expect(report.problems.count == 3)
    }

    @Test func wrongCheckpointSignatureIsNamed() {
        var ledger = LedgerFixture()
        // Change one base64 character of the second checkpoint's signature, past the key ID.
        var note = Array(ledger.checkpoints[1].utf8)
        let index = note.count - 10
        note[index] = note[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        ledger.checkpoints[1] = String(decoding: note, as: UTF8.self)
        let report = ledger.audit()
        #expect(
            report.problems == [
                "checkpoint 2 of 4: note: the signature by \(LedgerFixture.origin)+\(String(format: "%08x", LedgerFixture.signer.keyID)) does not verify over the note body"
            ]
        )
        #expect(report.firstBadSequence == nil)
        // Signed by another key of the same name.
        let impostor = NoteSigner(name: LedgerFixture.origin, privateKey: Curve25519.Signing.PrivateKey())
        ledger.checkpoints[1] = impostor.sign(try! LedgerFixture.signer.verifier.verify(LedgerFixture().checkpoints[1]))
        let other = ledger.audit()
        #expect(other.problems.count == 1)
        #expect(
            other.problems.first?.hasPrefix("checkpoint 2 of 4: note: expected a signature by \(LedgerFixture.origin)+")
                == true
        )
    }

    /// A validly signed checkpoint over another history: the log showed someone a different ledger.
    @Test func inconsistentCheckpointIsNamed() throws {
        var ledger = LedgerFixture()
        let fork = LedgerFixture(variant: "-fork")
        var forkRows = ledger.rows
        forkRows.replaceSubrange(20..<35, with: fork.rows[20..<35])
        let forkTree = MerkleTree(leafHashes: forkRows.map(\.leafHash))
        ledger.checkpoints[2] = LedgerFixture.signer.sign(
            Checkpoint(origin: LedgerFixture.origin, size: 35, root: try forkTree.root(size: 35))
        )
        // Checkpoint 4 matches the rows and covers entries 0..<50, so the rows are not to blame.
        let report = ledger.audit()
        #expect(report.problems.count == 1, "\(report)")
        #expect(report.problems.first?.hasPrefix("checkpoint 3 of 4 (size 35): signed root ") == true)
        #expect(
            report.problems.first?.hasSuffix(
                "does not match the rows, which checkpoint 4 of 4 (size 50) vouches for: the log signed two different histories"
            )
                == true
        )
        #expect(report.firstBadSequence == nil)

        // When it is the latest checkpoint, nothing vouches for the rows after checkpoint 2: they are suspect.
        ledger.checkpoints.removeLast()
        let latest = ledger.audit()
        #expect(latest.problems.count == 1, "\(latest)")
        #expect(latest.problems.first?.hasPrefix("checkpoint 3 of 3 (size 35): signed root ") == true)
        #expect(
            latest.problems.first?.contains(
                "entries 20..<35 (since checkpoint 2 of 3 (size 20), the last that matched)"
            ) == true
        )
        #expect(latest.firstBadSequence == 20)
    }

    @Test func forkedAndShrinkingCheckpointsAreNamed() throws {
        var ledger = LedgerFixture()
        let other = LedgerFixture(variant: "-other")
        // Same size as checkpoint 2, another root.
        ledger.checkpoints.insert(other.checkpoints[1], at: 2)
        var report = ledger.audit()
        #expect(
            report.problems.contains(
                "checkpoint 3 of 5 (size 20): has the size of checkpoint 2 of 5 (size 20) but another root: the log forked"
            )
        )
        #expect(
            report.problems.contains {
                $0.hasPrefix("checkpoint 3 of 5 (size 20): signed root")
                    && $0.hasSuffix(
                        "which checkpoint 2 of 5 (size 20) vouches for: the log signed two different histories"
                    )
            }
        )
        #expect(report.problems.count == 2)

        ledger = LedgerFixture()
        ledger.checkpoints.swapAt(1, 2)
        report = ledger.audit()
        #expect(
            report.problems == [
                "checkpoint 3 of 4 (size 20): expected a size of at least 35, as checkpoint 2 of 4 (size 35) has; a log never shrinks"
            ]
        )
    }

    @Test func checkpointOfAnotherOriginIsNamed() {
        var ledger = LedgerFixture()
        let tree = MerkleTree(leafHashes: ledger.rows.map(\.leafHash))
        let stranger = NoteSigner(name: "elsewhere.example/log", privateKey: LedgerFixture.signer.privateKey)
        ledger.checkpoints[0] = stranger.sign(
            Checkpoint(origin: "elsewhere.example/log", size: 10, root: try! tree.root(size: 10))
        )
        #expect(
            ledger.audit(verifier: stranger.verifier).problems.first
                == "checkpoint 2 of 4: note: expected a signature by \(stranger.verifier.name)+\(String(format: "%08x", stranger.keyID)), found signatures by \(LedgerFixture.origin)+\(String(format: "%08x", LedgerFixture.signer.keyID))"
        )
        #expect(
            ledger.audit(verifier: nil).problems == [
                "checkpoint 2 of 4 (size 20): expected origin \"elsewhere.example/log\", found \"sovereign.example/ledger\"",
                "checkpoint 3 of 4 (size 35): expected origin \"elsewhere.example/log\", found \"sovereign.example/ledger\"",
                "checkpoint 4 of 4 (size 50): expected origin \"elsewhere.example/log\", found \"sovereign.example/ledger\"",
            ]
        )
        #expect(
            LedgerAudit.audit(
                entries: ledger.rows,
                checkpoints: ledger.checkpoints,
                verifier: nil,
                origin: LedgerFixture.origin
            )
            .problems == [
                "checkpoint 1 of 4 (size 10): expected origin \"sovereign.example/ledger\", found \"elsewhere.example/log\""
            ]
        )
    }

    @Test func unreadableRowsAreNamed() {
        var ledger = LedgerFixture()
        // Non-canonical bytes with a matching stored hash: only canonical form gives it away.
        var spaced = ledger.rows[5].canonicalJSON
        spaced.insert(UInt8(ascii: " "), at: 1)
        ledger.rows[5].canonicalJSON = spaced
        ledger.rows[5].leafHash = MerkleHash.leaf(spaced)
        // A row whose JSON claims another sequence.
        var moved = ledger.entries[8]
        moved.sequence = 9
        ledger.rows[8] = StoredEntry(
            sequence: 8,
            canonicalJSON: moved.canonicalJSON(),
            leafHash: MerkleHash.leaf(moved.canonicalJSON())
        )
        let report = ledger.audit()
        #expect(report.firstBadSequence == 5)
        #expect(
            report.problems.first?.hasPrefix(
                "entry 5: ledger entry 5: expected canonical JSON (RFC 8785), found a difference at byte 1"
            ) == true,
            "\(report)"
        )
        #expect(
            report.problems.dropFirst().first
                == "entry 8 (workload.submitted): its JSON says sequence 9, the row says 8"
        )
    }

    /// Rows are checked in batches spread over the cores; problems still come in row order.
    @Test func largeLedgerReportsInRowOrder() {
        var ledger = LedgerFixture(count: 40_000)
        #expect(ledger.audit().ok)
        ledger.alter(20_000, rehash: false)
        ledger.rows.swapAt(33_000, 33_001)
        ledger.alter(39_999, rehash: false)
        let report = ledger.audit()
        #expect(report.entries == 40_000)
        #expect(report.firstBadSequence == 20_000)
        #expect(report.problems.count == 3, "\(report)")
        #expect(report.problems.first?.hasPrefix("entry 20000 (workload.submitted): stored leaf hash") == true)
        #expect(report.problems.dropFirst().first?.hasPrefix("row 33000: expected sequence 33000, found 33001") == true)
        #expect(report.problems.last?.hasPrefix("entry 39999 (workload.completed): stored leaf hash") == true)
    }

    @Test func longListsOfProblemsAreCut() {
        var ledger = LedgerFixture(count: 150)
        for index in ledger.rows.indices { ledger.rows[index].leafHash = MerkleHash.empty }
        let report = ledger.audit()
        #expect(report.problems.count == LedgerAudit.maximumListedProblems + 1)
        #expect(report.problems.last == "…and 50 more problems not listed")
        #expect(report.firstBadSequence == 0)
        #expect(
            report.description.hasPrefix(
                "FAILED: 150 entries, 4 checkpoints, 101 problems:\n- entry 0 (workload.submitted)"
            )
        )
    }
}
