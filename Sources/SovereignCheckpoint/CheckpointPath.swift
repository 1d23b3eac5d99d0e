import SovereignBase

/// The rules a path inside a checkpoint obeys, checked wherever a name becomes a path: relative, made of
/// non-empty components that are not `.` or `..`, no NUL and no backslash. A path that passes cannot leave
/// the directory it is resolved under (the receiver also refuses symbolic links on the way).
package enum CheckpointPath: Sendable {
    /// The path's components, or the error naming what is wrong with it.
    ///
    /// - Throws: ``CheckpointError`` of kind `invalidPath`.
    package static func components(_ path: String) throws(CheckpointError) -> [Substring] {
        func refuse(_ expected: String) -> CheckpointError {
            CheckpointError(.invalidPath, file: path, expected: expected, found: JSONString.quoted(path))
        }
        guard !path.isEmpty else { throw refuse("a relative path to a file") }
        guard !path.hasPrefix("/") else { throw refuse("a relative path, not an absolute one") }
        guard !path.utf8.contains(0), !path.contains("\\") else { throw refuse("a path without NUL or backslash") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        for part in parts {
            guard !part.isEmpty, part != ".", part != ".." else {
                throw refuse("a path of names without empty, \".\" or \"..\" components")
            }
        }
        return parts
    }

    /// Whether `name` may name one directory entry the receiver makes (a transfer id): letters, digits,
    /// `.`, `_` and `-`, not starting with `.`, at most 128 bytes.
    package static func isSafeName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 128, name.first != "." else { return false }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }
}
