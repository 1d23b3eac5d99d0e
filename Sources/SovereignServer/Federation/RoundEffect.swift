/// A progress report for the control plane: entries for the ledger and, when given, the workload's move to
/// a new state or a new detail line.
struct FederationRecord: Sendable, Hashable {
    /// The state the workload moves to, if it moves.
    var state: WorkloadState?
    /// Why it moves, or its new detail line.
    var reason: String?
    /// The ledger entries, in order.
    var entries: [LedgerEvent] = []
}

/// What a ``RoundMachine`` asks its owner to do after a step, in order: the machine decides, the
/// coordinator acts (on disk through ``RoundArchive``, in the ledger through the control plane).
enum RoundEffect: Sendable, Hashable {
    /// Make the folder of an attempt's uploads (`round-N-A`).
    case prepareRound(folder: String)
    /// Drop the folder of an attempt's uploads and any upload still open.
    case discardRound(folder: String)
    /// Store a finished round's global model and server optimizer state, before it is recorded.
    case saveModel(round: Int, model: [UInt8], optimizer: [UInt8])
    /// Record progress in the ledger and the workload's state.
    case record(FederationRecord)
}
