public import SovereignAnonymisation
import SovereignLedger

extension ControlPlane {
    /// An anonymisation run as recorded: its ledger entry, and where it ran.
    public struct RecordedDerivation: Sendable, Hashable, Codable {
        /// The derived dataset it made.
        public let dataset: String
        /// The dataset it was made from.
        public let source: String
        /// The site it ran at, and that site's jurisdiction.
        public let site: String
        public let jurisdiction: String
        /// The sequence of its `dataset.derived` ledger entry, which work reading the dataset names.
        public let entry: Int
    }

    /// Records an anonymisation run that made the derived dataset `dataset` (checked by ``DerivationCheck``):
    /// from the next pass on, work that waited for the dataset may be placed.
    ///
    /// - Parameters:
    ///   - report: the run's report, as `sovereign anonymise --report` writes it.
    ///   - dataset: the dataset the request names.
    ///   - actor: who records it; a site token may record only runs of datasets made from its site's data.
    /// - Returns: The recorded run and its ledger entry.
    /// - Throws: ``ControlError`` naming the report's field at fault; ``StoreError`` when the store fails.
    public func recordDerivation(
        _ report: DerivationReport,
        dataset: String,
        by actor: Requester
    ) throws -> RecordedDerivation {
        let check = DerivationCheck(fleet: fleet).check(report, dataset: dataset, callerSite: actor.site)
        let jurisdiction = try check.get()
        var change = StateChange()
        change.ledger.append(.derived(.init(report: report, jurisdiction: jurisdiction, by: actor.identity)))
        // An insert any replica may make, as a submission is (it changes no record a pass writes).
        let committed = try commit(change, fenced: false)
        return RecordedDerivation(
            dataset: report.dataset,
            source: report.source,
            site: report.site,
            jurisdiction: jurisdiction,
            entry: committed.entries.first?.sequence ?? tree.size - 1
        )
    }
}
