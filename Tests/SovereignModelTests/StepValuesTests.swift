import SovereignBase
import SovereignModel
import Testing

/// Run-length series: what they read back, where their runs end, and how a cap splits and merges runs.
struct StepValuesTests {
    /// The bits of every step, so -0.0 and NaN payloads are compared exactly.
    func bits(_ values: some Sequence<Double>) -> [UInt64] { values.map(\.bitPattern) }

    /// The end of the run holding `t` in a plain array, found by looking at every step.
    func runEnd(_ values: [Double], containing t: Int) -> Int {
        var end = t + 1
        while end < values.count, values[end].bitPattern == values[t].bitPattern { end += 1 }
        return end
    }

    @Test func anEmptySeriesHoldsNothing() {
        var empty = StepValues([])
        #expect(empty.isEmpty)
        #expect(empty.indices == 0..<0)
        #expect(empty.first == nil)
        #expect(empty.runCount == 0)
        #expect(Array(empty.runs(in: 0..<5)).isEmpty)
        empty.update(0..<3) { $0 + 1 }
        #expect(empty.count == 0)
        #expect(StepValues(repeating: 7, count: 0) == empty)
    }

    @Test func oneValueIsOneRun() {
        let flat = StepValues(repeating: 3.5, count: 1_000)
        #expect(flat.count == 1_000)
        #expect(flat.runCount == 1)
        #expect(flat[0] == 3.5 && flat[999] == 3.5)
        #expect(flat.runEnd(containing: 0) == 1_000)
        #expect(flat.runEnd(containing: 999) == 1_000)
        #expect(StepValues([Double](repeating: 3.5, count: 1_000)) == flat)
        let runs = Array(flat.runs(in: 10..<20))
        #expect(runs.map(\.steps) == [10..<20] && runs.map(\.value) == [3.5])
    }

    @Test func equalNeighboursMerge() {
        let values: [Double] = [1, 1, 2, 2, 2, 1, 5, 5, 5, 5]
        let series = StepValues(values)
        #expect(series.runCount == 4)
        #expect(Array(series) == values)
        #expect(values.indices.map { series[$0] } == values)
        #expect(values.indices.map { series.runEnd(containing: $0) } == [2, 2, 5, 5, 5, 6, 10, 10, 10, 10])
        let runs = Array(series.runs(in: 1..<7))
        #expect(runs.map(\.steps) == [1..<2, 2..<5, 5..<6, 6..<7])
        #expect(runs.map(\.value) == [1, 2, 1, 5])
        #expect(series.first == 1 && series.last == 5)
    }

    @Test func negativeZeroAndNaNPayloadsKeepTheirBits() {
        let quiet1 = Double(nan: 1, signaling: false)
        let quiet2 = Double(nan: 2, signaling: false)
        let values: [Double] = [0.0, -0.0, -0.0, 0.0, quiet1, quiet1, quiet2]
        let series = StepValues(values)
        #expect(bits(series) == bits(values))
        #expect(series.runCount == 5)
        #expect(series.runEnd(containing: 0) == 1)
        #expect(series.runEnd(containing: 1) == 3)
        #expect(series.runEnd(containing: 4) == 6)
        #expect(series != StepValues([0, 0, 0, 0, quiet1, quiet1, quiet2]))
        #expect(series == StepValues(values))
    }

    @Test func aCapSplitsARunAndMergesWithEqualNeighbours() {
        var series = StepValues(repeating: 10, count: 10)
        series.update(3..<6) { min($0, 4) }
        #expect(Array(series) == [10, 10, 10, 4, 4, 4, 10, 10, 10, 10])
        #expect(series.runCount == 3)
        #expect([0, 3, 6].map { series.runEnd(containing: $0) } == [3, 6, 10])
        // Capping the middle run's neighbours to its value leaves one run.
        series.update(0..<3) { min($0, 4) }
        series.update(6..<40) { min($0, 4) }
        #expect(series.runCount == 1)
        #expect(series.runEnd(containing: 0) == 10)
        // A cap that changes nothing leaves the runs as they were; one at an edge splits off one step.
        series.update(2..<8) { min($0, 9) }
        #expect(series.runCount == 1)
        series.update(9..<10) { min($0, 1) }
        #expect(Array(series) == [4, 4, 4, 4, 4, 4, 4, 4, 4, 1])
        #expect(series.runEnd(containing: 8) == 9)
    }

