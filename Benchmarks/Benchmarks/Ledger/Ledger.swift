import Benchmark
import SovereignBase
import SovereignLedger

// The ledger's Merkle tree and audit at a million entries, in memory (no database): building the tree
// from leaf hashes, appending, proofs, and a full audit of rows and signed checkpoints.
//
// Inputs are made once, lazily, in `setup`, outside the measurement.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident, .throughput]

let million = 1_000_000

/// Leaf hashes of a million distinct entries.
let leafHashes: [TreeHash] = (0..<million).map { MerkleHash.leaf(Array("entry \($0)".utf8)) }
/// The tree over them.
let tree = MerkleTree(leafHashes: leafHashes)

/// SplitMix64: the same indices every run.
struct Indices {
    var state: UInt64 = 2026
    mutating func next(below bound: Int) -> Int {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

/// A million stored rows like the server writes them, and a signed checkpoint every 100,000 entries.
struct AuditInput: Sendable {
    let rows: [StoredEntry]
    let checkpoints: [String]
    let verifier: NoteVerifier

    init() {
        // The known test key of golang.org/x/mod's sumdb/note tests: any fixed key will do.
        let signer = try! NoteSigner(
            privateKeyText: "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
        )
        let kinds = [
            "workload.submitted", "workload.placed", "workload.checkpointed", "power.shed", "workload.completed",
        ]
        var rows: [StoredEntry] = []
        rows.reserveCapacity(million)
        var checkpoints: [String] = []
        var tree = MerkleTree()
        for sequence in 0..<million {
            let entry = LedgerEntry(
                sequence: sequence,
                time:
                    "2026-11-22T10:00:00.\(String(repeating: "0", count: 3 - String(sequence % 1000).count))\(sequence % 1000)Z",
                kind: kinds[sequence % kinds.count],
                fields: [
                    "workload": .string("train-\(sequence % 977)"), "site": .string("site-\(sequence % 61)"),
                    "gpus": .number(Double(8 * (sequence % 16 + 1))),
                    "energy_kwh": .number(Double(sequence % 1000) / 8),
                ]
            )
            let row = StoredEntry(entry)
            rows.append(row)
            tree.append(row.leafHash)
            if (sequence + 1) % 100_000 == 0 {
                checkpoints.append(
                    signer.sign(Checkpoint(origin: signer.name, size: tree.size, root: tree.root))
                )
            }
        }
        self.rows = rows
        self.checkpoints = checkpoints
        verifier = signer.verifier
    }
}

let auditInput = AuditInput()

let benchmarks: @Sendable () -> Void = {
    Benchmark(
        "MerkleTree build from 1M leaf hashes",
        configuration: .init(metrics: metrics, warmupIterations: 1, maxDuration: .seconds(60), maxIterations: 10),
        closure: { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(MerkleTree(leafHashes: leafHashes))
            }
        },
        setup: { blackHole(leafHashes.count) }
    )

    Benchmark(
        "MerkleTree append 1M leaf hashes",
        configuration: .init(
            metrics: metrics,
            warmupIterations: 1,
            scalingFactor: .mega,
            maxDuration: .seconds(60),
            maxIterations: 10
        ),
        closure: { benchmark in
            var appended = MerkleTree()
            for index in benchmark.scaledIterations {
                appended.append(leafHashes[index % million])
            }
            blackHole(appended.root)
        },
        setup: { blackHole(leafHashes.count) }
    )

    Benchmark(
        "inclusion proof at 1M entries",
        configuration: .init(metrics: metrics, warmupIterations: 10, scalingFactor: .kilo, maxDuration: .seconds(20)),
        closure: { benchmark in
            var indices = Indices()
            for _ in benchmark.scaledIterations {
                blackHole(try tree.inclusionProof(index: indices.next(below: million), size: million))
            }
        },
        setup: { blackHole(tree.size) }
    )

    Benchmark(
        "consistency proof at 1M entries",
        configuration: .init(metrics: metrics, warmupIterations: 10, scalingFactor: .kilo, maxDuration: .seconds(20)),
        closure: { benchmark in
            var indices = Indices()
            for _ in benchmark.scaledIterations {
                blackHole(try tree.consistencyProof(from: 1 + indices.next(below: million - 1), to: million))
            }
        },
        setup: { blackHole(tree.size) }
    )

    Benchmark(
        "root of a prefix at 1M entries",
        configuration: .init(metrics: metrics, warmupIterations: 10, scalingFactor: .kilo, maxDuration: .seconds(20)),
        closure: { benchmark in
            var indices = Indices()
            for _ in benchmark.scaledIterations {
                blackHole(try tree.root(size: 1 + indices.next(below: million)))
            }
        },
        setup: { blackHole(tree.size) }
    )

    Benchmark(
        "verify inclusion proof at 1M entries",
        configuration: .init(metrics: metrics, warmupIterations: 10, scalingFactor: .kilo, maxDuration: .seconds(20)),
        closure: { benchmark in
            let root = tree.root
            let proofs = (0..<64).map { index in
                (index * 15_601, try! tree.inclusionProof(index: index * 15_601, size: million))
            }
            for iteration in benchmark.scaledIterations {
                let (index, proof) = proofs[iteration % proofs.count]
                blackHole(
                    MerkleVerifier.verifyInclusion(
                        leafHash: leafHashes[index],
                        index: index,
                        size: million,
                        proof: proof,
                        root: root
                    )
                )
            }
        },
        setup: { blackHole(tree.size) }
    )

    Benchmark(
        "audit 1M entries, 10 signed checkpoints",
        configuration: .init(metrics: metrics, warmupIterations: 0, maxDuration: .seconds(120), maxIterations: 5),
        closure: { benchmark in
            for _ in benchmark.scaledIterations {
                let report = LedgerAudit.audit(
                    entries: auditInput.rows,
                    checkpoints: auditInput.checkpoints,
                    verifier: auditInput.verifier
                )
                precondition(report.ok, "\(report)")
                blackHole(report)
            }
        },
        setup: { blackHole(auditInput.rows.count) }
    )
}
