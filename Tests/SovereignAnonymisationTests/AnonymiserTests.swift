import Foundation
import SovereignAnonymisation
import SovereignModel
import SovereignTesting
import Testing

/// End to end on a real public table: the 1996 American National Election Study (see Fixtures/README.md).
@Suite struct AnonymiserTests {
    static let anes = Fixtures.repositoryRoot
        .appendingPathComponent("Tests/SovereignAnonymisationTests/Fixtures/anes96.csv").path
    static let quasiIdentifiers = [
        Anonymisation.QuasiIdentifier(column: "age", kind: .numeric),
        Anonymisation.QuasiIdentifier(column: "educ", kind: .numeric),
        Anonymisation.QuasiIdentifier(column: "income", kind: .numeric),
        Anonymisation.QuasiIdentifier(column: "PID", kind: .categorical),
        Anonymisation.QuasiIdentifier(column: "popul", kind: .numeric),
    ]
    static let method = Anonymisation(
        pseudonymise: ["respondent"],
        noise: [Anonymisation.NoiseColumn(column: "TVnews", scale: 0.5)],
        quasiIdentifiers: quasiIdentifiers,
        k: 10,
        diversity: Anonymisation.Diversity(column: "vote", l: 2)
    )
    static let key = try! PseudonymKey(bytes: Array(repeating: 7, count: 32))
    static let otherKey = try! PseudonymKey(bytes: Array(repeating: 9, count: 32))

    /// A CSV without quoted fields (the fixture and what the anonymiser writes for it): header and rows.
    static func read(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let split = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (split[0], Array(split.dropFirst()))
    }

    /// Whether a source value lies in a generalised one: `lo..hi`, `a|b|c`, or the value itself.
    static func covers(_ generalised: String, _ value: String, numeric: Bool) -> Bool {
        if numeric, let range = generalised.range(of: "..") {
            let low = Double(generalised[..<range.lowerBound]) ?? .nan
            let high = Double(generalised[range.upperBound...]) ?? .nan
            return (Double(value) ?? .nan) >= low && (Double(value) ?? .nan) <= high
        }
        if numeric { return Double(generalised) == Double(value) }
        return generalised.split(separator: "|").contains { String($0) == value }
    }

    func run(
        _ method: Anonymisation = method,
        key: PseudonymKey = key,
        seed: UInt64 = 1
    ) throws -> (
        report: AnonymisationReport, output: String
    ) {
        let directory = try Fixtures.temporaryDirectory()
        let output = directory.appendingPathComponent("out.csv").path
        let report = try Anonymiser(method: method, key: key, noiseSeed: seed).run(input: Self.anes, output: output)
        return (report, output)
    }

    @Test func aLinkageAttackOnTheQuasiIdentifiersFindsNoClassSmallerThanK() throws {
        let (report, output) = try run()
        #expect(report.rowsIn == 944)
        #expect(report.meets(k: 10))
        #expect(report.kAchieved >= 10)
        #expect(report.ncp > 0 && report.ncp < 1)
        let source = try Self.read(Self.anes)
        let released = try Self.read(output)
        let sourceColumns = Self.quasiIdentifiers.map { qi in source.header.firstIndex(of: qi.column) ?? -1 }
        let releasedColumns = Self.quasiIdentifiers.map { qi in released.header.firstIndex(of: qi.column) ?? -1 }
        #expect(!sourceColumns.contains(-1) && !releasedColumns.contains(-1))
        // Grouped by their generalised quasi-identifiers, the released rows form classes of at least k.
        let classes = Dictionary(grouping: released.rows) { row in releasedColumns.map { row[$0] } }
        #expect(classes.values.allSatisfy { $0.count >= 10 })
        // Every class holds both votes (ℓ = 2 on `vote`).
        let vote = try #require(released.header.firstIndex(of: "vote"))
        #expect(classes.values.allSatisfy { Set($0.map { $0[vote] }).count >= 2 })
        // An attacker who knows a person's quasi-identifiers joins them to the release: at least k candidates.
        for person in source.rows {
            let candidates = released.rows.filter { row in
                zip(Self.quasiIdentifiers.indices, Self.quasiIdentifiers).allSatisfy { index, qi in
                    Self.covers(row[releasedColumns[index]], person[sourceColumns[index]], numeric: qi.kind == .numeric)
                }
            }
            #expect(candidates.count >= 10, "\(person) matches only \(candidates.count) released rows")
        }
    }

    @Test func pseudonymsNeverEqualTheirInputNorRepeatAcrossInputs() throws {
        let (_, output) = try run()
        let source = try Self.read(Self.anes)
        let released = try Self.read(output)
        let column = try #require(released.header.firstIndex(of: "respondent"))
        let identifiers = Set(source.rows.map { $0[0] })
        let pseudonyms = released.rows.map { $0[column] }
        #expect(Set(pseudonyms).count == pseudonyms.count)
        #expect(pseudonyms.allSatisfy { !identifiers.contains($0) && $0.hasPrefix("p") && $0.count == 33 })
    }

