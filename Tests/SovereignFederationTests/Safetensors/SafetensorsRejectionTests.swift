import SovereignBase
import SovereignFederation
import Testing

/// One malformed buffer and the message it must be rejected with.
struct Rejection: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: [UInt8]
    let message: String

    var testDescription: String { label }
}

private let f32 = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"
private let four: [UInt8] = [0, 0, 0, 0]

/// Every rule the reference implementation enforces (and the stricter ones it documents), each with its message.
let rejections: [Rejection] = [
    Rejection(
        label: "shorter than the length prefix",
        bytes: [2, 0, 0],
        message: "m: byte 0: expected an 8-byte little-endian header length, found a 3-byte file"
    ),
    Rejection(
        label: "header over 100 MB",
        bytes: rawFile("{}", declaredLength: 100_000_001),
        message: "m: byte 0: expected a header length of at most 100000000 bytes, found 100000001"
    ),
    Rejection(
        label: "header length past the end",
        bytes: rawFile("{}", declaredLength: 1000),
        message: "m: byte 0: header length 1000 runs past the end of the file: expected at most 2, found 1000"
    ),
    Rejection(
        label: "header length of 2^64 - 1",
        bytes: rawFile("{}", declaredLength: .max),
        message: "m: byte 0: expected a header length of at most 100000000 bytes, found 18446744073709551615"
    ),
    Rejection(
        label: "empty header",
        bytes: rawFile(""),
        message: "m: byte 8: header: expected the header to begin with '{', found the end of the header"
    ),
    Rejection(
        label: "header not starting with '{'",
        bytes: rawFile(" {\"a\":\(f32)}", data: four),
        message: "m: byte 8: header: expected the header to begin with '{', found ' '"
    ),
    Rejection(
        label: "a JSON array",
        bytes: rawFile("[]"),
        message: "m: byte 8: header: expected the header to begin with '{', found '['"
    ),
    Rejection(
        label: "invalid JSON",
        bytes: rawFile("{\"a\" \(f32)}", data: four),
        message: "m: byte 13: header: expected ':' after key \"a\", found '{'"
    ),
    Rejection(
        label: "trailing characters",
        bytes: rawFile("{\"a\":\(f32)} x", data: four),
        message: "m: byte 63: header: expected only whitespace after the header's closing '}', found 'x'"
    ),
    Rejection(
        label: "NUL padding",
        bytes: rawFile("{}\0", data: []),
        message: "m: byte 10: header: expected only whitespace after the header's closing '}', found byte 0x0"
    ),
    Rejection(
        label: "invalid UTF-8 in a name",
        bytes: rawFile("{\"\u{FFFD}\":\(f32)}", data: four).replacingBytes(at: 10, with: [0xFF, 0x20, 0x20]),
        message: "m: byte 9: header: expected UTF-8 text in the string, found invalid bytes"
    ),
    Rejection(
        label: "duplicate tensor names",
        bytes: rawFile("{\"a\":\(f32),\"a\":\(f32)}", data: four + four),
        message: "m: byte 62: header: expected unique keys, found \"a\" twice"
    ),
    Rejection(
        label: "duplicate __metadata__",
        bytes: rawFile("{\"__metadata__\":{},\"__metadata__\":{}}"),
        message: "m: byte 27: header: expected unique keys, found \"__metadata__\" twice"
    ),
    Rejection(
        label: "duplicate metadata keys",
        bytes: rawFile("{\"__metadata__\":{\"x\":\"1\",\"x\":\"2\"}}"),
        message: "m: byte 33: header: __metadata__: expected unique keys, found \"x\" twice"
    ),
    Rejection(
        label: "duplicate field in a tensor",
        bytes: rawFile(
            "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
            data: four
        ),
        message: "m: byte 28: header: tensor a: expected unique fields, found \"dtype\" twice"
    ),
    Rejection(
        label: "non-string metadata value",
        bytes: rawFile("{\"__metadata__\":{\"x\":1}}"),
        message: "m: byte 29: header: __metadata__.x: expected a string value, found '1'"
    ),
    Rejection(
        label: "metadata that is not an object",
        bytes: rawFile("{\"__metadata__\":[]}"),
        message: "m: byte 24: header: expected __metadata__ to be an object of strings, found '['"
    ),
    Rejection(
        label: "unknown dtype",
        bytes: rawFile("{\"a\":{\"dtype\":\"Q8\",\"shape\":[1],\"data_offsets\":[0,1]}}", data: [0]),
        message:
            "m: byte 22: header: tensor a: dtype: expected one of \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")), found \"Q8\""
    ),
    Rejection(
        label: "negative dimension",
        bytes: rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data: four),
        message: "m: byte 37: header: a.shape: expected a non-negative integer, found a negative number"
    ),
    Rejection(
        label: "fractional dimension",
        bytes: rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", data: four),
        message: "m: byte 37: header: a.shape: expected a non-negative integer, found a fraction or exponent"
    ),
    Rejection(
        label: "exponent in an offset",
        bytes: rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4e0]}}", data: four),
        message: "m: byte 58: header: a.data_offsets: expected a non-negative integer, found a fraction or exponent"
    ),
    Rejection(
        label: "dimension beyond Int",
        bytes: rawFile(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}",
            data: four
        ),
        message:
            "m: byte 37: header: a.shape: expected an integer of at most 9223372036854775807, found 99999999999999999999"
    ),
    Rejection(
        label: "shape product overflows",
        bytes: rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}"),
        message: "m: tensor a: shape [4294967296, 4294967296] overflows when multiplied out"
    ),
    Rejection(
        label: "byte count overflows",
        bytes: rawFile("{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,0]}}"),
        message: "m: tensor a: shape [2305843009213693952] × 8 bytes overflows"
    ),
    Rejection(
        label: "huge shape with tiny data",
        bytes: rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000000],\"data_offsets\":[0,4]}}", data: four),
        message: "m: tensor a: expected 4000000000 bytes for F32 [1000000000], found data_offsets [0, 4] (4 bytes)"
    ),
    Rejection(
        label: "shape that does not match the offsets",
        bytes: rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", data: four),
        message: "m: tensor a: expected 8 bytes for F32 [2], found data_offsets [0, 4] (4 bytes)"
    ),
    Rejection(
        label: "three data offsets",
        bytes: rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,4]}}", data: four),
        message: "m: byte 55: header: a.data_offsets: expected 2 integers, found 3"
    ),
    Rejection(
        label: "end before begin",
        bytes: rawFile(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,0]}}",
            data: four
        ),
        message: "m: tensor b: expected data_offsets [begin, end] with begin ≤ end, found [4, 0]"
    ),
    Rejection(
        label: "a hole before the first tensor",
        bytes: rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", data: four + four),
        message: "m: tensor a: data_offsets leaves a hole before it: expected it to begin at 0, found [4, 8]"
    ),
    Rejection(
        label: "overlapping tensors",
        bytes: rawFile("{\"a\":\(f32),\"b\":\(f32)}", data: four + four),
        message: "m: tensor b: data_offsets overlaps the previous tensor: expected it to begin at 4, found [0, 4]"
    ),
    Rejection(
        label: "data shorter than the offsets",
        bytes: rawFile("{\"a\":\(f32)}", data: [0, 0]),
        message: "m: tensor a: expected data_offsets inside the 2-byte data section, found [0, 4]"
    ),
    Rejection(
        label: "trailing data bytes (MetadataIncompleteBuffer)",
        bytes: rawFile("{\"a\":\(f32)}", data: four + four),
        message:
            "m: byte 66: the tensors cover 4 bytes of data but the data section holds 8: expected no trailing bytes (incomplete metadata)"
    ),
    Rejection(
        label: "missing data_offsets",
        bytes: rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: four),
        message: "m: byte 13: header: tensor a: expected a data_offsets field, found none"
    ),
    Rejection(
        label: "tensor that is not an object",
        bytes: rawFile("{\"a\":[1]}"),
        message:
            "m: byte 13: header: expected tensor a to be an object {\"dtype\", \"shape\", \"data_offsets\"}, found '['"
    ),
    Rejection(
        label: "deeply nested unknown field",
        bytes: rawFile(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":"
                + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}}",
            data: four
        ),
        message: "m: byte 191: header: expected JSON nested at most 128 deep, found deeper"
    ),
    Rejection(
        label: "lone surrogate escape",
        bytes: rawFile("{\"\\udc00\":\(f32)}", data: four),
        message: "m: byte 16: header: expected a character, found a lone low surrogate \\udc00"
    ),
    Rejection(
        label: "control character in a string",
        bytes: rawFile("{\"a\nb\":\(f32)}", data: four),
        message: "m: byte 11: header: expected no control characters in a string, found byte 0xa"
    ),
    Rejection(
        label: "leading zero",
        bytes: rawFile("{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", data: four),
        message: "m: byte 37: header: a.shape: expected a JSON integer, found a leading zero"
    ),
]

