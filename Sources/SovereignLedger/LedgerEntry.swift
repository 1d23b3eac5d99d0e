public import Foundation
import SovereignBase

/// One entry of the ledger: something that happened, at a time, with its details.
///
/// Its leaf in the Merkle tree is ``MerkleHash/leaf(_:)`` of ``canonicalJSON()``, the RFC 8785 canonical
/// form of
///
/// ```json
/// {"fields":{…},"kind":"workload.submitted","sequence":12,"time":"2026-11-22T10:00:00.123Z"}
/// ```
public struct LedgerEntry: Sendable, Hashable {
    /// The entry's leaf index in the ledger, from 0.
    public var sequence: Int
    /// When it happened: RFC 3339 in UTC with milliseconds, like `2026-11-22T10:00:00.123Z`
    /// (``formatTime(_:)`` writes it).
    public var time: String
    /// What happened, dotted, like `workload.submitted`.
    public var kind: String
    /// The details.
    public var fields: [String: JSONValue]

    /// Makes an entry.
    ///
    /// - Parameters:
    ///   - sequence: The leaf index, from 0.
    ///   - time: RFC 3339 UTC with milliseconds (``formatTime(_:)``).
    ///   - kind: What happened, like `workload.submitted`.
    ///   - fields: The details.
    public init(sequence: Int, time: String, kind: String, fields: [String: JSONValue]) {
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.fields = fields
    }

