/// One value per step of the time grid, kept as runs of equal values: a series that changes hourly costs one
/// run an hour, not one value a step (a year at 5-second steps is 6.3M steps and 8,784 hourly runs).
///
/// Runs are merged by bit pattern, so a series reads back exactly as it was written: -0.0 stays -0.0 and a
/// NaN keeps its payload. A series that changes at nearly every step (a forecast with per-step noise) is
/// kept dense, one value a step, which is then the smaller of the two; both read the same.
public struct StepValues: Sendable, RandomAccessCollection {
    public typealias Index = Int
    public typealias Indices = Range<Int>

    enum Storage: Sendable {
        /// One value per step.
        case dense([Double])
        /// Run `i` starts at step `starts[i]` (`starts[0] == 0`, ascending) and holds `values[i]`.
        case runs(starts: [Int], values: [Double])
    }

    private(set) var storage: Storage
    public var startIndex: Int { 0 }
    public let endIndex: Int

    /// `count` steps of `value`.
    ///
    /// - Complexity: O(1).
    public init(repeating value: Double, count: Int) {
        precondition(count >= 0, "StepValues: negative count \(count)")
        endIndex = count
        storage = count == 0 ? .runs(starts: [], values: []) : .runs(starts: [0], values: [value])
    }

    /// The values of `steps`, one a step, in order.
    ///
    /// - Complexity: O(n).
    public init(_ steps: some Sequence<Double>) {
        var builder = Builder()
        for value in steps { builder.append(value) }
        self = builder.build()
    }

    /// The values of `runs`, one run after another (a run's steps say only how many steps it lasts).
    ///
    /// - Complexity: O(runs) (O(steps) when the result is kept dense).
    public init(runs: some Sequence<Run>) {
        var builder = Builder()
        for run in runs { builder.append(run.value, count: run.steps.count) }
        self = builder.build()
    }

    fileprivate init(storage: Storage, count: Int) {
        self.storage = storage
        endIndex = count
    }

    /// The value at step `t`.
    ///
    /// - Complexity: O(1) for a dense series, O(log runs) otherwise.
    public subscript(t: Int) -> Double {
        precondition(t >= 0 && t < endIndex, "StepValues: step \(t) outside 0..<\(endIndex)")
        switch storage {
        case .dense(let values): return values[t]
        case .runs(let starts, let values): return values[Self.run(containing: t, starts: starts, from: 0)]
        }
    }

    /// The step after the last of the run that holds step `t`: every step in `t..<runEnd(containing: t)`
    /// holds the same bits as step `t`, and the step at the end (if any) does not.
    ///
    /// - Complexity: O(log runs); for a dense series, O(length of the run from `t`).
    public func runEnd(containing t: Int) -> Int {
        var cursor = Cursor(self)
        return cursor.seek(t).end
    }

    /// ``runEnd(containing:)``, or `limit` when that comes first (but never before `t + 1`): what a reader
    /// that only needs the nearest of several run ends asks, so a dense series is scanned no further than that.
    ///
    /// - Complexity: O(log runs); for a dense series, O(min(length of the run from `t`, `limit` − `t`)).
    public func runEnd(containing t: Int, notBeyond limit: Int) -> Int {
        precondition(t >= 0 && t < endIndex, "StepValues: step \(t) outside 0..<\(endIndex)")
        guard case .dense(let values) = storage else {
            return Swift.min(runEnd(containing: t), Swift.max(limit, t + 1))
        }
        let bound = Swift.min(limit, endIndex)
        var end = t + 1
        while end < bound, Self.same(values[end], values[t]) { end += 1 }
        return end
    }

    /// How many runs of equal values the series holds.
    ///
    /// - Complexity: O(1) for a series kept as runs; O(n) for a dense one.
    public var runCount: Int {
        switch storage {
        case .runs(let starts, _): return starts.count
        case .dense(let values):
            return zip(values, values.dropFirst()).count { !Self.same($0, $1) } + Swift.min(1, count)
        }
    }

    public func makeIterator() -> Iterator { Iterator(cursor: Cursor(self), end: endIndex) }

    /// The runs overlapping `range`, each clipped to it, in step order.
    ///
    /// - Complexity: O(log runs) to start, then O(1) amortised per run (per step of a dense series).
    public func runs(in range: Range<Int>) -> Runs {
        let clipped = range.clamped(to: startIndex..<endIndex)
        return Runs(cursor: Cursor(self), step: clipped.lowerBound, end: clipped.upperBound)
    }

