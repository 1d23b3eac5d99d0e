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

    /// Writes a file so that a reader sees all of it or none: a uniquely named temporary file beside it
    /// (`mkstemp`), every byte written, fsync, rename over the target, then fsync of its directory.
    ///
    /// - Parameters:
    ///   - data: The file's whole contents.
    ///   - path: Where the file goes.
    ///   - mode: The new file's permissions.
    ///   - durable: Whether to fsync the file and its directory (the default). A file that means nothing
    ///     after the machine restarts (a heartbeat, a file synced later as part of a batch) may skip it: readers
    ///     still see all of it or none.
    /// - Throws: ``FileWriteError`` naming the path and the system's reason.
    public static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644, durable: Bool = true) throws
    {
        try writeAtomically(to: path, mode: mode, durable: durable) { sink in
            try data.withUnsafeBytes { try sink($0) }
        }
    }

    /// Seconds since the machine booted, counting time asleep (`CLOCK_BOOTTIME` on Linux): a clock that the
    /// wall clock's corrections never move, shared by every process on the machine.
    public static func bootSeconds() -> Double {
        var time = timespec()
        #if os(Linux)
        clock_gettime(CLOCK_BOOTTIME, &time)
        #else
        clock_gettime(CLOCK_MONOTONIC, &time)
        #endif
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// An identifier of this boot of the machine, the same for every process until it restarts: a file
    /// written without a sync in this boot is still readable (from the page cache or the disk) whatever
    /// happened to the process that wrote it, which a restart of the machine no longer promises. `nil` when
    /// the system does not say (then nothing unsynced may be trusted across a restart of the process).
    public static func bootID() -> String? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else {
            return nil
        }
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
        #elseif canImport(Darwin)
        var size = 0
        guard sysctlbyname("kern.bootsessionuuid", nil, &size, nil, 0) == 0, size > 0 else { return nil }
        var bytes = [CChar](repeating: 0, count: size)
        guard sysctlbyname("kern.bootsessionuuid", &bytes, &size, nil, 0) == 0 else { return nil }
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #else
        return nil
        #endif
    }

    /// Writes a file so that a reader sees all of it or none, from contents produced piece by piece (a
    /// large file need not be in memory at once): a uniquely named temporary file beside it (`mkstemp`),
    /// everything `produce` hands to its sink written, fsync, rename over the target, then fsync of its
    /// directory. On any failure the temporary file is removed and the target left as it was.
    ///
    /// - Parameters:
    ///   - path: Where the file goes.
    ///   - mode: The new file's permissions.
    ///   - durable: Whether to fsync the file and its directory (see the overload taking `Data`).
    ///   - produce: Calls its sink with each piece of the file, in order.
    /// - Throws: ``FileWriteError`` naming the path and the system's reason, or what `produce` throws.
    public static func writeAtomically(
        to path: String,
        mode: mode_t = 0o644,
        durable: Bool = true,
        _ produce: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws {
        var template = Array("\(path).tmp.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { $0.baseAddress.map { mkstemp($0) } ?? -1 }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard fd >= 0 else { throw FileWriteError(path: temporary, reason: reason()) }
        do {
            guard fchmod(fd, mode) == 0 else { throw FileWriteError(path: temporary, reason: reason()) }
            try produce { buffer in
                guard writeAll(buffer, to: fd) else { throw FileWriteError(path: temporary, reason: reason()) }
            }
            guard !durable || fsync(fd) == 0 else { throw FileWriteError(path: temporary, reason: reason()) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard close(fd) == 0, rename(temporary, path) == 0 else {
            let why = reason()
            unlink(temporary)
            throw FileWriteError(path: path, reason: why)
        }
        if durable { syncDirectory(of: path) }
    }

    /// Flushes the directory holding `path`, so that a rename into it survives a crash (best effort).
    public static func syncDirectory(of path: String) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Writes every byte of `buffer` to `fd`, retrying on `EINTR`; `false` on any other failure.
    private static func writeAll(_ buffer: UnsafeRawBufferPointer, to fd: Int32) -> Bool {
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

    static func reason() -> String { String(cString: strerror(errno)) }
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
