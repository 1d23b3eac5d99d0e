public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls Sovereign makes, in one place behind `#if canImport`, named so that they never clash
/// with methods of the same name (an executor's `kill(_:)`, a file handle's `write`).
public enum POSIX: Sendable {
    /// Sends `signal` to a process (`pid` > 0) or a process group (`pid` < 0).
    ///
    /// - Returns: 0 on success, -1 on failure (then ``errorNumber`` says why).
    public static func sendSignal(_ signal: Int32, to pid: Int32) -> Int32 {
        kill(pid, signal)
    }

    /// The last call's error number.
    public static var errorNumber: Int32 { errno }

    /// Writes a file so that a reader sees all of it or none: a temporary file beside it (named for this
    /// process), every byte written, fsync, then rename over the target.
    ///
    /// - Parameters:
    ///   - data: The file's whole contents.
    ///   - path: Where the file goes.
    ///   - mode: The new file's permissions.
    /// - Throws: ``FileWriteError`` naming the path and the system's reason.
    public static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        let temporary = path + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard fd >= 0 else { throw FileWriteError(path: temporary, reason: reason()) }
        defer { close(fd) }
        guard writeAll(data, to: fd), fsync(fd) == 0 else {
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

    /// Writes every byte of `data` to `fd`, retrying on `EINTR`; `false` on any other failure.
    private static func writeAll(_ data: Data, to fd: Int32) -> Bool {
        data.withUnsafeBytes { buffer -> Bool in
            guard let base = buffer.baseAddress else { return true }
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, base + offset, buffer.count - offset)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}

/// A file that could not be written: which path and the system's reason.
public struct FileWriteError: Error, Sendable, CustomStringConvertible {
    /// The path that failed (the temporary file beside the target when the write itself failed).
    public let path: String
    /// The system's reason (`strerror`).
    public let reason: String
    /// `cannot write PATH: REASON`.
    public var description: String { "cannot write \(path): \(reason)" }
}
