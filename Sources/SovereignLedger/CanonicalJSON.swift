import SovereignBase

extension CanonicalJSON {
    /// Appends `value` in RFC 8785 canonical form: no white space, keys in UTF-16 order.
    static func write(_ value: JSONValue, to output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let value):
            output.append(contentsOf: value ? "true".utf8 : "false".utf8)
        case .number(let value):
            writeNumber(value, to: &output)
        case .string(let value):
            writeString(value, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            // Sorting the pairs, not the keys, saves hashing every key again to look its value up.
            let sorted = members.sorted { keyPrecedes($0.key, $1.key) }
            for (index, member) in sorted.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                write(member.value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// An object's keys in RFC 8785 §3.2.3 order.
    static func sortedKeys(_ members: [String: JSONValue]) -> [String] {
        members.keys.sorted(by: keyPrecedes)
    }
}