    /// Replaces the value of every step in `steps` (clipped to the series) by `transform` of it; a run is
    /// transformed once, so `transform` must give the same result for the same bits.
    ///
    /// - Complexity: O(steps) for a dense series; O(runs) otherwise (the runs after `steps` move).
    public mutating func update(_ steps: Range<Int>, _ transform: (Double) -> Double) {
        let range = steps.clamped(to: startIndex..<endIndex)
        guard !range.isEmpty else { return }
        switch storage {
        case .dense(var values):
            storage = .dense([])
            for t in range { values[t] = transform(values[t]) }
            storage = .dense(values)
        case .runs(var starts, var values):
            storage = .runs(starts: [], values: [])
            Self.splice(&starts, &values, count: endIndex, range: range, transform)
            storage = .runs(starts: starts, values: values)
        }
    }

    /// Whether two values have the same bits (so -0.0 differs from 0.0 and a NaN equals only its own payload).
    static func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern }

    /// The index of the run holding step `t`, searched from run `first` on.
    static func run(containing t: Int, starts: [Int], from first: Int) -> Int {
        var low = first
        var high = starts.count
        while high - low > 1 {
            let middle = (low + high) / 2
            if starts[middle] <= t { low = middle } else { high = middle }
        }
        return low
    }

    /// Rewrites the runs that overlap `range` (with their neighbours, so equal neighbours merge).
    private static func splice(
        _ starts: inout [Int],
        _ values: inout [Double],
        count: Int,
        range: Range<Int>,
        _ transform: (Double) -> Double
    ) {
        let first = Swift.max(0, run(containing: range.lowerBound, starts: starts, from: 0) - 1)
        let last = Swift.min(starts.count - 1, run(containing: range.upperBound - 1, starts: starts, from: first) + 1)
        var piece = Builder(from: starts[first])
        for i in first...last {
            let steps = starts[i]..<(i + 1 < starts.count ? starts[i + 1] : count)
            let inside = steps.clamped(to: range)
            piece.append(values[i], count: inside.isEmpty ? steps.count : inside.lowerBound - steps.lowerBound)
            piece.append(transform(values[i]), count: inside.count)
            piece.append(values[i], count: inside.isEmpty ? 0 : steps.upperBound - inside.upperBound)
        }
        starts.replaceSubrange(first...last, with: piece.starts)
        values.replaceSubrange(first...last, with: piece.values)
    }
}

extension StepValues {
    /// Collects a series step by step (or a run at a time), merging equal neighbours.
    ///
    /// Once it holds more runs than half its steps (and more than a few), it collects one value a step, which
    /// is then the smaller: a series that changes at nearly every step never costs more than a dense one while
    /// it is built.
    public struct Builder: Sendable {
        fileprivate var starts: [Int] = []
        fileprivate var values: [Double] = []
        /// One value a step, once runs cost more (`nil` until then, and always for a splice's pieces).
        private var dense: [Double]?
        /// Runs collected so far, whichever the storage.
        private var runs = 0
        private var last = 0.0
        private let mayGoDense: Bool
        /// The step the next value is for.
        public private(set) var count: Int

        /// Runs below which a builder never goes dense (a short series costs little either way).
        static let denseAfterRuns = 64

        /// An empty series.
        public init() {
            count = 0
            mayGoDense = true
        }

        /// A piece of a series from `step` on, always kept as runs (``StepValues/update(_:_:)`` splices it).
        fileprivate init(from step: Int) {
            count = step
            mayGoDense = false
        }

        /// Appends `count` steps of `value`.
        ///
        /// - Complexity: O(1) amortised per run (per step once dense).
        public mutating func append(_ value: Double, count steps: Int = 1) {
            guard steps > 0 else { return }
            defer { count += steps }
            if runs > 0, StepValues.same(last, value) {
                dense?.append(contentsOf: repeatElement(value, count: steps))
                return
            }
            runs += 1
            last = value
            if dense != nil {
                dense?.append(contentsOf: repeatElement(value, count: steps))
                return
            }
            starts.append(count)
            values.append(value)
            if mayGoDense, runs > Self.denseAfterRuns, runs * 2 > count + steps { goDense(upTo: count + steps) }
        }

