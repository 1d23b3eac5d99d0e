import SovereignBase

extension Hex {
    /// Eight lowercase hex digits, as note key IDs are written.
    static func keyID(_ id: UInt32) -> String {
        encode([
            UInt8(id >> 24), UInt8(truncatingIfNeeded: id >> 16), UInt8(truncatingIfNeeded: id >> 8),
            UInt8(truncatingIfNeeded: id),
        ])
    }
}

/// Standard base64 with padding (RFC 4648 §4), decoded strictly: padding is required, no whitespace,
/// and the unused low bits of the last character must be zero, so every byte string has exactly one
/// accepted text form.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (value, character) in alphabet.enumerated() { table[Int(character)] = UInt8(value) }
        return table
    }()

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= input.count {
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            out.append(alphabet[Int(chunk >> 18)])
            out.append(alphabet[Int(chunk >> 12 & 0x3f)])
            out.append(alphabet[Int(chunk >> 6 & 0x3f)])
            out.append(alphabet[Int(chunk & 0x3f)])
            index += 3
        }
        switch input.count - index {
        case 1:
            let chunk = UInt32(input[index]) << 16
            out.append(alphabet[Int(chunk >> 18)])
            out.append(alphabet[Int(chunk >> 12 & 0x3f)])
            out.append(contentsOf: "==".utf8)
        case 2:
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            out.append(alphabet[Int(chunk >> 18)])
            out.append(alphabet[Int(chunk >> 12 & 0x3f)])
            out.append(alphabet[Int(chunk >> 6 & 0x3f)])
            out.append(UInt8(ascii: "="))
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let isLast = index + 4 == input.count
            let padding =
                isLast
                ? (input[index + 3] == UInt8(ascii: "=") ? (input[index + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var chunk: UInt32 = 0
            for offset in 0..<(4 - padding) {
                let value = reverse[Int(input[index + offset])]
                guard value != 0xff else { return nil }
                chunk |= UInt32(value) << (18 - 6 * UInt32(offset))
            }
            switch padding {
            case 0:
                out.append(UInt8(chunk >> 16))
                out.append(UInt8(chunk >> 8 & 0xff))
                out.append(UInt8(chunk & 0xff))
            case 1:
                guard chunk & 0xff == 0 else { return nil }
                out.append(UInt8(chunk >> 16))
                out.append(UInt8(chunk >> 8 & 0xff))
            default:
                guard chunk & 0xffff == 0 else { return nil }
                out.append(UInt8(chunk >> 16))
            }
            index += 4
        }
        return out
    }
}
