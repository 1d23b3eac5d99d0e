import SovereignFederation

/// Where a federated workload's round is, with what that step needs and nothing else.
enum RoundPhase: Sendable {
    /// Not open: waiting for enough live sites (and, since `quorumSince`, one liveness window for the rest).
    case waiting(quorumSince: Double?)
    /// Plain aggregation: sites train and upload; updates fold into the aggregator as they arrive.
    case training(Attendance, RoundAggregator)
    /// Secure aggregation, phase 0: collecting public keys.
    case advertisingKeys(Attendance, SecureSession)
    /// Phase 1: collecting encrypted shares, having published the key directory.
    case sharingKeys(Attendance, SecureSession, SecureAggregation.KeyDirectory)
    /// Phase 2: collecting masked updates, having routed the share bundles.
    case maskedInput(Attendance, SecureSession, [String: SecureAggregation.ShareBundle])
    /// Phase 3: collecting the shares that remove the masks of the survivors' sum.
    case unmasking(Attendance, SecureSession, SecureAggregation.UnmaskRequest)
    /// Every round is done.
    case completed
    /// A round missed its quorum more often than the spec allows; the workload failed.
    case failed

    /// The attendance of an open round.
    var attendance: Attendance? {
        switch self {
        case .training(let a, _), .advertisingKeys(let a, _), .sharingKeys(let a, _, _), .maskedInput(let a, _, _),
            .unmasking(let a, _, _):
            return a
        case .waiting, .completed, .failed:
            return nil
        }
    }

    /// The step sites see in their tasks, while a round is open.
    var step: FederationPhase? {
        switch self {
        case .training: return .train
        case .advertisingKeys: return .advertiseKeys
        case .sharingKeys: return .shareKeys
        case .maskedInput: return .maskedInput
        case .unmasking: return .unmask
        case .waiting, .completed, .failed: return nil
        }
    }

    /// The secure-aggregation session of an open secure round.
    var secure: SecureSession? {
        switch self {
        case .advertisingKeys(_, let s), .sharingKeys(_, let s, _), .maskedInput(_, let s, _), .unmasking(_, let s, _):
            return s
        case .waiting, .training, .completed, .failed:
            return nil
        }
    }

    /// Changes the attendance of an open round; nothing otherwise.
    mutating func updateAttendance(_ change: (inout Attendance) -> Void) {
        switch self {
        case .training(var a, let aggregator):
            change(&a)
            self = .training(a, aggregator)
        case .advertisingKeys(var a, let s):
            change(&a)
            self = .advertisingKeys(a, s)
        case .sharingKeys(var a, let s, let directory):
            change(&a)
            self = .sharingKeys(a, s, directory)
        case .maskedInput(var a, let s, let bundles):
            change(&a)
            self = .maskedInput(a, s, bundles)
        case .unmasking(var a, let s, let request):
            change(&a)
            self = .unmasking(a, s, request)
        case .waiting, .completed, .failed:
            break
        }
    }

    /// Replaces the secure session of an open secure round; nothing otherwise.
    mutating func updateSecure(_ session: SecureSession) {
        switch self {
        case .advertisingKeys(let a, _): self = .advertisingKeys(a, session)
        case .sharingKeys(let a, _, let directory): self = .sharingKeys(a, session, directory)
        case .maskedInput(let a, _, let bundles): self = .maskedInput(a, session, bundles)
        case .unmasking(let a, _, let request): self = .unmasking(a, session, request)
        case .waiting, .training, .completed, .failed: break
        }
    }
}
