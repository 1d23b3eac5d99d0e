/// The declared name closest to a misspelt one, for a diagnostic's `did you mean …?`.
enum NearMiss {
    /// The declared name `name` most likely meant: the shortest whose `-`-separated parts include all of
    /// `name`'s in order (a part left out: `nvidia-v100-32gb` for `nvidia-v100-sxm2-32gb`), else the closest
    /// by edit distance if at most a third of the shorter name's length (at least 2) away. Ties go to the
    /// first in sorted order.
    ///
    /// - Complexity: O(*c* × *n* × *m*) for *c* candidates of length *m* and a name of length *n*; candidates
    ///   whose length alone puts them too far away are skipped without comparing.
    static func suggestion(for name: String, among candidates: some Sequence<String>) -> String? {
        let sorted = candidates.sorted().filter { $0 != name }
        let parts = name.split(separator: "-")
        let widened = sorted.filter { parts.count > 1 && isSubsequence(parts, of: $0.split(separator: "-")) }
        if let shortest = widened.min(by: { $0.count < $1.count }) { return shortest }
        return closest(to: name, among: sorted)
    }

    /// Whether `parts` appear in `whole` in order, not necessarily next to each other.
    static func isSubsequence(_ parts: [Substring], of whole: [Substring]) -> Bool {
        var remaining = whole[...]
        for part in parts {
            guard let found = remaining.firstIndex(of: part) else { return false }
            remaining = remaining[(found + 1)...]
        }
        return true
    }

    static func closest(to name: String, among sorted: [String]) -> String? {
        let target = Array(name.utf8)
        var best: (name: String, distance: Int)?
        for candidate in sorted {
            let other = Array(candidate.utf8)
            let limit = max(2, min(target.count, other.count) / 3)
            guard abs(target.count - other.count) <= limit else { continue }
            let distance = editDistance(target, other)
            if distance <= limit, distance < best?.distance ?? .max { best = (candidate, distance) }
        }
        return best?.name
    }

    /// Levenshtein distance (insertions, deletions, substitutions), two rows at a time.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension SpecNode {
    /// Reports a name that refers to nothing declared, suggesting the closest declared name if one is near.
    func reportUnknown(_ expected: String, among names: some Sequence<String>) {
        guard let text = scalarText, let near = NearMiss.suggestion(for: text, among: names) else {
            report(.unknownReference, expected: expected)
            return
        }
        report(.unknownReference, expected: expected, found: "\(foundDescription); did you mean \"\(near)\"?")
    }
}
