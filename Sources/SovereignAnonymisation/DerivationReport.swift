public import Foundation

/// What `sovereign anonymise --report` writes and the control plane records
/// (`POST /v1/datasets/{dataset}/derivations`): which derived dataset a run made, from which source, at which
/// site, the k it was held to, and the run's numbers. Never a key and never a data value.
public struct DerivationReport: Sendable, Hashable, Codable {
    /// The derived dataset made.
    public let dataset: String
    /// The dataset it was made from.
    public let source: String
    /// The site the run took place at (it must lie inside the source's residency).
    public let site: String
    /// Where the pseudonym key is held (the source's `keys.jurisdiction`), when known.
    public let keyJurisdiction: String?
    /// The k the output had to reach: the method's, and the policies' `anonymised.minK` when the derivative
    /// may travel beyond its source's residency.
    public let requiredK: Int
    /// Whether the run reached ``requiredK``.
    public let meetsPolicy: Bool
    /// The run's numbers.
    public let run: AnonymisationReport

    /// Makes a report.
    public init(
        dataset: String,
        source: String,
        site: String,
        keyJurisdiction: String?,
        requiredK: Int,
        run: AnonymisationReport
    ) {
        self.dataset = dataset
        self.source = source
        self.site = site
        self.keyJurisdiction = keyJurisdiction
        self.requiredK = requiredK
        self.meetsPolicy = run.meets(k: requiredK)
        self.run = run
    }

    /// The report as JSON with sorted keys (identical runs, identical bytes).
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data()
    }
}
