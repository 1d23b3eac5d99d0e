/// Who an open round is with and who has answered the phase in progress.
struct Attendance: Sendable, Hashable {
    /// The sites of the round, sorted.
    let roster: [String]
    /// When the phase in progress began (seconds since 1970).
    var phaseStart: Double
    /// The sites expected to answer the phase in progress.
    var expected: Set<String>
    /// The sites that answered it.
    var received: Set<String> = []
    /// The sites this round's global model has gone to (recorded once each).
    var modelSentTo: Set<String> = []

    /// Whether every expected site has answered.
    var isComplete: Bool { expected.isSubset(of: received) }

    /// The attendance of the next phase, which expects `expected` from `now`.
    func next(expecting expected: Set<String>, at now: Double) -> Attendance {
        var next = self
        next.phaseStart = now
        next.expected = expected
        next.received = []
        return next
    }
}
