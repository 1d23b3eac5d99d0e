#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension POSIX {
    /// An open file descriptor, closed when the value goes out of scope: positioned reads and writes
    /// (`pread`, `pwrite`) straight between the file and a caller's buffer, with no intermediate copy and no
    /// allocation per call. A symbolic link is never followed at the last component (`O_NOFOLLOW`).
    public struct File: ~Copyable, Sendable {
        /// How a file is opened.
        public enum Access: Sendable {
            /// Read only; the file must exist.
            case reading
            /// Write only, created (mode 0644) when missing, never truncated.
            case writing
        }

        /// The path it was opened at, for errors.
        public let path: String
        private let descriptor: Int32

        /// Opens `path` for `access`.
        ///
        /// - Throws: ``FileError`` naming the path and the system's reason (`ELOOP` for a symbolic link).
        public init(_ path: String, for access: Access) throws(FileError) {
            let flags =
                switch access {
                case .reading: O_RDONLY | O_CLOEXEC | O_NOFOLLOW
                case .writing: O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW
                }
            let descriptor = open(path, flags, 0o644)
            guard descriptor >= 0 else { throw FileError(path: path, operation: "open", reason: POSIX.reason()) }
            self.path = path
            self.descriptor = descriptor
        }

        deinit { close(descriptor) }

        /// Reads into `buffer` from `offset` until it is full or the file ends, retrying on `EINTR`.
        ///
        /// - Returns: The bytes read: fewer than `buffer.count` only at the end of the file.
        /// - Throws: ``FileError`` when a read fails.
        public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(FileError) -> Int {
            guard let base = buffer.baseAddress else { return 0 }
            var done = 0
            while done < buffer.count {
                let n = pread(descriptor, base + done, buffer.count - done, off_t(offset) + off_t(done))
                if n < 0, errno == EINTR { continue }
                guard n >= 0 else { throw FileError(path: path, operation: "read", reason: POSIX.reason()) }
                if n == 0 { break }
                done += n
            }
            return done
        }

        /// Writes every byte of `buffer` at `offset`, retrying on `EINTR` and short writes.
        ///
        /// - Throws: ``FileError`` when a write fails.
        public func write(_ buffer: UnsafeRawBufferPointer, at offset: Int64) throws(FileError) {
            guard let base = buffer.baseAddress else { return }
            var done = 0
            while done < buffer.count {
                let n = pwrite(descriptor, base + done, buffer.count - done, off_t(offset) + off_t(done))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw FileError(path: path, operation: "write", reason: POSIX.reason()) }
                done += n
            }
        }

        /// Flushes the file's bytes to the disk (`fsync`).
        ///
        /// - Throws: ``FileError`` when the sync fails.
        public func sync() throws(FileError) {
            guard fsync(descriptor) == 0 else { throw FileError(path: path, operation: "sync", reason: POSIX.reason()) }
        }
    }
}

/// A file operation that failed: which path, which operation and the system's reason.
public struct FileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path of the file.
    public let path: String
    /// `open`, `read`, `write` or `sync`.
    public let operation: String
    /// The system's reason (`strerror`).
    public let reason: String

    /// `cannot OPERATION PATH: REASON`.
    public var description: String { "cannot \(operation) \(path): \(reason)" }
}
