public import Foundation
import SovereignBase

/// The scenario's time grid: `count` steps of length `step` from `start`.
public struct TimeGrid: Sendable, Hashable, Codable {
    /// The first instant, seconds since the Unix epoch.
    public let start: Double
    /// The length of one step, in seconds.
    public let step: Double
    /// How many steps the horizon holds.
    public let count: Int

    /// Makes a grid.
    ///
    /// - Parameters:
    ///   - start: the first instant.
    ///   - horizon: how long the grid lasts; rounded up to whole steps.
    ///   - step: the length of a step, above zero.
    public init(start: Date, horizon: TimeSpan, step: TimeSpan) {
        self.start = start.timeIntervalSince1970
        self.step = step.seconds
        self.count = max(1, Int((horizon.seconds / step.seconds).rounded(.up)))
    }

    /// The instant at which step `index` begins.
    public func time(at index: Int) -> Date { Date(timeIntervalSince1970: start + Double(index) * step) }

    /// The instant at which the grid ends.
    public var end: Double { start + Double(count) * step }

    /// The step boundary at or after `date` (rounding `.up`) or at or before it (`.down`); not clamped.
    ///
    /// - Complexity: O(1).
    public func step(at date: Date, rounding: FloatingPointRoundingRule) -> Int {
        let steps = ((date.timeIntervalSince1970 - start) / step).rounded(rounding)
        return Int(min(max(steps, -1e15), 1e15))
    }

    /// Step `index`'s start for people, in UTC to the minute: `2026-03-03 18:00`.
    public func label(at index: Int) -> String {
        String(ISO8601.format(epochSeconds: start + Double(index) * step).prefix(16)).replacing("T", with: " ")
    }

    /// The step that contains `date`, clamped to the grid.
    public func index(of date: Date) -> Int {
        let raw = Int(((date.timeIntervalSince1970 - start) / step).rounded(.down))
        return Swift.min(Swift.max(raw, 0), count - 1)
    }
}

/// A value that may vary over the scenario: a constant, or a trace placed on the time grid.
public struct Signal<Value: PhysicalQuantity>: Sendable {
    enum Storage: Sendable {
        case constant(Value)
        case series(StepValues)
    }

    let storage: Storage
    /// Where the trace came from, when it is one.
    public let source: TraceSource?

    /// A signal that never changes.
    public static func constant(_ value: Value) -> Signal { Signal(storage: .constant(value), source: nil) }

    /// A signal with one value (in `Value`'s base unit) per grid step, kept as runs of equal values.
    public static func series(_ values: [Double], source: TraceSource) -> Signal {
        Signal(storage: .series(StepValues(values)), source: source)
    }

    /// The value during grid step `index` (a constant ignores the index; a series holds its last value
    /// after its end and its first before its start).
    ///
    /// - Complexity: O(log runs).
    public func value(at index: Int) -> Value {
        switch storage {
        case .constant(let value): return value
        case .series(let values): return Value(baseValue: values[Swift.min(Swift.max(index, 0), values.count - 1)])
        }
    }

    /// The values in the base unit for steps `0..<count`, as runs.
    ///
    /// - Complexity: O(1) for a constant or a series of `count` steps; O(count) otherwise.
    public func steps(count: Int) -> StepValues {
        switch storage {
        case .constant(let value): return StepValues(repeating: value.baseValue, count: count)
        case .series(let values):
            if values.count == count { return values }
            // Past its end, a series holds its last value.
            let beyond = StepValues.Run(steps: values.count..<Swift.max(values.count, count), value: values.last ?? 0)
            return StepValues(runs: Array(values.runs(in: 0..<count)) + [beyond])
        }
    }

    /// Whether the signal never changes.
    public var isConstant: Bool {
        if case .constant = storage { return true }
        return false
    }

    /// The per-step values in the base unit, or `nil` for a constant.
    public var series: StepValues? {
        if case .series(let values) = storage { return values }
        return nil
    }

    /// The smallest and largest value over the grid.
    public var range: ClosedRange<Value> {
        switch storage {
        case .constant(let value): return value...value
        case .series(let values):
            let low = values.min() ?? 0
            let high = values.max() ?? 0
            return Value(baseValue: low)...Value(baseValue: high)
        }
    }
}

/// Where a trace was read from.
public struct TraceSource: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file as diagnostics and reports name it.
    public let file: String
    /// The column within it.
    public let column: String
    /// The file's format.
    public let format: TraceFormat

    public var description: String { "\(file)#\(column)" }
}

/// Places trace columns on a time grid.
enum TraceResampler {
    /// The explicit time series of a typical-year column over `[from, to)`: one row per local hour, mapped
    /// onto the calendar by day of year and hour (February 29 reuses February 28).
    ///
    /// - Complexity: O(hours in the span).
    static func unfoldTypicalYear(
        _ hourly: [Double],
        utcOffsetHours: Double,
        from: Double,
        to: Double
    )
        -> (times: [Double], values: [Double])
    {
        let offset = utcOffsetHours * 3600
        let firstLocalHour = Int(((from + offset) / 3600).rounded(.down))
        let lastLocalHour = Int(((to + offset) / 3600).rounded(.up))
        var times: [Double] = []
        var values: [Double] = []
        times.reserveCapacity(lastLocalHour - firstLocalHour + 1)
        values.reserveCapacity(lastLocalHour - firstLocalHour + 1)
        for localHour in firstLocalHour...lastLocalHour {
            let dayNumber = localHour >= 0 ? localHour / 24 : (localHour - 23) / 24
            let hourOfDay = localHour - dayNumber * 24
            let (_, month, day) = ISO8601.civilFromDays(dayNumber)
            let doy = TraceFileReader.dayOfTypicalYear(month: month, day: min(day, month == 2 ? 28 : day)) ?? 0
            times.append(Double(localHour) * 3600 - offset)
            values.append(hourly[doy * 24 + hourOfDay])
        }
        return (times, values)
    }

    /// Averages a piecewise-constant series (row `i` holds over `[times[i], times[i+1])`, the last row for
    /// `lastInterval`) over each grid step.
    ///
    /// - Precondition: the series covers the grid (checked by the caller).
    /// - Complexity: O(rows + steps): one sweep.
    static func average(times: [Double], values: [Double], lastInterval: Double, onto grid: TimeGrid) -> [Double] {
        var result = [Double](repeating: 0, count: grid.count)
        var row = 0
        let rows = times.count
        func rowEnd(_ r: Int) -> Double { r + 1 < rows ? times[r + 1] : times[r] + lastInterval }
        for k in 0..<grid.count {
            let from = grid.start + Double(k) * grid.step
            let to = from + grid.step
            while row + 1 < rows, rowEnd(row) <= from { row += 1 }
            var sum = 0.0
            var r = row
            while r < rows, times[r] < to {
                let overlap = min(to, rowEnd(r)) - max(from, times[r])
                if overlap > 0 { sum += overlap * values[r] }
                r += 1
            }
            result[k] = sum / grid.step
        }
        return result
    }
}
