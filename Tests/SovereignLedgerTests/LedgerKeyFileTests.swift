import Crypto
import Foundation
import SovereignLedger
import Testing

/// The signing key on disk: created 0600, refused when others may read it, refused when malformed.
struct LedgerKeyFileTests {
    /// A fresh directory, removed afterwards.
    static func withDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ledger-keys-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory.path)
    }

    static func permissions(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func keyIsCreatedWithMode0600AndLoadedAgain() throws {
        try Self.withDirectory { directory in
            let path = directory + "/ledger.key"
            let created = try LedgerKeyFile.loadOrCreate(at: path, name: "sovereign.example/ledger")
            #expect(try Self.permissions(path) == 0o600)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.hasPrefix("PRIVATE+KEY+sovereign.example/ledger+\(String(format: "%08x", created.keyID))+"))
            #expect(text.hasSuffix("\n"))
            #expect(text.split(separator: "\n").count == 1)

            let loaded = try LedgerKeyFile.loadOrCreate(at: path, name: "sovereign.example/ledger")
            #expect(loaded.keyID == created.keyID)
            #expect(loaded.verifierKey == created.verifierKey)
            let checkpoint = Checkpoint(origin: "sovereign.example/ledger", size: 1, root: MerkleHash.leaf([1]))
            #expect(try created.verifier.verify(loaded.sign(checkpoint)) == checkpoint)
        }
    }

    @Test func keyReadableByOthersIsRefused() throws {
        try Self.withDirectory { directory in
            let path = directory + "/ledger.key"
            _ = try LedgerKeyFile.loadOrCreate(at: path, name: "ledger")
            for mode in [0o640, 0o604, 0o620, 0o644] {
                #expect(chmod(path, mode_t(mode)) == 0)
                expectLedgerError(
                    .insecureKeyFile,
                    containing: "\(path): private key file has mode 0\(String(mode, radix: 8))"
                ) {
                    _ = try LedgerKeyFile.loadOrCreate(at: path, name: "ledger")
                }
            }
            #expect(chmod(path, 0o400) == 0)
            #expect(try LedgerKeyFile.loadOrCreate(at: path, name: "ledger").name == "ledger")
        }
    }

    @Test func malformedKeyFilesAreRefused() throws {
        try Self.withDirectory { directory in
            let path = directory + "/ledger.key"
            let good = try LedgerKeyFile.loadOrCreate(at: path, name: "ledger")
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let cases: [(String, String)] = [
                ("", "expected PRIVATE+KEY+"),
                ("hello\n", "expected PRIVATE+KEY+"),
                (text.replacingOccurrences(of: "PRIVATE+KEY+", with: "PUBLIC+KEY+"), "expected PRIVATE+KEY+"),
                (text.replacingOccurrences(of: String(format: "%08x", good.keyID), with: "00000000"), "does not match"),
                (String(text.dropLast(3)) + "\n", "base64"),
                (good.verifierKey + "\n", "expected PRIVATE+KEY+"),
            ]
            for (contents, message) in cases {
                try FileManager.default.removeItem(atPath: path)
                #expect(
                    FileManager.default.createFile(
                        atPath: path,
                        contents: Data(contents.utf8),
                        attributes: [.posixPermissions: 0o600]
                    )
                )
                expectLedgerError(.malformedKey, containing: message) {
                    _ = try LedgerKeyFile.loadOrCreate(at: path, name: "ledger")
                }
                expectLedgerError(.malformedKey, containing: path) {
                    _ = try LedgerKeyFile.loadOrCreate(at: path, name: "ledger")
                }
            }
            // A key of another name is not silently used.
            try FileManager.default.removeItem(atPath: path)
            _ = try LedgerKeyFile.loadOrCreate(at: path, name: "ledger")
            expectLedgerError(.malformedKey, containing: "expected a key named \"other\", found one named \"ledger\"") {
                _ = try LedgerKeyFile.loadOrCreate(at: path, name: "other")
            }
            expectLedgerError(.malformedKey, containing: "key name") {
                _ = try LedgerKeyFile.loadOrCreate(at: path, name: "two words")
            }
            // A dangling symbolic link can be neither read nor created through.
            let link = directory + "/link.key"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: directory + "/nowhere/key")
            expectLedgerError(.keyFileIO, containing: "\(link): exists but cannot be opened") {
                _ = try LedgerKeyFile.loadOrCreate(at: link, name: "ledger")
            }
            expectLedgerError(.keyFileIO, containing: "/missing/ledger.key") {
                _ = try LedgerKeyFile.loadOrCreate(at: directory + "/missing/ledger.key", name: "ledger")
            }
        }
    }

    @Test func verifierKeyFileRoundTrip() throws {
        try Self.withDirectory { directory in
            let signer = try LedgerKeyFile.loadOrCreate(at: directory + "/ledger.key", name: "ledger")
            let path = directory + "/ledger.pub"
            try LedgerKeyFile.writeVerifierKey(of: signer, to: path)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == signer.verifierKey + "\n")
            let verifier = try LedgerKeyFile.verifier(fromFile: path)
            #expect(verifier.keyID == signer.keyID)
            #expect(verifier.name == "ledger")
            let publicKey = try LedgerKeyFile.publicKey(from: "  " + signer.verifierKey + "\n")
            #expect(publicKey.rawRepresentation == signer.privateKey.publicKey.rawRepresentation)
            try "ledger+00000000+AAAA\n".write(toFile: path, atomically: false, encoding: .utf8)
            expectLedgerError(.malformedKey, containing: path) { _ = try LedgerKeyFile.verifier(fromFile: path) }
            expectLedgerError(.keyFileIO, containing: "no such file") {
                _ = try LedgerKeyFile.verifier(fromFile: directory + "/none")
            }
        }
    }

    @Test func fingerprintSecretIsCreatedWithMode0600AndNeverQuoted() throws {
        try Self.withDirectory { directory in
            let path = directory + "/state.key.hmac"
            let created = try LedgerKeyFile.loadOrCreateSecret(at: path)
            #expect(created.count == 32)
            #expect(try Self.permissions(path) == 0o600)
            #expect(try LedgerKeyFile.loadOrCreateSecret(at: path) == created)
            #expect(try LedgerKeyFile.loadOrCreateSecret(at: directory + "/other.hmac") != created)
            #expect(chmod(path, 0o644) == 0)
            expectLedgerError(.insecureKeyFile, containing: "\(path): private key file has mode 0644") {
                _ = try LedgerKeyFile.loadOrCreateSecret(at: path)
            }
            // A malformed secret is refused without echoing what the file holds.
            let broken = directory + "/broken.hmac"
            #expect(FileManager.default.createFile(atPath: broken, contents: Data("hunter2-secret\n".utf8)))
            #expect(chmod(broken, 0o600) == 0)
            expectLedgerError(.malformedKey, containing: "expected one line of base64 holding 32 bytes") {
                _ = try LedgerKeyFile.loadOrCreateSecret(at: broken)
            }
            do {
                _ = try LedgerKeyFile.loadOrCreateSecret(at: broken)
            } catch {
                #expect(!"\(error)".contains("hunter2"))
            }
        }
    }
}
