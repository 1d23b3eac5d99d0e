import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension POSIX {
    /// Why a small key file could not be read as asked.
    public enum KeyFileError: Error, Sendable, Equatable {
        /// `what` failed (`cannot open the file`, `cannot read the file`, …), for the system's `reason`.
        case io(what: String, reason: String)
        /// The file is not a regular file.
        case notRegular
        /// Group or others have some permission on the file: its permission bits.
        case exposed(permissions: UInt32)
        /// The file is longer than the limit.
        case tooLarge(limit: Int)
    }

    /// The bytes of the small key file at `path`, or `nil` when there is none. With `ownerOnly` (a secret), a
    /// file that is not regular, or that group or others have any permission on, is refused; the check is made
    /// on the open descriptor, so the file checked is the file read. The one way Sovereign reads a key file.
    /// - Throws: ``KeyFileError``.
    public static func readKeyFile(
        at path: String,
        ownerOnly: Bool,
        limit: Int = 64 * 1024
    ) throws(KeyFileError)
        -> [UInt8]?
    {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw .io(what: "cannot open the file", reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw .io(what: "cannot read the file's status", reason: String(cString: strerror(errno)))
        }
        let mode = UInt32(status.st_mode)
        if ownerOnly {
            guard mode & UInt32(S_IFMT) == UInt32(S_IFREG) else { throw .notRegular }
            guard mode & 0o077 == 0 else { throw .exposed(permissions: mode & 0o777) }
        }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(what: "cannot read the file", reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            contents.append(contentsOf: chunk[0..<count])
            guard contents.count <= limit else { throw .tooLarge(limit: limit) }
        }
        return contents
    }
}
