import Foundation
import SovereignModel

/// Explanations in kube-scheduler's shape: `name: 0/9 pools fit: 5 outside residency KE (...), ...`.
enum Explanation {
    static func noPool(_ name: String, total: Int, refusals: Refusals) -> String {
        // Worded once per distinct refusal, then counts of different refusals with equal words merged.
        var counts: [String: Int] = [:]
        for (reason, n) in refusals.counted() { counts[reason, default: 0] += n }
        let parts = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.value) \($0.key)" }
        return "\(name): 0/\(total) pools fit: " + parts.joined(separator: ", ")
    }

    /// `name: waits for ke-notes-anonymised: anonymisation ke-notes → ke-notes-anonymised at nairobi-1
    /// (inside KE) has not produced it yet`, one clause per derived dataset.
    static func awaiting(_ name: String, _ pending: [DerivationStep]) -> String {
        let parts = pending.map { "waits for \($0.dataset): \($0.summary) has not produced it yet" }
        return "\(name): " + parts.joined(separator: "; ")
    }

    static func percent(_ part: Double, of whole: Double) -> String {
        whole > 0 ? "\(Int((100 * part / whole).rounded(.down)))%" : "0%"
    }

    /// Blocked steps merged into spans per reason: `power budget exhausted at nairobi-1 2026-03-03 18:00–22:00`.
    static func spans(_ blocked: [(step: Int, block: Walk.Block)], grid: TimeGrid) -> String {
        var byBlock: [Walk.Block: [Int]] = [:]
        var order: [Walk.Block] = []
        for (step, block) in blocked {
            if byBlock[block] == nil { order.append(block) }
            byBlock[block, default: []].append(step)
        }
        var parts: [String] = []
        for block in order {
            let steps = byBlock[block, default: []]
            var ranges: [(Int, Int)] = []
            for s in steps {
                if let last = ranges.last, last.1 == s {
                    ranges[ranges.count - 1].1 = s + 1
                } else {
                    ranges.append((s, s + 1))
                }
            }
            let shown = ranges.prefix(3).map { "\(grid.label(at: $0.0))–\(String(grid.label(at: $0.1).suffix(5)))" }
            let more = ranges.count > 3 ? " and \(ranges.count - 3) more" : ""
            let what =
                switch block.shortage {
                case .power: "power budget exhausted"
                case .capacity: "no free accelerators"
                }
            parts.append("\(what) at \(block.site) \(shown.joined(separator: ", "))\(more)")
        }
        return parts.joined(separator: "; ")
    }
}

/// Why the candidates of an unplaceable workload were refused, counted as the refusals are found: an unplaceable
/// workload is refused by every pool of the fleet, mostly by a few shared refusals (its datasets' residency),
/// so copies of one refusal are counted by identity, one after another in a run, and worded once.
struct Refusals {
    /// Copies of each refusal counted so far, by identity.
    private var copies: [ObjectIdentifier: (rejection: Rejection, count: Int)] = [:]
    /// The refusal counted last and its copies in a row since (not yet in `copies`): pool after pool is refused
    /// by one dataset's residency.
    private var run: (rejection: Rejection, count: Int)?

    /// No refusals.
    init() {}

    /// The refusals in `rejections`.
    init(_ rejections: [Rejection]) {
        for r in rejections { add(r) }
    }

    /// Counts one more refusal.
    mutating func add(_ r: Rejection) {
        if let last = run, last.rejection.identity == r.identity {
            run?.count += 1
            return
        }
        closeRun()
        run = (r, 1)
    }

    /// Counts each of `rejections`.
    mutating func add(_ rejections: [Rejection]) {
        for r in rejections { add(r) }
    }

    private mutating func closeRun() {
        guard let (rejection, n) = run else { return }
        copies[rejection.identity, default: (rejection, 0)].count += n
        run = nil
    }

    /// Each distinct refusal's words with its copies' count (refusals with equal words may come more than once).
    func counted() -> [(reason: String, count: Int)] {
        var all = self
        all.closeRun()
        return all.copies.values.map { ($0.rejection.reason, $0.count) }
    }
}