    @Test func theSameKeyGivesTheSamePseudonymsAnotherKeyUnrelatedOnes() throws {
        let first = try Self.read(try run().output)
        let again = try Self.read(try run().output)
        let other = try Self.read(try run(key: Self.otherKey).output)
        let column = try #require(first.header.firstIndex(of: "respondent"))
        #expect(first.rows.map { $0[column] } == again.rows.map { $0[column] })
        #expect(Set(first.rows.map { $0[column] }).isDisjoint(with: other.rows.map { $0[column] }))
        #expect(Self.key.id != Self.otherKey.id)
        #expect(
            Self.key.pseudonym(of: Array("R0001".utf8), column: "a")
                != Self.key.pseudonym(of: Array("R0001".utf8), column: "b")
        )
    }

    @Test func theSameInputMethodAndSeedGiveByteIdenticalOutput() throws {
        let first = try run()
        let second = try run()
        let reseeded = try run(seed: 2)
        #expect(first.report.outputSHA256 == second.report.outputSHA256)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: first.output))
                == Data(contentsOf: URL(fileURLWithPath: second.output))
        )
        #expect(first.report.outputSHA256 != reseeded.report.outputSHA256)  // the noise moved
    }

    /// The noise is drawn from the key and the seed together: the seed the report names does not give the draws
    /// back, another key draws other noise, and noise without a key is refused.
    @Test func theNoiseIsKeyedSoThePublishedSeedCannotReplayIt() throws {
        #expect(Self.key.noiseSeed(1) != 1)
        #expect(Self.key.noiseSeed(1) == Self.key.noiseSeed(1))
        #expect(Self.key.noiseSeed(1) != Self.otherKey.noiseSeed(1))
        #expect(Self.key.noiseSeed(1) != Self.key.noiseSeed(2))
        #expect(throws: AnonymisationError.self) { try Anonymiser(method: Self.method, key: nil, noiseSeed: 1) }
    }

    @Test func aGzipInputGivesTheSameOutputAsThePlainOne() throws {
        let directory = try Fixtures.temporaryDirectory()
        let gzipped = directory.appendingPathComponent("anes96.csv.gz").path
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -c '\(Self.anes)' > '\(gzipped)'"]
        try gzip.run()
        gzip.waitUntilExit()
        let plain = try run()
        let output = directory.appendingPathComponent("out.csv").path
        let report = try Anonymiser(method: Self.method, key: Self.key, noiseSeed: 1).run(
            input: gzipped,
            output: output
        )
        #expect(report.outputSHA256 == plain.report.outputSHA256)
        #expect(report.inputSHA256 == plain.report.inputSHA256)
    }

    @Test func aKTooLargeForTheTableSuppressesEveryRow() throws {
        var method = Self.method
        method.k = 1_000
        let (report, _) = try run(method)
        #expect(report.rowsOut == 0 && report.rowsSuppressed == 944)
        #expect(!report.meets(k: 1_000))
        #expect(report.ncp == 1)
    }

    @Test func errorsSayWhereWhatWasExpectedAndWhatWasFound() throws {
        let directory = try Fixtures.temporaryDirectory()
        let input = directory.appendingPathComponent("in.csv").path
        let output = directory.appendingPathComponent("out.csv").path
        let method = Anonymisation(quasiIdentifiers: [.init(column: "age", kind: .numeric)], k: 2)
        try "id,age\na,31\nb,old\n".write(toFile: input, atomically: true, encoding: .utf8)
        // The value itself is never quoted: it may be personal data, and a message travels further than the data.
        let unshown = "a value of 3 characters (not shown: it may be personal data)"
        #expect(throws: AnonymisationError(.input, "\(input):3:3: column \"age\": expected a number, found \(unshown)"))
        {
            try Anonymiser(method: method, key: nil).run(input: input, output: output)
        }
        try "id,years\na,31\n".write(toFile: input, atomically: true, encoding: .utf8)
        #expect(
            throws: AnonymisationError(
                .input,
                "\(input):1:1: expected a column named \"age\" (a quasi-identifier), found columns \"id\", \"years\""
            )
        ) { try Anonymiser(method: method, key: nil).run(input: input, output: output) }
        try "id,age\na,31,x\n".write(toFile: input, atomically: true, encoding: .utf8)
        #expect(
            throws: AnonymisationError(.input, "\(input):2:6: expected 2 fields (as in the header on line 1), found 3")
        ) { try Anonymiser(method: method, key: nil).run(input: input, output: output) }
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func anEmptyNumericQuasiIdentifierSuppressesItsRow() throws {
        let directory = try Fixtures.temporaryDirectory()
        let input = directory.appendingPathComponent("in.csv").path
        let output = directory.appendingPathComponent("out.csv").path
        let rows = (0..<6).map { "r\($0),\($0 == 3 ? "" : String(20 + $0)),2024-0\($0 + 1)-15" }
        try (["id,age,seen"] + rows).joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let method = Anonymisation(
            drop: ["id"],
            coarsenDates: [.init(column: "seen", granularity: .year)],
            quasiIdentifiers: [.init(column: "age", kind: .numeric)],
            k: 2
        )
        let report = try Anonymiser(method: method, key: nil).run(input: input, output: output)
        #expect(report.rowsSuppressed == 1 && report.rowsOut == 5)
        let written = try String(contentsOfFile: output, encoding: .utf8)
        #expect(written == "age,seen\n20..22,2024\n20..22,2024\n20..22,2024\n24..25,2024\n24..25,2024\n")
    }

    @Test func keptColumnsAreCopiedAsWrittenQuotesAndAll() throws {
        let directory = try Fixtures.temporaryDirectory()
        let input = directory.appendingPathComponent("in.csv").path
        let output = directory.appendingPathComponent("out.csv").path
        try "note,age\n\"a, \"\"b\"\"\",30\nplain,31\r\n".write(toFile: input, atomically: true, encoding: .utf8)
        let method = Anonymisation(quasiIdentifiers: [.init(column: "age", kind: .numeric)], k: 2)
        _ = try Anonymiser(method: method, key: nil).run(input: input, output: output)
        #expect(
            try String(contentsOfFile: output, encoding: .utf8) == "note,age\n\"a, \"\"b\"\"\",30..31\nplain,30..31\n"
        )
    }
}
