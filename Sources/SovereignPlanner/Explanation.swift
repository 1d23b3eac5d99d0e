import Foundation
import SovereignModel

/// Explanations in kube-scheduler's shape: `name: 0/9 pools fit: 5 outside residency KE (...), ...`.
enum Explanation {
    static func noPool(_ name: String, total: Int, rejections: [Rejection]) -> String {
        // Counted by identity first, then worded once per distinct refusal: an unplaceable workload is refused
        // by every pool of the fleet, mostly by a few shared refusals (its datasets' residency).
        var copies: [ObjectIdentifier: (rejection: Rejection, count: Int)] = [:]
        for r in rejections { copies[r.identity, default: (r, 0)].count += 1 }
        var counts: [String: Int] = [:]
        for (r, n) in copies.values { counts[r.reason, default: 0] += n }
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
