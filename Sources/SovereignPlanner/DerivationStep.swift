public import SovereignModel

/// An anonymisation a workload depends on: it makes a derived dataset the workload reads, and runs at its
/// source dataset's site, inside the source's residency, before the workload may start.
public struct DerivationStep: Sendable, Hashable {
    /// The derived dataset it makes.
    public let dataset: String
    /// The dataset it is made from.
    public let source: String
    /// Where it runs: the source's site.
    public let site: String
    /// The jurisdictions it may run in: the source's residency, as written.
    public let residency: [String]

    /// Makes a step.
    public init(dataset: String, source: String, site: String, residency: [String]) {
        self.dataset = dataset
        self.source = source
        self.site = site
        self.residency = residency
    }

    /// The anonymisations `w` depends on, one per derived dataset it reads, in the order it names them.
    ///
    /// - Complexity: O(d) dataset lookups for the d datasets `w` reads.
    public static func steps(for w: Workload, in fleet: Fleet) -> [DerivationStep] {
        w.datasets.compactMap { name in
            guard let derived = fleet.dataset(named: name), let derivation = derived.derivedFrom else { return nil }
            let source = fleet.dataset(named: derivation.source)
            return DerivationStep(
                dataset: name,
                source: derivation.source,
                site: source?.site ?? derived.site,
                residency: source?.residency ?? []
            )
        }
    }

    /// `anonymisation ke-notes → ke-notes-anonymised at nairobi-1 (inside KE)`.
    public var summary: String {
        "anonymisation \(source) → \(dataset) at \(site) (inside \(residency.joined(separator: ", ")))"
    }
}
