/// Values by row (a pool's free accelerators, a site's IT headroom) and step that only fall while a plan is
/// built, with the largest value of every block of steps kept beside them: a walk passes over a block where
/// nothing fits in one look instead of one look per step and option. A block's least value is read from its
/// steps (one cache line of `Int32`s, two of `Double`s), when a walk asks whether it may take the whole block.
///
/// Stored block by block: a block's rows side by side, each row's steps of the block side by side (one cache
/// line of `Int32`s), and a block's maxima of all rows side by side. A walk looks at one row step after step,
/// and when its option is full at the other options at the steps of one block, or at their maxima: those
/// looks then stay in a few lines per option per block, where one array per pool scattered over the heap
/// missed the cache at every look (most of the walk's time at 1,500 pools).
///
/// Why dense values with block maxima, not a segment tree with lazy range-add: each step's value must stay
/// exactly what subtracting its allocations one by one gives (the plans and goldens depend on it, and a lazy
/// add would sum the same amounts in another order), and the only range question the walk asks is whether
/// anything may fit in a stretch, which an upper bound answers. Values only fall, so a block's maximum moves
/// only when the step holding it is written; then the block (``blockSize`` steps) is scanned again. Least values
/// are not kept: keeping them costs every take at a scattered step (carbon shifting) a write to one more line,
/// where reading one is asked once per block a walk takes whole, beside that block's ``blockSize`` takes.
struct FallingProfiles<Value: Comparable & AdditiveArithmetic> {
    /// Steps per block.
    static var blockSize: Int { 16 }

    /// Rows (profiles) held.
    let rows: Int
    /// Steps per row.
    let steps: Int
    /// Value of row `r` at step `t` at ``index(_:_:)``; the last block is padded to whole blocks.
    private var values: [Value]
    /// Largest value of row `r` in block `b` at `b × rows + r`.
    private var maxima: [Value]
    /// Each subtraction since the oldest open ``mark()``, where it was made and the value it replaced, oldest first.
    private var journal: [(index: Int, old: Value)] = []
    /// Marks not yet rolled back or kept.
    private var openMarks = 0

    /// Profiles of `rows` rows over `steps` steps, row `r` at step `t` starting at `value(r, t)`.
    ///
    /// - Complexity: O(rows × steps).
    init(rows: Int, steps: Int, value: (_ row: Int, _ step: Int) -> Value) {
        self.rows = rows
        self.steps = steps
        let blocks = (steps + Self.blockSize - 1) / Self.blockSize
        values = [Value](repeating: .zero, count: blocks * rows * Self.blockSize)
        maxima = [Value](repeating: .zero, count: blocks * rows)
        for r in 0..<rows {
            for t in 0..<steps { values[index(r, t)] = value(r, t) }
        }
        for b in 0..<blocks {
            for r in 0..<rows { rescan(r, block: b) }
        }
    }

    /// Where row `r`'s value at step `t` is kept: block, then row, then step within the block.
    private func index(_ r: Int, _ t: Int) -> Int {
        precondition(r >= 0 && r < rows && t >= 0 && t < steps, "FallingProfiles: [\(r), \(t)] outside rows × steps")
        return ((t / Self.blockSize) * rows + r) * Self.blockSize + t % Self.blockSize
    }

    /// The value of row `r` at step `t`; setting it (a test's fixture) rescans its block.
    subscript(r: Int, t: Int) -> Value {
        get { values[index(r, t)] }
        set {
            values[index(r, t)] = newValue
            rescan(r, block: t / Self.blockSize)
        }
    }

    /// The largest value of row `r` at any step of block `b` (steps `b × blockSize ..< (b + 1) × blockSize`).
    func maximum(_ r: Int, block b: Int) -> Value { maxima[b * rows + r] }

    /// The least value of row `r` at any step of block `b`.
    ///
    /// - Complexity: O(``blockSize``).
    func minimum(_ r: Int, block b: Int) -> Value {
        let first = (b * rows + r) * Self.blockSize
        let last = first + min(Self.blockSize, steps - b * Self.blockSize)
        var least = values[first]
        for i in (first + 1)..<last where values[i] < least { least = values[i] }
        return least
    }

