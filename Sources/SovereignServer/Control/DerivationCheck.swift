import SovereignAnonymisation
import SovereignModel

/// Whether an anonymisation run's report may be recorded: it names a derived dataset of the fleet and that
/// dataset's source, it ran at a site inside the source's residency (the raw rows never left it), by the
/// method the dataset's spec declares, to the k the method and the policies ask for, under a key held where
/// the source's keys are. A pure function of the report and the fleet: every refusal names the report's
/// field at fault, what was expected and what was found (names and numbers only, never a data value).
struct DerivationCheck {
    let fleet: Fleet

    /// The jurisdiction the run took place in, or why the report is refused.
    ///
    /// - Parameters:
    ///   - dataset: the dataset the request's path names.
    ///   - callerSite: the site a site token acts for (nil for an operator).
    func check(_ report: DerivationReport, dataset: String, callerSite: String?) -> Result<String, ControlError> {
        guard report.dataset == dataset else {
            return refuse("dataset", "expected the dataset the path names (\(dataset)), found \"\(report.dataset)\"")
        }
        guard let derived = fleet.dataset(named: dataset) else {
            return .failure(
                ControlError(.unknownDataset, "no dataset named \"\(dataset)\" in the fleet", field: "dataset")
            )
        }
        guard let derivation = derived.derivedFrom, let source = fleet.dataset(named: derivation.source) else {
            return refuse(
                "dataset",
                "expected a derived dataset (one with spec.derivedFrom), found \(dataset), which is not"
            )
        }
        guard report.source == source.name else {
            return refuse(
                "source",
                "expected \(source.name) (\(dataset)'s spec.derivedFrom.dataset), found \"\(report.source)\""
            )
        }
        if let callerSite, callerSite != source.site {
            let message = "expected the token of \(source.name)'s site (\(source.site)), found one for \(callerSite)"
            return .failure(ControlError(.wrongSite, message, field: "Authorization"))
        }
        if let callerSite, report.site != callerSite {
            return refuse(
                "site",
                "expected the site whose token records the run (\(callerSite)), found \"\(report.site)\""
            )
        }
        return site(report, source: source).flatMap { jurisdiction in
            method(report, derivation.anonymisation, derived: derived, source: source).map { jurisdiction }
        }
    }

    /// The run's site: a site of the fleet inside the source's residency.
    func site(_ report: DerivationReport, source: Dataset) -> Result<String, ControlError> {
        guard let site = fleet.site(named: report.site) else {
            return refuse("site", "expected a site of the fleet, found \"\(report.site)\"")
        }
        guard source.mayBeProcessed(in: site.jurisdiction) else {
            return refuse(
                "site",
                "expected a site inside \(source.name)'s residency (\(source.residency.joined(separator: ", "))), "
                    + "found \(site.name) in \(site.jurisdiction)"
            )
        }
        if let held = source.keysHeldIn, report.keyJurisdiction != held {
            return refuse(
                "keyJurisdiction",
                "expected \(held) (where \(source.name)'s keys are held), found \(report.keyJurisdiction ?? "none")"
            )
        }
        return .success(site.jurisdiction)
    }

    /// The run's method: every column the spec names handled as it says (dropped, pseudonymised, coarsened,
    /// noised, generalised as a quasi-identifier of its kind), the spec's k and ℓ-diversity, reached to the k the
    /// policies ask for, and the report's required k the one the fleet requires.
    func method(
        _ report: DerivationReport,
        _ method: Anonymisation,
        derived: Dataset,
        source: Dataset
    ) -> Result<Void, ControlError> {
        let run = report.run
        let declared = AnonymisationReport.ColumnLists(method).fields
        for (spec, found) in zip(declared, AnonymisationReport.ColumnLists(run).fields) where spec.names != found.names
        {
            return refuse(
                spec.field,
                "expected \(Self.list(spec.names)) (\(derived.name)'s spec), found \(Self.list(found.names))"
            )
        }
        guard run.kRequested == method.k else {
            return refuse("run.kRequested", "expected \(method.k) (\(derived.name)'s spec), found \(run.kRequested)")
        }
        if let refusal = diversity(run, method.diversity, derived: derived) { return .failure(refusal) }
        let required = derived.requiredK(source: source, policies: fleet.policies)
        guard report.requiredK == required else {
            return refuse(
                "requiredK",
                "expected \(required) (the method's k and the policies' minK), found \(report.requiredK)"
            )
        }
        guard run.meets(k: required) else {
            return refuse(
                "run.kAchieved",
                "expected every class to hold at least \(required) rows (the method's k and the policies' minK), "
                    + "found k = \(run.kAchieved) over \(run.rowsOut) rows written"
            )
        }
        if !(method.pseudonymise.isEmpty && method.noise.isEmpty), run.keyID == nil {
            return refuse(
                "run.keyID",
                "expected the id of the pseudonym key (the method pseudonymises or adds noise), found none"
            )
        }
        return .success(())
    }

    /// Why the run's ℓ-diversity is not the spec's, or nil when it is.
    func diversity(_ run: AnonymisationReport, _ declared: Anonymisation.Diversity?, derived: Dataset) -> ControlError?
    {
        let expected = declared.map { "ℓ = \($0.l) on \($0.column)" } ?? "none"
        let found = run.lRequested.map { "ℓ = \($0) on \(run.sensitiveColumn ?? "no column")" } ?? "none"
        guard expected != found else { return nil }
        let field = run.lRequested == declared?.l ? "run.sensitiveColumn" : "run.lRequested"
        return ControlError(
            .derivationRefused,
            "\(field): expected \(expected) (\(derived.name)'s spec), found \(found)",
            field: field
        )
    }

    /// Column names for a message, or `none`.
    static func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }

    private func refuse<T>(_ field: String, _ message: String) -> Result<T, ControlError> {
        .failure(ControlError(.derivationRefused, "\(field): \(message)", field: field))
    }
}