    @Test func aSeriesThatChangesEveryStepReadsTheSame() {
        let values = (0..<257).map { Double($0) * 0.5 }
        var series = StepValues(values)
        #expect(Array(series) == values)
        #expect(series.runCount == 257)
        #expect(series.runEnd(containing: 100) == 101)
        series.update(10..<20) { _ in 1 }
        #expect(series.runEnd(containing: 10) == 20)
        #expect(series[9] == 4.5 && series[19] == 1 && series[20] == 10)
    }

    /// A series that changes at every step for a while goes dense while it is built, then holds one long run:
    /// it reads back the same either way, and its long run ends where it does.
    @Test func aSeriesBuiltDenseThenConstantReadsTheSame() {
        let values = (0..<200).map { Double($0 % 2) } + [Double](repeating: -0.0, count: 10_000) + [7]
        var builder = StepValues.Builder()
        for value in values.prefix(200) { builder.append(value) }
        builder.append(-0.0, count: 10_000)
        builder.append(7)
        let series = builder.build()
        #expect(bits(series) == bits(values))
        #expect(series.runCount == 202)
        #expect(series.runEnd(containing: 200) == 10_200)
        #expect(series.runEnd(containing: 200, notBeyond: 300) == 300)
        #expect(StepValues(values).runEnd(containing: 5_000) == 10_200)
    }

    /// Random series and caps, against a plain array: every step's bits, every run end, every range's runs.
    @Test(arguments: 0..<40) func readsAsAnArrayDoes(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let palette: [Double] = [0, -0.0, 1, 2.5, .infinity, Double(nan: 3, signaling: false)]
        let spread = Int.random(in: 1...40, using: &rng)
        var values: [Double] = []
        while values.count < 300 {
            let value = palette[Int.random(in: 0..<(seed.isMultiple(of: 4) ? 6 : 3), using: &rng)]
            values += [Double](repeating: value, count: Int.random(in: 1...spread, using: &rng))
        }
        var series = StepValues(values)
        for _ in 0..<5 {
            let from = Int.random(in: 0..<values.count, using: &rng)
            let steps = from..<(from + Int.random(in: 0...60, using: &rng))
            let cap = palette[Int.random(in: 0..<palette.count, using: &rng)]
            series.update(steps) { min($0, cap) }
            for t in steps where t < values.count { values[t] = min(values[t], cap) }
            #expect(bits(series) == bits(values))
            #expect(values.indices.map { bits([series[$0]]) } == values.map { bits([$0]) })
            let ends = values.indices.map { runEnd(values, containing: $0) }
            #expect(values.indices.map { series.runEnd(containing: $0) } == ends)
            let limit = Int.random(in: 0...values.count + 1, using: &rng)
            #expect(
                values.indices.map { series.runEnd(containing: $0, notBeyond: limit) }
                    == ends.enumerated().map { t, end in min(end, max(limit, t + 1)) }
            )
            let range = Int.random(in: 0..<values.count, using: &rng)..<values.count
            let runs = Array(series.runs(in: range))
            #expect(runs.first?.steps.lowerBound == range.lowerBound)
            #expect(bits(runs.flatMap { run in run.steps.map { _ in run.value } }) == bits(values[range]))
            #expect(zip(runs, runs.dropFirst()).allSatisfy { $0.steps.upperBound == $1.steps.lowerBound })
            #expect(zip(runs, runs.dropFirst()).allSatisfy { $0.value.bitPattern != $1.value.bitPattern })
            let changes = zip(values, values.dropFirst()).count { $0.bitPattern != $1.bitPattern }
            #expect(series.runCount == changes + 1)
        }
    }
}
