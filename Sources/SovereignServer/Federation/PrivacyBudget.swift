import SovereignFederation

/// The differential-privacy budget a workload has spent: an RDP accountant stepped once per finished round.
struct PrivacyBudget: Sendable {
    /// The mechanism's settings.
    let privacy: DifferentialPrivacy
    /// The accountant after every round so far.
    private(set) var accountant: RDPAccountant
    /// ε spent after the last round this run finished, once it has finished one.
    private(set) var epsilon: Double?

    /// The budget after `rounds` finished rounds (a restarted server does not know their ε until the next).
    ///
    /// - Throws: ``FederationError`` when the noise multiplier is out of the accountant's domain.
    init(_ privacy: DifferentialPrivacy, rounds: Int) throws {
        self.privacy = privacy
        accountant = try RDPAccountant()
        if rounds > 0 { try accountant.step(noiseMultiplier: privacy.noiseMultiplier, sampleRate: 1, steps: rounds) }
    }

    /// Spends one more round and returns ε after it.
    mutating func spendRound() throws -> Double {
        try accountant.step(noiseMultiplier: privacy.noiseMultiplier, sampleRate: 1, steps: 1)
        let spent = try accountant.privacySpent(delta: privacy.delta).epsilon
        epsilon = spent
        return spent
    }
}
