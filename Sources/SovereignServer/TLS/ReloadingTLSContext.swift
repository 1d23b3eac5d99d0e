import Foundation
public import NIOSSL
import Synchronization

/// A listener's TLS context that can be replaced while the listener runs: each new connection takes the
/// context current at its accept, so a renewed certificate (or key, or client CA) serves from the next
/// handshake on, and connections already open finish on the one they began with.
///
/// HummingbirdTLS's `TLSChannel` makes its `NIOSSLContext` once, at start; ``ReloadingTLSChannel`` reads
/// this holder instead.
public final class ReloadingTLSContext: Sendable {
    /// The files it reads.
    public let files: TLSFiles
    private let state: Mutex<(context: NIOSSLContext, stamp: [FileStamp?])>

    /// Reads the files and makes the first context.
    ///
    /// - Throws: ``TLSFileError`` naming the file at fault.
    public init(files: TLSFiles) throws {
        self.files = files
        let stamp = Self.stamp(files)
        state = Mutex((try TLSContextLoader.context(for: files), stamp))
    }

    /// The context a new connection uses.
    public var current: NIOSSLContext { state.withLock { $0.context } }

    /// Reads the files again and, if they make a usable context, serves it from the next handshake on.
    /// When they do not (a key renewed before its certificate, say), the context in use stays.
    ///
    /// - Throws: ``TLSFileError`` naming the file at fault; the old context is kept.
    public func reload() throws {
        let stamp = Self.stamp(files)
        let context = try TLSContextLoader.context(for: files)
        state.withLock { $0 = (context, stamp) }
    }

    /// Reloads when any file's modification time, size or inode changed since the last load.
    ///
    /// - Returns: whether it reloaded.
    /// - Throws: ``TLSFileError`` when the changed files cannot be used (they are tried again at the next
    ///   change).
    @discardableResult
    public func reloadIfChanged() throws -> Bool {
        let stamp = Self.stamp(files)
        let changed = state.withLock { state in
            guard state.stamp != stamp else { return false }
            // Remember what was seen, so a bad pair is reported once per change, not once per poll.
            state.stamp = stamp
            return true
        }
        guard changed else { return false }
        let context = try TLSContextLoader.context(for: files)
        state.withLock { $0.context = context }
        return true
    }

    /// What tells one version of a file from the next.
    struct FileStamp: Equatable, Sendable {
        let device: UInt64
        let inode: UInt64
        let size: UInt64
        let modified: Date
    }

    static func stamp(_ files: TLSFiles) -> [FileStamp?] {
        ([files.certificate, files.key] + (files.clientCAFile.map { [$0] } ?? [])).map(stamp(of:))
    }

    static func stamp(of path: String) -> FileStamp? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return FileStamp(
            device: (attributes[.systemNumber] as? NSNumber)?.uint64Value ?? 0,
            inode: (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0,
            size: (attributes[.size] as? NSNumber)?.uint64Value ?? 0,
            modified: attributes[.modificationDate] as? Date ?? .distantPast
        )
    }
}
