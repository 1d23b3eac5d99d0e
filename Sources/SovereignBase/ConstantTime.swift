/// Comparisons whose time does not depend on where two secrets differ.
public enum ConstantTime: Sendable {
    /// Whether `a` and `b` hold the same bytes, looking at every byte of both whatever they hold (two
    /// lengths that differ are unequal at once: compare digests of secrets, which have one length).
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