extension [UInt8] {
    func replacingBytes(at offset: Int, with bytes: [UInt8]) -> [UInt8] {
        var copy = self
        copy.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        return copy
    }
}

struct SafetensorsRejectionTests {
    @Test(arguments: rejections)
    func rejectsWithAMessageNamingWhereWhatAndFound(_ case: Rejection) {
        let error = #expect(throws: FederationError.self) { try SafetensorsFile(bytes: `case`.bytes, source: "m") }
        #expect(error?.code == .malformedSafetensors)
        #expect(error?.message == `case`.message)
    }

    /// What the reference accepts, we accept: unknown fields, `null` metadata, newline padding, scalars, empty
    /// tensors (several at the same offset), any header order, escaped names, an empty file of tensors.
    @Test func acceptsWhatTheReferenceAccepts() throws {
        let extra = try SafetensorsFile(
            bytes: rawFile(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"z\":{\"q\":[1.5e3,true,null,\"s\"]}}}",
                data: four
            )
        )
        #expect(extra.tensors.map(\.name) == ["a"])
        #expect(try SafetensorsFile(bytes: rawFile("{\"__metadata__\":null}")).metadata.isEmpty)
        #expect(try SafetensorsFile(bytes: rawFile("{\"a\":\(f32)}\n", data: four)).tensors.count == 1)
        let scalar = try SafetensorsFile(
            bytes: rawFile("{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", data: [0, 0, 0x80, 0x3F])
        )
        #expect(try scalar.floats("s") == [1])
        let empties = try SafetensorsFile(
            bytes: rawFile(
                "{\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"a\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}}"
            )
        )
        #expect(Set(empties.tensors.map(\.name)) == ["a", "b"])
        #expect(try empties.floats("a") == [])
        let reordered = try SafetensorsFile(
            bytes: rawFile(
                "{\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,5]},\"\\u0061\":\(f32)}",
                data: four + [9]
            )
        )
        #expect(reordered.tensors.map(\.name) == ["a", "b"])
        #expect(try reordered.withBytes(of: "b") { Array($0) } == [9])
        let surrogates = try SafetensorsFile(bytes: rawFile("{\"\\ud83d\\ude00\":\(f32)}", data: four))
        #expect(surrogates.tensors.map(\.name) == ["😀"])
    }

    /// Thousands of seeded mutations and truncations of a valid file: each either parses (and then every
    /// tensor can be read) or throws `.malformedSafetensors`; none crashes.
    @Test func survivesThousandsOfRandomMutations() throws {
        var rng = SeededGenerator(seed: 2024)
        let base = try Safetensors.encode(
            [
                try SafetensorsTensor(name: "w", shape: [3, 4], floats: (0..<12).map(Float.init)),
                try SafetensorsTensor(name: "b", dtype: .bf16, shape: [4], data: [UInt8](repeating: 0x3F, count: 8)),
                try SafetensorsTensor(name: "e", dtype: .u8, shape: [0, 2], data: []),
                try SafetensorsTensor(name: "m", shape: [2], uint32: [1, 2]),
            ],
            metadata: ["round": "3"]
        )
        let interesting: [UInt8] = Array("{}[]\",:0123456789-.eE \\u".utf8) + [0, 0xFF, 0x80]
        var parsed = 0
        var rejected = 0
        for _ in 0..<5000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                switch Int.random(in: 0..<6, using: &rng) {
                case 0 where !bytes.isEmpty:
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^=
                        UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
                case 1 where !bytes.isEmpty:
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = interesting.randomElement(using: &rng)!
                case 2:
                    bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
                case 3:
                    bytes.insert(
                        interesting.randomElement(using: &rng)!,
                        at: Int.random(in: 0...bytes.count, using: &rng)
                    )
                case 4 where bytes.count >= 8:
                    let length = UInt64.random(in: 0...UInt64(bytes.count + 16), using: &rng)
                    bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: length.littleEndian) { Array($0) })
                case 5 where bytes.count > 8:
                    bytes.remove(at: Int.random(in: 8..<bytes.count, using: &rng))
                default:
                    break
                }
            }
            do {
                let file = try SafetensorsFile(bytes: bytes)
                for info in file.tensors {
                    let count = try file.withBytes(of: info.name) { $0.count }
                    #expect(count == info.elementCount * info.dtype.byteSize)
                    if info.dtype.isFloatingPoint { #expect(try file.floats(info.name).count == info.elementCount) }
                }
                parsed += 1
            } catch let error as FederationError {
                #expect(error.code == .malformedSafetensors)
                rejected += 1
            }
        }
        #expect(parsed + rejected == 5000)
        #expect(parsed > 0 && rejected > 1000)
    }
}
