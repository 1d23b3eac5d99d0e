import Crypto
import Foundation
import SovereignLedger
import Testing

/// Signed checkpoints: C2SP signed-note with Ed25519, as golang.org/x/mod/sumdb/note writes and reads them.
struct SignedNoteTests {
    /// golang.org/x/mod `sumdb/note/note_test.go` (`TestNewSigner`, `TestSign`, `TestOpen`): a known key
    /// pair, a note Go signed with it, and a second key's signature on the same text.
    enum Go {
        static let privateKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
        static let verifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        static let enochKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
        static let text =
            "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
        static let peterSignature =
            "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        static let enochSignature =
            "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
        static let signedNote = text + "\n" + peterSignature
    }

    static let origin = "sovereign.example/ledger"
    static let signer = NoteSigner(
        name: origin,
        privateKey: try! Curve25519.Signing.PrivateKey(rawRepresentation: SHA256.hash(data: Array("seed".utf8)))
    )
    static let checkpoint = Checkpoint(
        origin: origin,
        size: 1024,
        root: MerkleHash.leaf(Array("root".utf8))
    )

    @Test func signAndVerifyRoundTrip() throws {
        let note = Self.signer.sign(Self.checkpoint)
        #expect(
            note.hasPrefix(
                "sovereign.example/ledger\n1024\n\(Self.checkpoint.root.base64)\n\n— sovereign.example/ledger "
            )
        )
        #expect(note.hasSuffix("\n"))
        #expect(try Self.signer.verifier.verify(note) == Self.checkpoint)
        let fromKey = try NoteVerifier(verifierKey: Self.signer.verifierKey)
        #expect(fromKey.keyID == Self.signer.keyID)
        #expect(try fromKey.verify(note) == Self.checkpoint)
    }

    @Test func keyIDAndVerifierKeyFollowTheNoteFormat() throws {
        let publicKey = Array(Self.signer.privateKey.publicKey.rawRepresentation)
        let digest = Array(SHA256.hash(data: Array(Self.origin.utf8) + [0x0a, 0x01] + publicKey))
        let expectedID = digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(Self.signer.keyID == expectedID)
        let parts = Self.signer.verifierKey.split(separator: "+", maxSplits: 2)
        #expect(parts.count == 3)
        #expect(parts[0] == Self.origin)
        #expect(UInt32(parts[1], radix: 16) == expectedID)
        #expect(parts[1].count == 8)
        #expect(parts[2] == Data([0x01] + publicKey).base64EncodedString())
    }

    @Test func goKnownKeysAreRead() throws {
        let signer = try NoteSigner(privateKeyText: Go.privateKey)
        #expect(signer.name == "PeterNeumann")
        #expect(signer.keyID == 0xc74f_20a3)
        #expect(signer.verifierKey == Go.verifierKey)
        let verifier = try NoteVerifier(verifierKey: Go.verifierKey)
        #expect(verifier.keyID == 0xc74f_20a3)
        #expect(verifier.publicKey.rawRepresentation == signer.privateKey.publicKey.rawRepresentation)
    }

    @Test func noteSignedByGoVerifies() throws {
        let peter = try NoteVerifier(verifierKey: Go.verifierKey)
        #expect(try peter.verifiedBody(of: Go.signedNote) == Go.text)
        // Two signatures: each key finds its own line.
        let both = Go.text + "\n" + Go.peterSignature + Go.enochSignature
        #expect(try peter.verifiedBody(of: both) == Go.text)
        #expect(try NoteVerifier(verifierKey: Go.enochKey).verifiedBody(of: both) == Go.text)
        // A body that is not a checkpoint is refused by verify, after the signature checked out.
        expectLedgerError(.malformedCheckpoint, containing: "expected 3 lines") { _ = try peter.verify(Go.signedNote) }
    }

    #if os(Linux)
    /// Ed25519 signatures are deterministic (RFC 8032), and swift-crypto on Linux signs as Go does, so the
    /// note is byte for byte Go's. (Apple's CryptoKit randomizes Ed25519 signatures, hence Linux only.)
    @Test func signingMatchesGoByteForByte() throws {
        let signer = try NoteSigner(privateKeyText: Go.privateKey)
        #expect(try signer.sign(text: Go.text) == Go.signedNote)
    }
    #endif

    /// Go's `TestNewVerifier`: every proper substring of the key, and every single-byte change, is refused.
    @Test func mangledVerifierKeysAreRefused() {
        let bytes = Array(Go.verifierKey.utf8)
        var accepted: [String] = []
        for start in 0...bytes.count {
            for end in (start + 1)..<(bytes.count + 1) where start != 0 || end != bytes.count {
                let text = String(decoding: bytes[start..<end], as: UTF8.self)
                if (try? NoteVerifier(verifierKey: text)) != nil { accepted.append(text) }
            }
        }
        for index in bytes.indices {
            var changed = bytes
            changed[index] &+= 1
            let text = String(decoding: changed, as: UTF8.self)
            if (try? NoteVerifier(verifierKey: text)) != nil { accepted.append(text) }
        }
        #expect(accepted.count == 0, "\(accepted.count) cases; accepted: \(accepted.prefix(5))")
        // Wrong key length and unknown algorithm, each with a key ID adjusted to match (from Go's test).
        // (Go's lenient base64 reads the first; the strict decoder here already refuses its padding bits.)
        expectLedgerError(.malformedKey, containing: "verifier key") {
            _ = try NoteVerifier(
                verifierKey: "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
            )
        }
        expectLedgerError(.malformedKey, containing: "Ed25519") {
            _ = try NoteVerifier(verifierKey: "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        }
        expectLedgerError(.malformedKey, containing: "expected a 32-byte Ed25519 public key, found 33 bytes") {
            _ = try NoteVerifier(
                verifierKey: "PeterNeumann+c74f20a3+"
                    + Data([0x01] + Array(repeating: 7, count: 33)).base64EncodedString()
            )
        }
        expectLedgerError(.malformedKey, containing: "does not match") {
            _ = try NoteVerifier(verifierKey: "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        }
    }

    @Test func mangledPrivateKeysAreRefused() {
        let bytes = Array(Go.privateKey.utf8)
        var accepted: [String] = []
        for index in bytes.indices {
            var changed = bytes
            changed[index] &+= 1
            let text = String(decoding: changed, as: UTF8.self)
            if (try? NoteSigner(privateKeyText: text)) != nil { accepted.append(text) }
        }
        for end in 0..<bytes.count
        where (try? NoteSigner(privateKeyText: String(decoding: bytes[..<end], as: UTF8.self))) != nil {
            accepted.append(String(decoding: bytes[..<end], as: UTF8.self))
        }
        #expect(accepted.count == 0, "\(accepted.count) cases; accepted: \(accepted.prefix(5))")
    }

    @Test func alteredNotesAreRejected() throws {
        let verifier = Self.signer.verifier
        let note = Self.signer.sign(Self.checkpoint)
        let signatureLine = note.split(separator: "\n").last!

        // The body: another size, same signature.
        let otherSize = note.replacingOccurrences(of: "\n1024\n", with: "\n1025\n")
        expectLedgerError(.invalidSignature, containing: "does not verify") { _ = try verifier.verify(otherSize) }

        // The signature: one character of the base64 changed past the key ID.
        var bytes = Array(note.utf8)
        let signatureStart = bytes.count - signatureLine.utf8.count - 1 + "— \(Self.origin) ".utf8.count
        bytes[signatureStart + 20] =
            bytes[signatureStart + 20] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        expectLedgerError(.invalidSignature, containing: "does not verify") {
            _ = try verifier.verify(String(decoding: bytes, as: UTF8.self))
        }

        // The name on the signature line.
        let renamed = note.replacingOccurrences(of: "— \(Self.origin) ", with: "— someone.else/ledger ")
        expectLedgerError(.unknownKey, containing: "expected a signature by \(Self.origin)+") {
            _ = try verifier.verify(renamed)
        }

        // The key ID: the first base64 characters encode it.
        let encoded = String(signatureLine.split(separator: " ").last!)
        var raw = [UInt8](Data(base64Encoded: encoded)!)
        raw[0] ^= 0xff
        let rekeyed = note.replacingOccurrences(of: encoded, with: Data(raw).base64EncodedString())
        expectLedgerError(.unknownKey, containing: "found signatures by \(Self.origin)+") {
            _ = try verifier.verify(rekeyed)
        }

        // Signed by another key of the same name.
        let impostor = NoteSigner(name: Self.origin, privateKey: Curve25519.Signing.PrivateKey())
        expectLedgerError(.unknownKey, containing: "expected a signature by") {
            _ = try verifier.verify(impostor.sign(Self.checkpoint))
        }
    }

    /// The malformed notes of Go's `TestOpen`, and a few more.
    @Test func malformedNotesAreRejected() {
        let verifier = try! NoteVerifier(verifierKey: Go.verifierKey)
        let text = Go.text
        let signature = Go.peterSignature
        let malformed = [
            text,
            text + "\n",
            text + "\n" + signature.dropLast(),
            "\u{01}" + text + "\n" + signature,
            text + "\n"
                + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
            text + "\n" + signature + "Unexpected line.\n",
            text + "\n"
                + "- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            text + "\n" + "— PeterNeumann x08go\n",
            text + "\n" + "— PeterNeumann not-base64!\n",
            text + "\n" + String(repeating: signature, count: 101),
            text.replacingOccurrences(of: " ", with: "\t") + "\n" + signature,
        ]
        for note in malformed {
            #expect(throws: LedgerError.self, "\(note.debugDescription)") { _ = try verifier.verifiedBody(of: note) }
            do {
                _ = try verifier.verifiedBody(of: note)
            } catch {
                #expect(error.code == .malformedNote, "\(note.debugDescription): \(error)")
            }
        }
    }

    @Test func checkpointBodiesAreParsedStrictly() throws {
        let root = Self.checkpoint.root.base64
        #expect(
            try Checkpoint(parsing: "a\n0\n\(root)\n") == Checkpoint(origin: "a", size: 0, root: Self.checkpoint.root)
        )
        let cases: [(String, String)] = [
            ("a\n1\n\(root)", "end with a newline"),
            ("a\n1\n", "expected 3 lines"),
            ("a\n1\n\(root)\nextension\n", "extension lines"),
            ("\n1\n\(root)\n", "line 1: expected an origin, found an empty line"),
            ("a\n01\n\(root)\n", "line 2"),
            ("a\n-1\n\(root)\n", "line 2"),
            ("a\n+1\n\(root)\n", "line 2"),
            ("a\n 1\n\(root)\n", "line 2"),
            ("a\n99999999999999999999\n\(root)\n", "line 2"),
            ("a\n1\n\(root.dropLast())\n", "line 3"),
            ("a\n1\n\(Self.checkpoint.root.hex)\n", "line 3"),
            ("a\n1\n\(Data(Self.checkpoint.root.bytes.dropLast()).base64EncodedString())\n", "line 3"),
        ]
        for (body, message) in cases {
            expectLedgerError(.malformedCheckpoint, containing: message) { _ = try Checkpoint(parsing: body) }
        }
        #expect(Self.checkpoint.body == "sovereign.example/ledger\n1024\n\(root)\n")
        #expect(try Checkpoint(parsing: Self.checkpoint.body) == Self.checkpoint)
    }

    @Test func treeHashTextForms() throws {
        let hash = MerkleHash.leaf(Array("x".utf8))
        #expect(TreeHash(hex: hash.hex) == hash)
        #expect(TreeHash(hex: hash.hex.uppercased()) == hash)
        #expect(TreeHash(base64: hash.base64) == hash)
        #expect(hash.base64 == Data(hash.bytes).base64EncodedString())
        #expect(hash.description == hash.hex)
        #expect(TreeHash(bytes: hash.bytes) == hash)
        #expect(TreeHash(bytes: hash.bytes.dropLast()) == nil)
        #expect(TreeHash(hex: String(hash.hex.dropLast())) == nil)
        #expect(TreeHash(hex: "g" + hash.hex.dropFirst()) == nil)
        #expect(TreeHash(base64: String(hash.base64.dropLast())) == nil)
        // The last base64 character carries 4 unused bits; only the canonical form (zeros) is accepted.
        var altered = Array(hash.base64.utf8)
        let last = altered.count - 2
        altered[last] = altered[last] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let decodedByFoundation = Data(base64Encoded: String(decoding: altered, as: UTF8.self)).map { Array($0) }
        if decodedByFoundation == hash.bytes {
            #expect(TreeHash(base64: String(decoding: altered, as: UTF8.self)) == nil)
        }
    }

    /// The notes checked again by the Python verifier, which reads the vkey and signature lines itself and
    /// verifies with the `cryptography` package's Ed25519.
    @Test func independentVerifierAgrees() throws {
        let note = Self.signer.sign(Self.checkpoint)
        var batch = IndependentVerifier.Batch()
        let cases: [(vkey: String, note: String, valid: Bool)] = [
            (Self.signer.verifierKey, note, true),
            (Go.verifierKey, Go.signedNote, true),
            (Go.enochKey, Go.text + "\n" + Go.peterSignature + Go.enochSignature, true),
            (Self.signer.verifierKey, note.replacingOccurrences(of: "\n1024\n", with: "\n1025\n"), false),
            (Self.signer.verifierKey, note.replacingOccurrences(of: "— \(Self.origin) ", with: "— other "), false),
            (
                Go.verifierKey, Go.text.replacingOccurrences(of: "problem", with: "Problem") + "\n" + Go.peterSignature,
                false
            ),
            (Go.enochKey, Go.signedNote, false),
        ]
        for item in cases { batch.notes.append(.init(vkey: item.vkey, note: item.note)) }
        let verdicts = try IndependentVerifier.run(batch)
        #expect(verdicts.notes == cases.map(\.valid))
        for item in cases {
            let swift = (try? NoteVerifier(verifierKey: item.vkey).verifiedBody(of: item.note)) != nil
            #expect(swift == item.valid, "\(item.note.debugDescription)")
        }
    }
}