    /// Takes `amount` (not negative) from row `r` at step `t`.
    mutating func subtract(_ amount: Value, _ r: Int, at t: Int) {
        let i = index(r, t)
        let old = values[i]
        values[i] = old - amount
        if openMarks > 0 { journal.append((i, old)) }
        let b = t / Self.blockSize
        if old == maxima[b * rows + r] { rescan(r, block: b) }
    }

    /// Takes `amount` (not negative) from row `r` at each step of `range`: every value is what ``subtract(_:_:at:)``
    /// at each step gives, bit for bit, but each block touched is rescanned at most once.
    ///
    /// - Complexity: O(`range.count`), plus O(``blockSize``) per block whose maximum a partial take writes.
    mutating func subtract(_ amount: Value, _ r: Int, steps range: Range<Int>) {
        guard !range.isEmpty else { return }
        _ = index(r, range.lowerBound)
        _ = index(r, range.upperBound - 1)
        var t = range.lowerBound
        while t < range.upperBound {
            let b = t / Self.blockSize
            let end = min(range.upperBound, (b + 1) * Self.blockSize)
            subtract(amount, r, block: b, steps: t..<end)
            t = end
        }
    }

    /// ``subtract(_:_:steps:)`` within block `b`: the old values journalled first, then written in one loop.
    private mutating func subtract(_ amount: Value, _ r: Int, block b: Int, steps range: Range<Int>) {
        let k = b * rows + r
        let base = k * Self.blockSize - b * Self.blockSize
        let span = (base + range.lowerBound)..<(base + range.upperBound)
        if openMarks > 0 {
            for i in span { journal.append((i, values[i])) }
        }
        let largest = maxima[k]
        var wroteLargest = false
        for i in span {
            let old = values[i]
            values[i] = old - amount
            wroteLargest = wroteLargest || old == largest
        }
        if range.count == min(Self.blockSize, steps - b * Self.blockSize) {
            // Subtraction rounds monotonically, so the step that held the largest value still does.
            maxima[k] = largest - amount
        } else if wroteLargest {
            rescan(r, block: b)
        }
    }

    /// Starts a trial: the subtractions from here on can be undone by ``rollBack(to:)`` (marks nest, last in,
    /// first out). A trial costs what it subtracts, where copying the profiles to try something on the copy
    /// costs every row's every step.
    ///
    /// - Returns: the mark to roll back to or keep.
    mutating func mark() -> Int {
        openMarks += 1
        return journal.count
    }

    /// Undoes every subtraction since `mark`, newest first, putting back the values they replaced (bit for bit:
    /// nothing is added back) and each block's maximum with them.
    mutating func rollBack(to mark: Int) {
        precondition(openMarks > 0 && mark <= journal.count, "FallingProfiles: rollBack(to:) without its mark")
        for (i, old) in journal[mark...].reversed() {
            values[i] = old
            let blockRow = i / Self.blockSize
            rescan(blockRow % rows, block: blockRow / rows)
        }
        journal.removeSubrange(mark...)
        close()
    }

    /// Ends the trial begun at `mark`, keeping its subtractions (an enclosing trial may still undo them).
    mutating func keep(_ mark: Int) {
        precondition(openMarks > 0 && mark <= journal.count, "FallingProfiles: keep(_:) without its mark")
        close()
    }

    private mutating func close() {
        openMarks -= 1
        if openMarks == 0 { journal.removeAll(keepingCapacity: true) }
    }

    private mutating func rescan(_ r: Int, block b: Int) {
        let first = (b * rows + r) * Self.blockSize
        let last = first + min(Self.blockSize, steps - b * Self.blockSize)
        var largest = values[first]
        for i in (first + 1)..<last where values[i] > largest { largest = values[i] }
        maxima[b * rows + r] = largest
    }
}
