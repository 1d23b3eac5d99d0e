import Foundation
import SovereignBase
import SovereignFederation
import SovereignTesting
import Testing

struct TrainingDataTests {
    /// `gzip.compress(b"1,2,0\n3.5,-4,1\n", mtime=0)` from Python.
    static let smallGzip: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 51, 212, 49, 210, 49, 224, 50, 214, 51, 213, 209, 53, 209, 49, 228, 2, 0,
        67, 147, 250, 32, 15, 0, 0, 0,
    ]

    @Test func digitsLoadWithTheirShapeLabelsAndValues() throws {
        let digits = TrainingFixtures.digits
        #expect(digits.count == 1797)
        #expect(digits.featureCount == 64)
        #expect(digits.classCount == 10)
        #expect(digits.classCounts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        #expect(Array(digits.features[0..<8]) == [0, 0, 5, 13, 9, 1, 0, 0])
        #expect(digits.labels.first == 0)
        #expect(Array(digits.features[(1796 * 64)..<(1796 * 64 + 8)]) == [0, 0, 10, 14, 8, 1, 0, 0])
        #expect(digits.labels.last == 8)
    }

    @Test func plainAndGzipFilesGiveTheSameData() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let digits = TrainingFixtures.digits
        var text = ""
        for row in 0..<digits.count {
            let values = digits.features[(row * 64)..<((row + 1) * 64)].map { String(Int($0)) }
            text += values.joined(separator: ",") + ",\(digits.labels[row])\r\n"
        }
        let plain = directory.appendingPathComponent("digits.csv")
        try Data(text.utf8).write(to: plain)
        #expect(try TrainingData.load(contentsOf: plain) == digits)

        let small = directory.appendingPathComponent("small.csv.gz")
        try Data(Self.smallGzip).write(to: small)
        let expected = try TrainingData.parse(csv: Array("1,2,0\n3.5,-4,1\n".utf8), name: "small.csv")
        #expect(try TrainingData.load(contentsOf: small) == expected)
        #expect(expected.features == [1, 2, 3.5, -4])
        #expect(expected.labels == [0, 1])
    }

    @Test func brokenGzipAndMissingFilesAreIOErrors() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let truncated = directory.appendingPathComponent("truncated.csv.gz")
        try Data(Self.smallGzip[0..<20]).write(to: truncated)
        #expect(throws: FederationError(.io, "\(truncated.path): expected a complete gzip stream, found it truncated"))
        {
            try TrainingData.load(contentsOf: truncated)
        }
        var corrupt = Self.smallGzip
        corrupt[12] ^= 0xFF
        corrupt[13] ^= 0xFF
        let corrupted = directory.appendingPathComponent("corrupt.csv.gz")
        try Data(corrupt).write(to: corrupted)
        let error = try #require(throws: FederationError.self) { try TrainingData.load(contentsOf: corrupted) }
        #expect(error.code == .io)
        #expect(error.message.hasPrefix("\(corrupted.path): cannot read: "))

        let missing = directory.appendingPathComponent("missing.csv")
        #expect(throws: FederationError(.io, "\(missing.path): cannot open: No such file or directory")) {
            try TrainingData.load(contentsOf: missing)
        }
    }

    @Test func headersLabelColumnsSpacesAndBlankLines() throws {
        let csv = "a, label ,b\r\n\r\n 1 , 3, 2.5\n\n4,0,-1e2\n   \n"
        let named = try TrainingData.parse(
            csv: Array(csv.utf8),
            name: "h.csv",
            options: .init(labelColumn: .named("label"))
        )
        #expect(named.features == [1, 2.5, 4, -100])
        #expect(named.labels == [3, 0])
        #expect(named.classCount == 4)
        let indexed = try TrainingData.parse(
            csv: Array(csv.utf8),
            name: "h.csv",
            options: .init(labelColumn: .index(1), header: .present, classCount: 10)
        )
        #expect(indexed.features == named.features && indexed.labels == named.labels)
        #expect(indexed.classCount == 10)
        let noHeader = try TrainingData.parse(csv: Array("1,1\n2,0".utf8), name: "n.csv")
        #expect(noHeader.features == [1, 2] && noHeader.labels == [1, 0] && noHeader.classCount == 2)
        let present = try TrainingData.parse(
            csv: Array("1,1\n2,0".utf8),
            name: "n.csv",
            options: .init(header: .present)
        )
        #expect(present.features == [2] && present.labels == [0])
    }

    static let errorCases: [(csv: String, options: TrainingData.LoadOptions, message: String)] = [
        ("", .init(), "d.csv: expected at least one example, found an empty file"),
        ("\n \n", .init(), "d.csv: expected at least one example, found an empty file"),
        ("x,y,label\n", .init(), "d.csv: expected at least one example, found only a header row"),
        ("1,2,0\n3,x,1\n", .init(), "d.csv:2:3: field 2: expected a number, found \"x\""),
        ("1,2,0\n3,,1\n", .init(), "d.csv:2:3: field 2: expected a number, found an empty field"),
        ("1,2,0\n3,nan,1\n", .init(), "d.csv:2:3: field 2: expected a number, found \"nan\""),
        ("1,2,0\n3,4\n", .init(), "d.csv:2:3: expected 3 fields (as on line 1), found 2"),
        ("1,2,0\n3,4,1,5,6\n", .init(), "d.csv:2:7: expected 3 fields (as on line 1), found 5"),
        ("a,b,c\n1,2,0\n3,4\n", .init(), "d.csv:3:3: expected 3 fields (as on line 1), found 2"),
        ("1,2,0\n3,4,2.5\n", .init(), "d.csv:2:5: field 3: expected a label that is a non-negative integer, found 2.5"),
        ("1,2,-1\n", .init(), "d.csv:1:5: field 3: expected a label that is a non-negative integer, found -1"),
        (
            "1,2,0\n3,4,12\n", .init(classCount: 10),
            "d.csv:2:5: field 3: expected a label below the class count 10, found 12"
        ),
        ("1,2,0\n3,4,1000000\n", .init(), "d.csv:2:5: field 3: expected a label of at most 999999, found 1000000"),
        ("1,x,0\n", .init(header: .absent), "d.csv:1:3: field 2: expected a number, found \"x\""),
        ("7\n", .init(), "d.csv:1:1: expected at least 2 fields (features and a label), found 1"),
        ("1,2,0\n", .init(labelColumn: .index(3)), "d.csv:1: label column: expected an index in 0..<3, found 3"),
        (
            "1,2,0\n", .init(labelColumn: .named("y")),
            "d.csv:1: label column: expected a header field named \"y\", found no header row"
        ),
        (
            "a,b\n1,0\n", .init(labelColumn: .named("y")),
            "d.csv:1: label column: expected a header field named \"y\", found none"
        ),
        (
            "1,2,0\n3,4,1\n", .init(maximumValueCount: 4),
            "d.csv:2: expected at most 4 values (the load options' maximum value count), found more"
        ),
        ("1,2,0\n", .init(classCount: 0), "d.csv: class count: expected an integer from 1 to 1000000, found 0"),
    ]

    @Test(arguments: errorCases)
    func malformedCSVFailsWithExactMessages(csv: String, options: TrainingData.LoadOptions, message: String) {
        let error = #expect(throws: FederationError.self) {
            try TrainingData.parse(csv: Array(csv.utf8), name: "d.csv", options: options)
        }
        #expect(error?.message == message)
    }

    @Test func overlongFieldsAreCutInTheMessage() {
        let long = String(repeating: "9", count: 300) + "x"
        let error = #expect(throws: FederationError.self) {
            try TrainingData.parse(csv: Array("1,\(long),0\n".utf8), name: "d.csv", options: .init(header: .absent))
        }
        #expect(
            error?.message == "d.csv:1:3: field 2: expected a number, found \"\(String(repeating: "9", count: 256))…\""
        )
    }

    @Test func quotedFieldsAreNeverNumbersButQuotedNamesAreNames() throws {
        #expect(throws: FederationError(.trainingData, #"d.csv:2:3: field 2: expected a number, found "\"1.5\"""#)) {
            try TrainingData.parse(csv: Array("1,2,0\n3,\"1.5\",1\n".utf8), name: "d.csv")
        }
        let csv = "\"x, the first\",\"lab\"\"el\",\"y\nz\"\r\n1,0,2\r\n3,1,4\r\n"
        let data = try TrainingData.parse(
            csv: Array(csv.utf8),
            name: "q.csv",
            options: .init(labelColumn: .named("lab\"el"))
        )
        #expect(data.features == [1, 2, 3, 4] && data.labels == [0, 1] && data.featureCount == 2)
    }

    @Test func anUnclosedQuoteIsLocatedWhereItOpens() {
        let message =
            "d.csv:2:3: expected a closing double quote for the field that opens here, found the end of the input"
        #expect(throws: FederationError(.trainingData, message)) {
            try TrainingData.parse(csv: Array("1,2,0\n3,\"4,1\n5,6,0\n".utf8), name: "d.csv")
        }
    }

    @Test func recordsAcrossTheReadersChunksReadAsInMemory() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A header longer than one 64 KiB chunk, then rows that straddle every later chunk boundary.
        let names = (0..<3).map { "\"feature \($0), \(String(repeating: "x", count: 30_000))\"" }
        var text = names.joined(separator: ",") + ",label\r\n"
        for row in 0..<20_000 { text += "\(row).25, \(row % 7),-\(row),\(row % 4)\r\n" }
        let file = directory.appendingPathComponent("wide.csv")
        try Data(text.utf8).write(to: file)
        let loaded = try TrainingData.load(contentsOf: file)
        #expect(loaded == (try TrainingData.parse(csv: Array(text.utf8), name: file.path)))
        #expect(loaded.count == 20_000 && loaded.featureCount == 3 && loaded.classCount == 4)
        #expect(Array(loaded.features.suffix(3)) == [19_999.25, Float(19_999 % 7), -19_999])
    }

    @Test func randomBytesNeverCrashTheParser() {
        let alphabet = Array("0123456789,,,.-+e \n\n\r\tx\u{FF}".utf8)
        var generator = SeededGenerator(seed: 7)
        var parsed = 0
        for _ in 0..<400 {
            let length = generator.nextInt(below: 80)
            let bytes = (0..<length).map { _ in alphabet[generator.nextInt(below: alphabet.count)] }
            do {
                let data = try TrainingData.parse(csv: bytes, name: "fuzz.csv", options: .init(maximumValueCount: 64))
                #expect(data.features.count == data.count * data.featureCount)
                #expect(data.labels.allSatisfy { $0 >= 0 && Int($0) < data.classCount })
                parsed += 1
            } catch {
                #expect(error.message.hasPrefix("fuzz.csv"))
            }
        }
        #expect(parsed > 0)
    }

    @Test func dataInitialiserChecksItsArguments() {
        #expect(throws: FederationError(.trainingData, "training data: expected 2 × 3 features, found 5")) {
            try TrainingData(features: [1, 2, 3, 4, 5], labels: [0, 1], featureCount: 3, classCount: 2)
        }
        #expect(throws: FederationError(.trainingData, "training data: example 1: expected a label in 0..<2, found 2"))
        {
            try TrainingData(features: [1, 2], labels: [0, 2], featureCount: 1, classCount: 2)
        }
        #expect(
            throws: FederationError(
                .trainingData,
                "training data: example 1, feature 0: expected a finite number, found inf"
            )
        ) {
            try TrainingData(features: [1, .infinity], labels: [0, 1], featureCount: 1, classCount: 2)
        }
    }

    @Test func shuffleAndSplitAreSeededPermutations() {
        let digits = TrainingFixtures.digits
        let (training, test) = digits.split(testFraction: 0.2, seed: 1)
        #expect(test.count == 359 && training.count == 1438)
        #expect(digits.split(testFraction: 0.2, seed: 1) == (training, test))
        #expect(digits.split(testFraction: 0.2, seed: 2).test != test)
        var merged = training.classCounts
        for (k, n) in test.classCounts.enumerated() { merged[k] += n }
        #expect(merged == digits.classCounts)
        let shuffled = digits.shuffled(seed: 5)
        #expect(shuffled == digits.shuffled(seed: 5))
        #expect(shuffled != digits && shuffled.classCounts == digits.classCounts)
        #expect(
            Set(
                shuffled.labels.indices.map {
                    shuffled.features[($0 * 64)..<($0 * 64 + 64)] + [Float(shuffled.labels[$0])]
                }
            )
                == Set(
                    digits.labels.indices.map {
                        digits.features[($0 * 64)..<($0 * 64 + 64)] + [Float(digits.labels[$0])]
                    }
                )
        )
    }

    @Test func seededGeneratorMatchesTheXoshiroReference() {
        // Reference values from the published xoshiro256** and SplitMix64 algorithms (a Python transcription).
        var generator = SeededGenerator(seed: 42)
        #expect(generator.next() == 0x1578_0b2e_0c2e_c716)
        #expect(generator.next() == 0x6104_d986_6d11_3a7e)
        #expect(generator.next() == 0xae17_5332_39e4_99a1)
        var zero = SeededGenerator(seed: 0)
        #expect(zero.next() == 0x99ec_5f36_cb75_f2b4)
        var counts = [Int](repeating: 0, count: 3)
        for _ in 0..<3000 { counts[generator.nextInt(below: 3)] += 1 }
        #expect(counts.allSatisfy { (900...1100).contains($0) })
        for _ in 0..<1000 {
            let u = generator.nextUnitFloat()
            #expect(u >= 0 && u < 1)
        }
    }
}
