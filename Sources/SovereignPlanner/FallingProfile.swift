/// Values by step that only fall while a plan is built (free accelerators of a pool, IT headroom of a site),
/// with the largest value of every block of steps kept beside them: a walk passes over a block where nothing
/// fits in one look instead of one look per step and option.
///
/// Why dense values with block maxima, not a segment tree with lazy range-add: each step's value must stay
/// exactly what subtracting its allocations one by one gives (the plans and goldens depend on it, and a lazy
/// add would sum the same amounts in another order), and the only range question the walk asks is whether
/// anything may fit in a stretch, which an upper bound answers. Values only fall, so a block's maximum moves
/// only when the step holding it is written; then the block (``blockSize`` steps) is scanned again.
struct FallingProfile<Value: Comparable & AdditiveArithmetic> {
    /// Steps per block.
    static var blockSize: Int { 16 }

    private var values: [Value]
    /// The largest value of each block.
    private var maxima: [Value]

    /// A profile of these values by step.
    init(_ values: [Value]) {
        self.values = values
        maxima = stride(from: 0, to: values.count, by: Self.blockSize).map { start in
            values[start..<min(values.count, start + Self.blockSize)].max() ?? .zero
        }
    }

    /// The value at step `t`; setting it (a test's fixture) rescans its block.
    subscript(t: Int) -> Value {
        get { values[t] }
        set {
            values[t] = newValue
            rescan(block: t / Self.blockSize)
        }
    }

    /// The largest value at any step of block `b` (steps `b × blockSize ..< (b + 1) × blockSize`).
    func maximum(block b: Int) -> Value { maxima[b] }

    /// Takes `amount` (not negative) from step `t`.
    mutating func subtract(_ amount: Value, at t: Int) {
        let old = values[t]
        values[t] = old - amount
        let b = t / Self.blockSize
        if old == maxima[b] { rescan(block: b) }
    }

    private mutating func rescan(block b: Int) {
        let start = b * Self.blockSize
        maxima[b] = values[start..<min(values.count, start + Self.blockSize)].max() ?? .zero
    }
}
