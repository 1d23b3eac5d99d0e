import SovereignFederation
import Testing

/// Inputs that made the libFuzzer targets in `Fuzz/` fail, minimised, each with the error it must give now.
/// The same bytes are kept in `Fuzz/crashes/` for replaying with the fuzzer binaries.
struct FuzzRegressionTests {
    /// `Fuzz/crashes/csv-feature-beyond-float-range.csv`: a finite `Double` feature beyond `Float`'s range
    /// was stored as infinity, breaking ``TrainingData``'s all-features-finite invariant.
    @Test func csvFeatureBeyondFloatRangeIsRejected() {
        #expect(
            throws: FederationError(
                .trainingData,
                "fuzz.csv:1:1: field 1: expected a number within ±3.4028235e+38 (a 32-bit float), found 5e+45"
            )
        ) {
            try TrainingData.parse(csv: Array("5e45,4".utf8), name: "fuzz.csv")
        }
        #expect(
            throws: FederationError(
                .trainingData,
                "fuzz.csv:2:2: field 1: expected a number within ±3.4028235e+38 (a 32-bit float), found -3.455e+38"
            )
        ) {
            try TrainingData.parse(csv: Array("a,b\n -3455e35,4\n".utf8), name: "fuzz.csv")
        }
    }

    /// The largest float still reads, and a value that rounds to it is not mistaken for an overflow.
    @Test func csvFeatureAtTheEdgeOfFloatRangeReads() throws {
        let data = try TrainingData.parse(csv: Array("3.4028235e38,-3.40282356e38,0\n".utf8), name: "fuzz.csv")
        #expect(data.features == [.greatestFiniteMagnitude, -.greatestFiniteMagnitude])
    }

    /// In the same crashing input: a NUL byte cut the number short (`Double(String)` stops at NUL), so
    /// `-3455e35\0` read as a number; a field with a NUL is not a number.
    @Test func csvFieldWithNULIsNotANumber() {
        #expect(throws: FederationError(.trainingData, "fuzz.csv:1:3: field 2: expected a number, found \"2\\0x\"")) {
            try TrainingData.parse(
                csv: [49, 44, 50, 0, 120, 44, 48, 10],
                name: "fuzz.csv",
                options: .init(header: .absent)
            )
        }
        #expect(throws: FederationError(.trainingData, "fuzz.csv:2:3: field 2: expected a number, found \"2e1\\0\"")) {
            try TrainingData.parse(csv: Array("1,2,0\n1,2e1\u{0},0\n".utf8), name: "fuzz.csv")
        }
    }
}
