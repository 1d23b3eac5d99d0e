/// Sovereign's one writer of JSON string literals: `"` and `\` escaped, control characters escaped,
/// everything else (`/` and non-ASCII included) copied as UTF-8.
public enum JSONString: Sendable {
    /// How control characters other than the escaped ones are written; both write `\u00xx` (lowercase hex)
    /// for the rest.
    public enum ControlEscapes: Sendable {
        /// `\b \t \n \f \r` by name, as ECMAScript's `JSON.stringify` (RFC 8785) and serde_json write them.
        case allNamed
        /// Only `\t \n \r` by name, as Go's `encoding/json` wrote them (the extender's and the Kubernetes
        /// client's wire form).
        case whitespaceNamed
    }

    /// Appends `string` as a JSON string literal, quotes included.
    ///
    /// - Parameters:
    ///   - string: The text.
    ///   - output: Where the literal goes.
    ///   - escapes: Which control characters are written by name.
    /// - Complexity: O(*n*) in the string's UTF-8 length; a string with nothing to escape is copied at once.
    public static func write(_ string: String, to output: inout [UInt8], escapes: ControlEscapes = .allNamed) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                runStart = index + 1
                writeEscape(byte, to: &output, escapes: escapes)
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// `string` as a JSON string literal, quotes included.
    public static func quoted(_ string: String, escapes: ControlEscapes = .allNamed) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(string.utf8.count + 2)
        write(string, to: &output, escapes: escapes)
        return String(decoding: output, as: UTF8.self)
    }

    private static func writeEscape(_ byte: UInt8, to output: inout [UInt8], escapes: ControlEscapes) {
        output.append(UInt8(ascii: "\\"))
        switch (byte, escapes) {
        case (UInt8(ascii: "\""), _): output.append(UInt8(ascii: "\""))
        case (UInt8(ascii: "\\"), _): output.append(UInt8(ascii: "\\"))
        case (0x09, _): output.append(UInt8(ascii: "t"))
        case (0x0a, _): output.append(UInt8(ascii: "n"))
        case (0x0d, _): output.append(UInt8(ascii: "r"))
        case (0x08, .allNamed): output.append(UInt8(ascii: "b"))
        case (0x0c, .allNamed): output.append(UInt8(ascii: "f"))
        default:
            output.append(contentsOf: "u00".utf8)
            Hex.append(byte, to: &output)
        }
    }
}