    /// The entry's canonical JSON (RFC 8785): the bytes the ledger stores and hashes.
    ///
    /// - Returns: UTF-8 bytes of `{"fields":…,"kind":…,"sequence":…,"time":…}`, keys sorted, no white space.
    /// - Complexity: O(*n*) in the size of the output (plus sorting each object's keys).
    public func canonicalJSON() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(to: &output)
        return output
    }

    private func write(to output: inout [UInt8]) {
        // The four top-level keys, already in UTF-16 order.
        output.append(contentsOf: #"{"fields":"#.utf8)
        CanonicalJSON.write(.object(fields), to: &output)
        output.append(contentsOf: #","kind":"#.utf8)
        CanonicalJSON.writeString(kind, to: &output)
        output.append(contentsOf: #","sequence":"#.utf8)
        CanonicalJSON.writeNumber(Double(sequence), to: &output)
        output.append(contentsOf: #","time":"#.utf8)
        CanonicalJSON.writeString(time, to: &output)
        output.append(UInt8(ascii: "}"))
    }

    /// The entry's leaf hash: ``MerkleHash/leaf(_:)`` of ``canonicalJSON()``.
    public var leafHash: TreeHash {
        canonicalJSON().withUnsafeBytes { MerkleHash.leaf(bytes: $0) }
    }

    /// Reads an entry back from its canonical JSON, refusing anything that is not byte for byte what
    /// ``canonicalJSON()`` would write for it, so a row edited by hand, or re-serialized by another JSON
    /// library, is detected.
    ///
    /// - Parameter canonicalJSON: The stored bytes.
    /// - Throws: ``LedgerError``: ``LedgerError/Code/malformedJSON`` for text that is not JSON,
    ///   ``LedgerError/Code/malformedEntry`` for JSON that is not an entry (keys other than `fields`,
    ///   `kind`, `sequence`, `time`, wrong types, a negative or fractional sequence, a time not in
    ///   `YYYY-MM-DDTHH:MM:SS.sssZ` form), and ``LedgerError/Code/nonCanonicalJSON`` naming the first byte
    ///   that differs from the canonical form.
    /// - Complexity: O(*n*) in the length of the text.
    public init(canonicalJSON: some Collection<UInt8>) throws(LedgerError) {
        try self.init(canonicalBytes: Array(canonicalJSON))
    }

    /// ``init(canonicalJSON:)`` for bytes already in an array: not generic, so the audit's hot loop runs
    /// specialized code.
    init(canonicalBytes bytes: [UInt8]) throws(LedgerError) {
        guard case .object(let members) = try JSONParser.parse(bytes) else {
            throw LedgerError(.malformedEntry, "ledger entry: expected a JSON object, found another value")
        }
        guard members.count == 4, members["fields"] != nil, members["kind"] != nil, members["sequence"] != nil,
            members["time"] != nil
        else {
            let found = CanonicalJSON.sortedKeys(members).map { Checkpoint.quote($0) }.joined(separator: ", ")
            throw LedgerError(
                .malformedEntry,
                "ledger entry: expected the keys \"fields\", \"kind\", \"sequence\", \"time\", found \(found)"
            )
        }
        guard case .object(let fields) = members["fields"]! else {
            throw LedgerError(.malformedEntry, "ledger entry: expected \"fields\" to be an object")
        }
        guard case .string(let kind) = members["kind"]!, !kind.isEmpty else {
            throw LedgerError(.malformedEntry, "ledger entry: expected \"kind\" to be a non-empty string")
        }
        guard case .number(let number) = members["sequence"]!, number >= 0, number < 9_007_199_254_740_992,
            number == number.rounded(.towardZero)
        else {
            throw LedgerError(.malformedEntry, "ledger entry: expected \"sequence\" to be an integer from 0 to 2^53")
        }
        guard case .string(let time) = members["time"]!, Self.isValidTime(time) else {
            throw LedgerError(
                .malformedEntry,
                "ledger entry: expected \"time\" like \"2026-11-22T10:00:00.123Z\" (RFC 3339 UTC, milliseconds)"
            )
        }
        self.init(sequence: Int(number), time: time, kind: kind, fields: fields)
        var canonical: [UInt8] = []
        canonical.reserveCapacity(bytes.count)
        write(to: &canonical)
        if canonical != bytes {
            let offset = zip(canonical, bytes).prefix { $0 == $1 }.count
            throw LedgerError(
                .nonCanonicalJSON,
                "ledger entry \(sequence): expected canonical JSON (RFC 8785), found a difference at byte \(offset): "
                    + "canonical has \(Self.describe(canonical, at: offset)), stored has \(Self.describe(bytes, at: offset))"
            )
        }
    }

    /// Formats a moment as the ledger writes times: RFC 3339 in UTC with milliseconds, rounded down.
    ///
    /// - Parameter date: The moment; from year 0 to 9999.
    /// - Returns: Like `2026-11-22T10:00:00.123Z`.
    public static func formatTime(_ date: Date) -> String {
        ISO8601.format(epochMilliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// The time to stamp on entries appended at `time` after the entry whose canonical JSON is `previous`:
    /// `time`, or the previous entry's time when that is later, so a ledger's times never go backwards
    /// although its writers (a control-loop pass, a group of submissions, another replica) read their clocks
    /// before they take their turn to append.
    ///
    /// - Parameters:
    ///   - time: when the writer says its entries happened.
    ///   - previous: the ledger's last entry as stored, or `nil` for an empty ledger. An entry that does not
    ///     read back (which an audit reports) does not hold the time back.
    /// - Returns: RFC 3339 UTC with milliseconds (``formatTime(_:)``).
    /// - Complexity: O(*n*) in the size of `previous`.
    public static func appendTime(_ time: Date, after previous: [UInt8]?) -> String {
        let stamp = formatTime(time)
        guard let previous, let last = try? LedgerEntry(canonicalJSON: previous) else { return stamp }
        // Stamps are fixed-width, so their order as text is their order in time.
        return max(stamp, last.time)
    }

    /// Whether `time` is `YYYY-MM-DDTHH:MM:SS.sssZ` with fields in range.
    static func isValidTime(_ time: String) -> Bool {
        let bytes = Array(time.utf8)
        guard bytes.count == 24 else { return false }
        let shape = Array("dddd-dd-ddTdd:dd:dd.dddZ".utf8)
        for (byte, expected) in zip(bytes, shape) {
            if expected == UInt8(ascii: "d") {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return false }
            } else if byte != expected {
                return false
            }
        }
        func number(_ range: Range<Int>) -> Int {
            bytes[range].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }
        let month = number(5..<7)
        let day = number(8..<10)
        return (1...12).contains(month) && (1...31).contains(day) && number(11..<13) < 24 && number(14..<16) < 60
            && number(17..<19) < 61
    }

    private static func describe(_ bytes: [UInt8], at offset: Int) -> String {
        guard offset < bytes.count else { return "the end" }
        let byte = bytes[offset]
        return byte >= 0x20 && byte < 0x7f ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(Hex.encode([byte]))"
    }
}
