/// The escapes of JSON strings (RFC 8259 §7), read one way by every JSON reader in Sovereign.
public enum JSONEscape: Sendable {
    /// The byte a one-letter escape stands for (`\" \\ \/ \b \f \n \r \t`), or `nil` for `u` (which needs
    /// four hex digits, ``Hex/utf16Unit(_:at:)``) and for any letter that is no escape.
    @inlinable
    public static func simple(_ letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): letter
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// The scalar value of a UTF-16 surrogate pair.
    ///
    /// - Precondition: `high` is in D800–DBFF and `low` in DC00–DFFF.
    @inlinable
    public static func combine(high: UInt32, low: UInt32) -> UInt32 {
        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
    }
}
