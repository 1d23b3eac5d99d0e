import Foundation
import SovereignBase

/// The receiver's files under its root, and every file-system act it performs: the edge where decisions
/// made in ``CheckpointReceiver`` touch the disk.
struct ReceiverPaths: Sendable {
    let root: String
    let checkpoint: String
    let staging: String
    let state: String
    let previous: String

    init(root: String, transferID: String) {
        self.root = root
        checkpoint = root + "/" + CheckpointReceiver.directoryName
        staging = root + "/.checkpoint-incoming-" + transferID
        state = staging + ".state"
        previous = root + "/.checkpoint-previous-" + transferID
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// A commit interrupted between its two renames left the previous checkpoint aside: put it back (the
    /// staging directory is still complete and the state file says so, so the commit can run again). One
    /// interrupted after both renames only has the old checkpoint left to remove.
    func recoverInterruptedCommit() throws(CheckpointError) {
        try createDirectory(root)
        guard exists(previous) else { return }
        if exists(checkpoint) {
            try removeIfPresent(previous)
        } else {
            try move(previous, to: checkpoint)
        }
    }

    /// Syncs every staged file (in `relatives`, checked manifest paths) to disk, before the staging directory
    /// becomes the checkpoint: chunks are written without a sync each, so this is the one sync per file.
    func syncStaged(_ relatives: [String]) throws(CheckpointError) {
        for relative in relatives {
            do throws(FileError) {
                try POSIX.File(staging + "/" + relative, for: .reading).sync()
            } catch {
                throw CheckpointError(
                    .fileSystem,
                    file: relative,
                    expected: "a staged file synced to disk",
                    found: error.reason
                )
            }
        }
    }

    /// Renames the previous checkpoint aside, the staging directory into place, then removes the previous
    /// one and the state file. A failure of the second rename puts the previous checkpoint back.
    func swapIntoPlace() throws(CheckpointError) {
        let hadPrevious = exists(checkpoint)
        if hadPrevious { try move(checkpoint, to: previous) }
        do throws(CheckpointError) {
            try move(staging, to: checkpoint)
        } catch {
            if hadPrevious { try? move(previous, to: checkpoint) }
            throw error
        }
        POSIX.syncDirectory(of: checkpoint)
        try removeIfPresent(previous)
        try removeIfPresent(state)
    }

    func loadState() -> ReceiverState? {
        guard let data = FileManager.default.contents(atPath: state) else { return nil }
        return try? JSONDecoder().decode(ReceiverState.self, from: data)
    }

    /// Writes the state atomically but does not sync it: it only saves work. A state that a machine crash
    /// rolled back costs chunks fetched again; one that survived the crash is read with its boot, so only
    /// the chunks it names as synced are trusted (``ReceiverState/trusted(inBoot:)``), and the commit checks
    /// every file's digest besides.
    func saveState(_ value: ReceiverState) throws(CheckpointError) {
        do {
            try POSIX.writeAtomically(JSONEncoder().encode(value), to: state, durable: false)
        } catch {
            throw CheckpointError(.fileSystem, expected: "a writable state file at \(state)", found: "\(error)")
        }
    }

    /// Writes `bytes` at `offset` of the staging file for `relative` (a checked manifest path), making its
    /// directories, refusing any symbolic link or non-directory on the way (not synced: ``syncStaged(_:)``
    /// syncs each file once, at the commit).
    func write(_ bytes: Data, to relative: String, at offset: Int64, chunk: Int) throws(CheckpointError) {
        let components = try CheckpointPath.components(relative)
        var directory = staging
        for component in components.dropLast() {
            directory += "/" + component
            try requireEntry(directory, is: .typeDirectory, relative: relative, create: true)
        }
        let path = staging + "/" + relative
        try requireEntry(path, is: .typeRegular, relative: relative, create: false)
        do {
            let file = try POSIX.File(path, for: .writing)
            try bytes.withUnsafeBytes { try file.write($0, at: offset) }
        } catch {
            throw CheckpointError(
                .fileSystem,
                file: relative,
                chunk: chunk,
                expected: "a writable staging file",
                found: "\(error)"
            )
        }
    }

    /// Refuses an existing entry at `path` of another type (a symbolic link above all: `lstat` never
    /// follows one); creates a missing directory when asked.
    private func requireEntry(
        _ path: String,
        is type: FileAttributeType,
        relative: String,
        create: Bool
    )
        throws(CheckpointError)
    {
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path) {
            let found = attributes[.type] as? FileAttributeType ?? .typeUnknown
            guard found == type else {
                throw CheckpointError(
                    .invalidPath,
                    file: relative,
                    expected: "\(path) to be \(FileStamp.describe(type))",
                    found: FileStamp.describe(found)
                )
            }
        } else if create {
            try createDirectory(path)
        }
    }

    func createDirectory(_ path: String) throws(CheckpointError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(.fileSystem, expected: "a directory at \(path)", found: "\(error)")
        }
    }

    func removeIfPresent(_ path: String) throws(CheckpointError) {
        guard (try? FileManager.default.attributesOfItem(atPath: path)) != nil else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw CheckpointError(.fileSystem, expected: "\(path) removed", found: "\(error)")
        }
    }

    private func move(_ from: String, to: String) throws(CheckpointError) {
        do {
            try FileManager.default.moveItem(atPath: from, toPath: to)
        } catch {
            throw CheckpointError(.fileSystem, expected: "\(from) renamed to \(to)", found: "\(error)")
        }
    }
}
