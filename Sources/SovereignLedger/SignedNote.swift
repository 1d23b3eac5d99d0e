import Crypto
import SovereignBase

/// The signed-note grammar (c2sp.org/signed-note), read as golang.org/x/mod/sumdb/note's `Open` reads it.
///
/// A note is UTF-8 text with no control characters other than newline: the body (one or more lines,
/// each ending in a newline), a blank line, then one or more signature lines
/// `— <name> <base64(key ID ‖ signature)>\n`, where the dash is U+2014 EM DASH. The signature block
/// starts after the last blank line of the note.
struct SignedNote {
    /// One signature line.
    struct Signature {
        var name: String
        var keyID: UInt32
        var signature: [UInt8]
    }

    /// The signed text: everything before the blank line, including its final newline.
    var body: String
    /// The signature lines, in order.
    var signatures: [Signature]

    /// The U+2014 EM DASH and space that start every signature line.
    static let signaturePrefix: [UInt8] = Array("\u{2014} ".utf8)
    /// Go's limit, so that a note cannot make a verifier parse forever.
    static let maximumSignatures = 100

    init(parsing note: String) throws(LedgerError) {
        var offset = 0
        for scalar in note.unicodeScalars {
            if scalar.value < 0x20 && scalar != "\n" {
                throw LedgerError(
                    .malformedNote,
                    "note: expected no control characters other than newline, found U+\(Hex.encode([UInt8(scalar.value)]).uppercased()) at byte \(offset)"
                )
            }
            offset += UTF8.width(scalar)
        }
        let bytes = Array(note.utf8)
        guard let split = Self.lastBlankLine(in: bytes) else {
            throw LedgerError(
                .malformedNote,
                "note: expected a body, a blank line and signature lines, found no blank line"
            )
        }
        let block = bytes[(split + 2)...]
        guard let last = block.last, last == UInt8(ascii: "\n") else {
            throw LedgerError(
                .malformedNote,
                block.isEmpty
                    ? "note: expected signature lines after the blank line, found none"
                    : "note: expected the last signature line to end with a newline, found \(Checkpoint.quote(String(decoding: block.suffix(16), as: UTF8.self)))"
            )
        }
        body = String(decoding: bytes[...split], as: UTF8.self)
        signatures = []
        var lineNumber = bytes[...split].lazy.filter { $0 == UInt8(ascii: "\n") }.count + 2
        var rest = block
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            let line = rest[..<newline]
            rest = rest[(newline + 1)...]
            signatures.append(try Self.parseSignatureLine(line, number: lineNumber))
            lineNumber += 1
            if signatures.count > Self.maximumSignatures {
                throw LedgerError(
                    .malformedNote,
                    "note: expected at most \(Self.maximumSignatures) signature lines, found more"
                )
            }
        }
    }

    /// The index of the first newline of the last "\n\n" in `bytes`.
    private static func lastBlankLine(in bytes: [UInt8]) -> Int? {
        var index = bytes.count - 2
        while index >= 0 {
            if bytes[index] == UInt8(ascii: "\n") && bytes[index + 1] == UInt8(ascii: "\n") { return index }
            index -= 1
        }
        return nil
    }

    private static func parseSignatureLine(_ line: ArraySlice<UInt8>, number: Int) throws(LedgerError) -> Signature {
        let text = String(decoding: line, as: UTF8.self)
        guard line.starts(with: signaturePrefix) else {
            throw LedgerError(
                .malformedNote,
                "note line \(number): expected a signature line starting with \"— \" (U+2014 EM DASH, space), found \(Checkpoint.quote(text))"
            )
        }
        let content = line.dropFirst(signaturePrefix.count)
        let space = content.firstIndex(of: UInt8(ascii: " ")) ?? content.endIndex
        let name = String(decoding: content[..<space], as: UTF8.self)
        let encoded = space == content.endIndex ? "" : String(decoding: content[(space + 1)...], as: UTF8.self)
        guard isValidKeyName(name) else {
            throw LedgerError(
                .malformedNote,
                "note line \(number): expected a key name without spaces or '+', found \(Checkpoint.quote(name))"
            )
        }
        guard !encoded.isEmpty, let raw = Base64.decode(encoded), raw.count >= 5 else {
            throw LedgerError(
                .malformedNote,
                "note line \(number): expected base64 of a key ID and a signature after \(Checkpoint.quote(name)), found \(Checkpoint.quote(encoded))"
            )
        }
        let keyID = raw[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return Signature(name: name, keyID: keyID, signature: Array(raw[4...]))
    }
}

/// Whether `name` can name a note key: non-empty, with no Unicode white space and no '+'
/// (the rule of golang.org/x/mod/sumdb/note).
func isValidKeyName(_ name: String) -> Bool {
    !name.isEmpty && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0 == "+" }
}

/// The note key ID: the first four bytes, big-endian, of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
func noteKeyID(name: String, publicKey: [UInt8]) -> UInt32 {
    var hasher = SHA256()
    hasher.update(data: Array(name.utf8))
    hasher.update(data: [UInt8(ascii: "\n"), noteAlgorithmEd25519])
    hasher.update(data: publicKey)
    return hasher.finalize().prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
}

/// The algorithm byte that tags Ed25519 keys in the note formats.
let noteAlgorithmEd25519: UInt8 = 0x01
