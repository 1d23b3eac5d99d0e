import Benchmark
import Foundation
import SovereignAnonymisation
import SovereignBase
import SovereignModel

// `sovereign anonymise` minus spec loading: both streaming passes over a synthetic CSV, Mondrian over its
// quasi-identifiers, the output written. Rows are generated deterministically in `setup` and streamed to
// disk, so the peak resident memory is the anonymiser's.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]

let workRoot = FileManager.default.temporaryDirectory.appendingPathComponent("sovereign-bench-anonymisation")

/// The columns: an identifier, five candidate quasi-identifiers, a date, a sensitive column.
let header = "patient_id,age,sex,county,income,education,admitted,diagnosis\n"

/// Writes `rows` synthetic rows (seeded, so every run reads the same file) unless the file exists.
func ensureInput(rows: Int) throws -> String {
    let path = workRoot.appendingPathComponent("rows-\(rows).csv").path
    if FileManager.default.fileExists(atPath: path) { return path }
    try FileManager.default.createDirectory(at: workRoot, withIntermediateDirectories: true)
    var generator = SeededGenerator(seed: UInt64(rows))
    try POSIX.writeAtomically(to: path, durable: false) { sink in
        var buffer = Array(header.utf8)
        for row in 0..<rows {
            let age = 18 + generator.nextInt(below: 73)
            let sex = generator.nextInt(below: 2) == 0 ? "F" : "M"
            let county = "county-\(generator.nextInt(below: 47))"
            let income = 1_000 * (1 + generator.nextInt(below: 200))
            let education = generator.nextInt(below: 7)
            let month = 1 + generator.nextInt(below: 12)
            let diagnosis = "icd-\(generator.nextInt(below: 40))"
            let line =
                "P\(row),\(age),\(sex),\(county),\(income),\(education),2025-\(month < 10 ? "0" : "")\(month)-15,"
                + "\(diagnosis)\n"
            buffer.append(contentsOf: line.utf8)
            if buffer.count >= 1 << 16 {
                try buffer.withUnsafeBytes { try sink($0) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try buffer.withUnsafeBytes { try sink($0) }
    }
    return path
}

let allQuasiIdentifiers: [Anonymisation.QuasiIdentifier] = [
    .init(column: "age", kind: .numeric),
    .init(column: "sex", kind: .categorical),
    .init(column: "county", kind: .categorical),
    .init(column: "income", kind: .numeric),
    .init(column: "education", kind: .numeric),
]

func register(rows: Int, quasiIdentifiers: Int, maxIterations: Int) {
    let method = Anonymisation(
        pseudonymise: ["patient_id"],
        coarsenDates: [.init(column: "admitted", granularity: .year)],
        quasiIdentifiers: Array(allQuasiIdentifiers.prefix(quasiIdentifiers)),
        k: 10,
        diversity: .init(column: "diagnosis", l: 2)
    )
    let input = Box()
    Benchmark(
        "anonymise \(rows) rows \(quasiIdentifiers) QIs k=10 l=2",
        configuration: .init(
            metrics: metrics,
            warmupIterations: 0,
            maxDuration: .seconds(120),
            maxIterations: maxIterations
        ),
        closure: { benchmark in
            guard let path = input.path else { return }
            let key = try PseudonymKey(bytes: Array(repeating: 1, count: 32))
            let anonymiser = try Anonymiser(method: method, key: key)
            for _ in benchmark.scaledIterations {
                let report = try anonymiser.run(input: path, output: path + ".out")
                blackHole(report.kAchieved)
            }
        },
        setup: { input.path = try ensureInput(rows: rows) }
    )
}

/// The input's path, set in setup.
final class Box: @unchecked Sendable {
    var path: String?
}

let benchmarks: @Sendable () -> Void = {
    for rows in [100_000, 300_000, 1_000_000] { register(rows: rows, quasiIdentifiers: 5, maxIterations: 3) }
    for quasiIdentifiers in [1, 3] { register(rows: 1_000_000, quasiIdentifiers: quasiIdentifiers, maxIterations: 3) }
}
