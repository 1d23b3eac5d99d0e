import Foundation
import SovereignBase
import SovereignTesting
import Testing

@testable import SovereignCheckpoint

@Suite struct ManifestTests {
    @Test func packListsEveryFileInCanonicalOrderWithSizeAndDigest() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try CheckpointFiles.write(Array("hello".utf8), "b.txt", under: scratch)
        try CheckpointFiles.write([], "a/empty", under: scratch)
        try CheckpointFiles.write(Array(repeating: 7, count: 300_000), "a/weights.bin", under: scratch)
        let manifest = try CheckpointManifest.pack(directory: scratch)
        #expect(manifest.files.map(\.path) == ["a/empty", "a/weights.bin", "b.txt"])
        #expect(manifest.files.map(\.size) == [0, 300_000, 5])
        // SHA-256("hello") and SHA-256("").
        #expect(manifest.files[2].sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(manifest.files[0].sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(manifest.totalSize == 300_005)
    }

    @Test func canonicalJSONAndDigestAreStableAndIndependentOfInputOrder() throws {
        let a = CheckpointManifest.File(path: "z", size: 1, sha256: String(repeating: "a", count: 64))
        let b = CheckpointManifest.File(path: "m/n", size: 2, sha256: String(repeating: "b", count: 64))
        let one = try CheckpointManifest(files: [a, b])
        let two = try CheckpointManifest(files: [b, a])
        #expect(one.digest == two.digest)
        let expected =
            #"{"files":[{"path":"m/n","sha256":"\#(b.sha256)","size":2},{"path":"z","sha256":"\#(a.sha256)","size":1}],"#
            + #""format":"sovereign-checkpoint/1"}"#
        #expect(String(decoding: one.canonicalJSON, as: UTF8.self) == expected)
        let decoded = try JSONDecoder().decode(CheckpointManifest.self, from: Data(one.canonicalJSON))
        #expect(decoded == one)
    }

    @Test(arguments: [
        ("../etc/passwd", "a path of names without empty, \".\" or \"..\" components"),
        ("a/../../b", "a path of names without empty, \".\" or \"..\" components"),
        ("/etc/passwd", "a relative path, not an absolute one"),
        ("a//b", "a path of names without empty, \".\" or \"..\" components"),
        ("./a", "a path of names without empty, \".\" or \"..\" components"),
        ("", "a relative path to a file"),
        ("a\\..\\b", "a path without NUL or backslash"),
    ])
    func manifestRefusesPathTraversal(path: String, expected: String) throws {
        let json =
            #"{"format":"sovereign-checkpoint/1","files":[{"path":\#(JSONString.quoted(path)),"size":1,"#
            + #""sha256":"\#(String(repeating: "0", count: 64))"}]}"#
        #expect {
            try JSONDecoder().decode(CheckpointManifest.self, from: Data(json.utf8))
        } throws: { error in
            let error = error as? CheckpointError
            return error?.kind == .invalidPath && error?.expected == expected && error?.file == path
        }
    }

    @Test func manifestRefusesDuplicatesAFileInsideAFileAndBadDigests() throws {
        let digest = String(repeating: "0", count: 64)
        let twice = [
            CheckpointManifest.File(path: "a", size: 1, sha256: digest),
            CheckpointManifest.File(path: "a", size: 1, sha256: digest),
        ]
        #expect(throws: CheckpointError.self) { try CheckpointManifest(files: twice) }
        let nested = [
            CheckpointManifest.File(path: "a", size: 1, sha256: digest),
            CheckpointManifest.File(path: "a-b", size: 1, sha256: digest),
            CheckpointManifest.File(path: "a/b", size: 1, sha256: digest),
        ]
        let error = try #require(throws: CheckpointError.self) { try CheckpointManifest(files: nested) }
        #expect(
            error.description == "checkpoint file a/b: expected no file inside another file, found a listed as a file"
        )
        let short = [CheckpointManifest.File(path: "a", size: 1, sha256: "abc")]
        #expect(throws: CheckpointError.self) { try CheckpointManifest(files: short) }
        let negative = [CheckpointManifest.File(path: "a", size: -1, sha256: digest)]
        #expect(throws: CheckpointError.self) { try CheckpointManifest(files: negative) }
    }

    @Test func packRefusesASymbolicLink() throws {
        let scratch = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try CheckpointFiles.write([1, 2, 3], "real", under: scratch)
        try FileManager.default.createSymbolicLink(atPath: scratch + "/escape", withDestinationPath: "/etc/passwd")
        let error = try #require(throws: CheckpointError.self) {
            try CheckpointManifest.pack(directory: scratch)
        }
        #expect(error.kind == .notRegularFile)
        #expect(
            error.description == "checkpoint file escape: expected a regular file or a directory, found a symbolic link"
        )
    }
}
