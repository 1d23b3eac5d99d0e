import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls the server makes, in one place behind `#if canImport`, named so that they never clash
/// with methods of the same name (an executor's `kill(_:)`, a file handle's `write`).
enum POSIX {
    /// Sends `signal` to a process (`pid` > 0) or a process group (`pid` < 0); 0 on success.
    static func sendSignal(_ signal: Int32, to pid: Int32) -> Int32 {
        kill(pid, signal)
    }

    /// The last call's error number.
    static var errorNumber: Int32 { errno }

    /// Writes a file so that a reader sees all of it or none: a temporary file beside it (named for this
    /// process), every byte written, fsync, then rename over the target.
    ///
    /// - Throws: ``FileWriteError`` naming the path and the system's reason.
    static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        let temporary = path + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard fd >= 0 else { throw FileWriteError(path: temporary, reason: reason()) }
        defer { close(fd) }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        guard written, fsync(fd) == 0 else {
            let why = reason()
            unlink(temporary)
            throw FileWriteError(path: temporary, reason: why)
        }
        guard rename(temporary, path) == 0 else {
            let why = reason()
            unlink(temporary)
            throw FileWriteError(path: path, reason: why)
        }
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}

/// A file the server could not write.
struct FileWriteError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "cannot write \(path): \(reason)" }
}
