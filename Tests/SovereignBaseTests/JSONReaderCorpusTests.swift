import Foundation
import SovereignBase
import Testing

/// The fuzz corpora of the three JSON readers the shared reader replaced, as regression inputs: every file,
/// every prefix of it and every file with one byte changed must be accepted or refused with a
/// ``JSONReadError`` (never a crash), and the verdict must agree with Foundation's `JSONSerialization`
/// wherever RFC 8259 is clear (Foundation accepts a trailing comma in an array; those cases are counted).
@Suite struct JSONReaderCorpusTests {
    /// The repository's `Fuzz` folder, found from this file.
    static let fuzz = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    /// The JSON documents of the corpora: extender request bodies, the JSON crash inputs, and the headers
    /// of the safetensors seeds (the bytes after the 8-byte length).
    static func documents() throws -> [(name: String, bytes: [UInt8])] {
        var documents: [(String, [UInt8])] = []
        for folder in ["corpus-extender", "crashes", "corpus-safetensors"] {
            let directory = fuzz.appendingPathComponent(folder)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            for name in names where name.hasSuffix(".json") || name.hasSuffix(".safetensors") {
                let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
                documents.append(("\(folder)/\(name)", name.hasSuffix(".json") ? bytes : header(of: bytes)))
            }
        }
        return documents
    }

    /// The JSON header of a safetensors file.
    static func header(of file: [UInt8]) -> [UInt8] {
        let length = file.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        return Array(file[8..<min(file.count, 8 + length)])
    }

    /// The shared reader's verdict on one whole document: `nil` when accepted, else its refusal.
    static func verdict(_ bytes: [UInt8]) -> JSONReadError? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            do throws(JSONReadError) {
                try reader.skipValue(maximumDepth: 512, uniqueKeys: false)
                try reader.expectEnd()
                #expect(reader.position == buffer.count)
                return nil
            } catch {
                #expect(error.offset >= 0 && error.offset <= buffer.count)
                return error
            }
        }
    }

    /// Whether Foundation's known laxness, which RFC 8259 does not allow, explains a difference on `bytes`:
    /// it accepts a trailing comma in an array (`[1,]`), where the reader expects a value.
    static func isFoundationLax(_ bytes: [UInt8], _ verdict: JSONReadError?) -> Bool {
        guard let verdict, verdict.expected == .value, verdict.found == UInt8(ascii: "]") else { return false }
        let before = bytes[..<verdict.offset].last { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return before == UInt8(ascii: ",")
    }

    static func foundationAccepts(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil
    }

    @Test func seedsAreAcceptedAndCrashesJudgedAsFoundationJudgesThem() throws {
        let documents = try Self.documents()
        #expect(documents.count == 14)
        for (name, bytes) in documents where !name.hasPrefix("crashes/") {
            #expect(Self.verdict(bytes) == nil, "\(name)")
            #expect(Self.foundationAccepts(bytes), "\(name)")
        }
        let crashes = documents.filter { $0.name.hasPrefix("crashes/") }
        #expect(crashes.count == 2)
        for (name, bytes) in crashes {
            #expect((Self.verdict(bytes) == nil) == Self.foundationAccepts(bytes), "\(name)")
        }
        let surrogate = try #require(crashes.first { $0.name.contains("lone-surrogate") })
        #expect(Self.verdict(surrogate.bytes)?.expected == .lowSurrogateEscape(escape: 1977, high: 0xDA14))
    }

    @Test func everyPrefixIsRefusedAsFoundationRefusesIt() throws {
        var refused = 0
        for (name, bytes) in try Self.documents() {
            for end in 0..<bytes.count {
                let prefix = Array(bytes[..<end])
                let verdict = Self.verdict(prefix)
                if verdict != nil { refused += 1 }
                #expect((verdict == nil) == Self.foundationAccepts(prefix), "\(name) up to byte \(end)")
            }
        }
        // Every prefix is cut short of the document's end, so every one is refused.
        #expect(refused == 20_719)
    }

    @Test func everyOneByteChangeAgreesWithFoundation() throws {
        let replacements: [UInt8] = [0x22, 0x5C, 0x7D, 0x5D, 0x2C, 0x30, 0x2D, 0x01, 0x20, 0x75, 0xFF]
        var (accepted, refused, lax) = (0, 0, 0)
        for (name, bytes) in try Self.documents() where bytes.count <= 4096 {
            for offset in bytes.indices {
                for byte in replacements where byte != bytes[offset] {
                    var changed = bytes
                    changed[offset] = byte
                    let verdict = Self.verdict(changed)
                    if verdict == nil { accepted += 1 } else { refused += 1 }
                    guard !Self.isFoundationLax(changed, verdict) else {
                        lax += 1
                        continue
                    }
                    #expect(
                        (verdict == nil) == Self.foundationAccepts(changed),
                        "\(name) with byte \(offset) as 0x\(String(byte, radix: 16)): \(String(describing: verdict))"
                    )
                }
            }
        }
        #expect(accepted == 24_118)
        #expect(refused == 63_962)
        // Trailing commas in arrays, e.g. a digit of `data_offsets` or `shape` turned into `,` or a space.
        #expect(lax == 53)
    }
}
