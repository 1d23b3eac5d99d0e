/// Lowercase hexadecimal, as hashes, digests, key IDs and tokens are written.
public enum Hex: Sendable {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Two lowercase hex digits per byte.
    ///
    /// - Complexity: O(*n*) in the number of bytes.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes { append(byte, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the two lowercase hex digits of `byte` to `output`.
    public static func append(_ byte: UInt8, to output: inout [UInt8]) {
        output.append(digits[Int(byte >> 4)])
        output.append(digits[Int(byte & 0x0f)])
    }

    /// Decodes hex digits of either case.
    ///
    /// - Returns: The bytes, or `nil` for an odd length or any character that is not a hex digit.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// The value of one hex digit of either case, or `nil` for any other byte.
    public static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The 16-bit value of four hex digits at `offset` (a JSON `\u` escape's UTF-16 code unit), or `nil`
    /// when there are fewer than four or any is not a hex digit.
    public static func utf16Unit<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, at offset: Int) -> UInt32?
    where Bytes.Index == Int {
        guard offset >= bytes.startIndex, offset + 4 <= bytes.endIndex else { return nil }
        var unit: UInt32 = 0
        for index in offset..<offset + 4 {
            guard let digit = value(bytes[index]) else { return nil }
            unit = unit << 4 | UInt32(digit)
        }
        return unit
    }
}
