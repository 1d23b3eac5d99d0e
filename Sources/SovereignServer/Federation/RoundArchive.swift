import Foundation
import SovereignBase
import SovereignFederation

/// The federation's files on disk: one folder per workload (named under the root, which no name can
/// leave), holding each finished round's global model and server optimizer state
/// (`global-N.safetensors`, `optimizer-N.safetensors`) and the folder of the attempt in progress
/// (`round-N-A`) where uploads are assembled.
struct RoundArchive: Sendable {
    /// The folders of every workload.
    let directory: NamedDirectory

    /// An archive under `root`.
    init(root: URL) { directory = NamedDirectory(root: root) }

    /// What a restarted coordinator continues from.
    struct Restored {
        /// The rounds already finished.
        let finished: Int
        /// The model the next round starts from.
        let weights: ModelWeights
        /// The server optimizer's state after the last finished round.
        let optimizer: ServerOptimizerState
    }

    /// The folder of a workload's files.
    ///
    /// - Throws: ``ControlError`` (400) when `workload` is not a name that stays under the root.
    func folder(_ workload: String) throws -> URL {
        try directory.child(workload, field: "workload")
    }

    /// Makes a workload's folder and reads the last finished round from it, if any.
    ///
    /// - Parameter initial: The model before any round, which also gives the shapes to read.
    /// - Throws: when the folder cannot be made or a stored model cannot be read.
    func restore(_ workload: String, initial: ModelWeights) throws -> Restored {
        let folder = try folder(workload)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let done = Self.lastFinishedRound(in: folder) ?? 0
        guard done > 0 else { return Restored(finished: 0, weights: initial, optimizer: ServerOptimizerState()) }
        let model = try SafetensorsFile(path: folder.appendingPathComponent("global-\(done).safetensors").path)
        let weights = try model.modelWeights(matching: initial)
        let optimizerPath = folder.appendingPathComponent("optimizer-\(done).safetensors").path
        guard FileManager.default.fileExists(atPath: optimizerPath) else {
            return Restored(finished: done, weights: weights, optimizer: ServerOptimizerState())
        }
        let optimizer = try ServerOptimizerState(safetensors: SafetensorsFile(path: optimizerPath), matching: weights)
        return Restored(finished: done, weights: weights, optimizer: optimizer)
    }

    /// Stores a finished round's model and optimizer state, each written atomically.
    func save(_ workload: String, round: Int, model: [UInt8], optimizer: [UInt8]) throws {
        let folder = try folder(workload)
        try POSIX.writeAtomically(Data(model), to: folder.appendingPathComponent("global-\(round).safetensors").path)
        try POSIX.writeAtomically(
            Data(optimizer),
            to: folder.appendingPathComponent("optimizer-\(round).safetensors").path
        )
    }

    /// Makes the folder of an attempt's uploads.
    func prepareRound(_ workload: String, folder round: String) throws {
        try FileManager.default.createDirectory(
            at: try folder(workload).appendingPathComponent(round),
            withIntermediateDirectories: true
        )
    }

    /// Removes the folder of an attempt's uploads, if it is there.
    func discardRound(_ workload: String, folder round: String) throws {
        try? FileManager.default.removeItem(at: try folder(workload).appendingPathComponent(round))
    }

    /// Where a site's upload for an attempt is assembled.
    func upload(_ workload: String, folder round: String, site: String) throws -> URL {
        try folder(workload).appendingPathComponent(round).appendingPathComponent("\(site).part")
    }

    /// The last finished round's global model of a workload, if one is stored.
    func lastModel(_ workload: String) throws -> [UInt8]? {
        let folder = try folder(workload)
        guard let last = Self.lastFinishedRound(in: folder) else { return nil }
        return Array(try Data(contentsOf: folder.appendingPathComponent("global-\(last).safetensors")))
    }

    /// The highest round whose global model (`global-N.safetensors`) is in `folder`, if any.
    static func lastFinishedRound(in folder: URL) -> Int? {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.compactMap { name -> Int? in
            guard name.hasPrefix("global-"), name.hasSuffix(".safetensors") else { return nil }
            return Int(name.dropFirst("global-".count).dropLast(".safetensors".count))
        }.max()
    }
}