        /// Turns the runs collected into one value a step, for `steps` steps.
        private mutating func goDense(upTo steps: Int) {
            dense = Self.expand(starts, values, count: steps)
            starts = []
            values = []
        }

        private static func expand(_ starts: [Int], _ values: [Double], count: Int) -> [Double] {
            var dense: [Double] = []
            dense.reserveCapacity(count)
            for i in starts.indices {
                let end = i + 1 < starts.count ? starts[i + 1] : count
                dense.append(contentsOf: repeatElement(values[i], count: end - starts[i]))
            }
            return dense
        }

        /// The series: as runs, or dense when it has more runs than half its steps (runs then cost more).
        ///
        /// - Complexity: O(1) as runs collected; O(n) otherwise.
        public func build() -> StepValues {
            if let dense {
                return runs * 2 > count ? StepValues(storage: .dense(dense), count: count) : Self.runs(of: dense)
            }
            guard starts.count * 2 > count else {
                return StepValues(storage: .runs(starts: starts, values: values), count: count)
            }
            return StepValues(storage: .dense(Self.expand(starts, values, count: count)), count: count)
        }

        /// `dense` as runs (a series that went dense while built, then held long runs).
        private static func runs(of dense: [Double]) -> StepValues {
            var builder = Builder(from: 0)
            for value in dense { builder.append(value) }
            return StepValues(storage: .runs(starts: builder.starts, values: builder.values), count: dense.count)
        }
    }

    /// Reads a series forward: each step in O(1) amortised, with the end of the run that holds it.
    public struct Cursor: Sendable {
        private let series: StepValues
        private var run = 0
        /// The steps of the last run found (the last step sought, for a dense series that has not been
        /// scanned further).
        private var current = 0..<0
        private var value = 0.0

        /// A cursor before the first step of `series`.
        public init(_ series: StepValues) { self.series = series }

        /// The value at step `t` and the end of its run (see ``StepValues/runEnd(containing:)``).
        ///
        /// - Precondition: `t` is a step of the series; seeking backwards is allowed but searches again.
        /// - Complexity: O(1) within the run last found; O(log runs) to another run (O(its length) dense).
        public mutating func seek(_ t: Int) -> (value: Double, end: Int) {
            if current.contains(t) { return (value, current.upperBound) }
            precondition(t >= 0 && t < series.endIndex, "StepValues: step \(t) outside 0..<\(series.endIndex)")
            switch series.storage {
            case .dense(let values):
                value = values[t]
                var end = t + 1
                while end < values.count, StepValues.same(values[end], value) { end += 1 }
                current = t..<end
            case .runs(let starts, let values):
                if t >= current.upperBound, run + 1 < starts.count, starts[run + 1] <= t,
                    run + 2 == starts.count || starts[run + 2] > t
                {
                    run += 1  // the next run: a forward scan's usual case
                } else {
                    let from = t >= current.upperBound && run < starts.count ? run : 0
                    run = StepValues.run(containing: t, starts: starts, from: from)
                }
                value = values[run]
                current = starts[run]..<(run + 1 < starts.count ? starts[run + 1] : series.endIndex)
            }
            return (value, current.upperBound)
        }
    }

    /// Iterates a series step by step in O(1) amortised per step.
    public struct Iterator: IteratorProtocol, Sendable {
        fileprivate var cursor: Cursor
        fileprivate var step = 0
        fileprivate let end: Int

        public mutating func next() -> Double? {
            guard step < end else { return nil }
            defer { step += 1 }
            return cursor.seek(step).value
        }
    }

    /// A stretch of steps that hold one value.
    public struct Run: Sendable {
        public let steps: Range<Int>
        public let value: Double
    }

    /// The runs of a range of steps, in order.
    public struct Runs: Sequence, IteratorProtocol, Sendable {
        fileprivate var cursor: Cursor
        fileprivate var step: Int
        fileprivate let end: Int

        public mutating func next() -> Run? {
            guard step < end else { return nil }
            let (value, runEnd) = cursor.seek(step)
            defer { step = Swift.min(runEnd, end) }
            return Run(steps: step..<Swift.min(runEnd, end), value: value)
        }
    }
}

extension StepValues: Equatable {
    /// Whether both hold as many steps with the same bits at each (so -0.0 differs from 0.0).
    ///
    /// - Complexity: O(n).
    public static func == (a: StepValues, b: StepValues) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
    }
}
