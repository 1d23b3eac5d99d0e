import Yams

/// Derived datasets: `spec.derivedFrom` on a Dataset, `anonymised` on a Policy, and the check that a derived
/// dataset travels beyond its source's residency only as far as the policies let its method go.
extension FleetDecoder {
    /// A `derivedFrom` as written, with the nodes its cross-document checks report at.
    struct DerivedEntry {
        let derivation: Derivation
        let sourceNode: SpecNode
        let kNode: SpecNode
    }

    /// A Policy's `anonymised` rule as written; groups are expanded once every group is known.
    struct AnonymisedEntry {
        let minK: Int
        let mayBeProcessedIn: [String]
    }

    static let anonymiseFields = [
        "drop", "keep", "pseudonymise", "coarsenDates", "noise", "quasiIdentifiers", "k", "lDiversity",
    ]

    /// `derivedFrom: {dataset: NAME, anonymise: {...}}`; `nil` when anything is wrong (each reported).
    func decodeDerivation(_ node: SpecNode) -> DerivedEntry? {
        guard let f = node.fields("derivedFrom", allowed: ["dataset", "anonymise"]) else { return nil }
        let sourceNode = f.required("dataset", "the name of the Dataset it is made from")
        let source = sourceNode?.name()
        guard let methodNode = f.required("anonymise", "the anonymisation that makes it"),
            let m = methodNode.fields("anonymise", allowed: Self.anonymiseFields)
        else { return nil }
        let drop = m["drop"].map { columnNames($0) } ?? []
        let keep = m["keep"].map { columnNames($0) } ?? []
        let pseudonymise = m["pseudonymise"].map { columnNames($0) } ?? []
        let dates = m["coarsenDates"].flatMap { entries($0, what: "date columns") } ?? []
        let coarsen = dates.compactMap { column, value in
            value.choice(Anonymisation.DateGranularity.self).map {
                Anonymisation.DateColumn(column: column, granularity: $0)
            }
        }
        let noisy = m["noise"].flatMap { entries($0, what: "columns and noise scales") } ?? []
        let noise = noisy.compactMap { column, value in
            value.number(in: 0...Double.greatestFiniteMagnitude, expected: "a noise scale of at least 0")
                .map { Anonymisation.NoiseColumn(column: column, scale: $0) }
        }
        let qiNode = m.required("quasiIdentifiers", "a mapping of columns to numeric or categorical")
        let written = qiNode.flatMap { entries($0, what: "columns to numeric or categorical") } ?? []
        let quasi = written.compactMap { column, value in
            value.choice(Anonymisation.QuasiIdentifier.Kind.self).map {
                Anonymisation.QuasiIdentifier(column: column, kind: $0)
            }
        }
        if let qiNode, written.isEmpty, qiNode.node.mapping != nil {
            qiNode.report(.badValue, expected: "at least one quasi-identifier", found: "none")
        }
        let kNode = m.required("k", "the smallest equivalence class, an integer of at least 2")
        let k = kNode?.integer(in: 2...1_000_000, expected: "an integer from 2 to 1000000")
        let diversity = m["lDiversity"].flatMap { decodeDiversity($0) }
        guard let source, let sourceNode, let kNode, let k, !quasi.isEmpty, quasi.count == written.count,
            coarsen.count == dates.count, noise.count == noisy.count, m["lDiversity"] == nil || diversity != nil
        else { return nil }
        let method = Anonymisation(
            drop: drop.map(\.0),
            keep: keep.map(\.0),
            pseudonymise: pseudonymise.map(\.0),
            coarsenDates: coarsen,
            noise: noise,
            quasiIdentifiers: quasi,
            k: k,
            diversity: diversity
        )
        guard
            checkColumns(
                drop + keep + pseudonymise + dates + noisy + written,
                kept: Set(keep.map(\.0)),
                diversity: (diversity, m["lDiversity"])
            )
        else { return nil }
        return DerivedEntry(
            derivation: Derivation(source: source, anonymisation: method),
            sourceNode: sourceNode,
            kNode: kNode
        )
    }

    private func decodeDiversity(_ node: SpecNode) -> Anonymisation.Diversity? {
        guard let f = node.fields("lDiversity", allowed: ["column", "l"]) else { return nil }
        let column = f.required("column", "the sensitive column")?.string("a column name")
        let l = f.required("l", "the fewest distinct sensitive values in a class")?
            .integer(in: 2...1_000_000, expected: "an integer from 2 to 1000000")
        guard let column, let l else { return nil }
        return Anonymisation.Diversity(column: column, l: l)
    }

    /// Each column has one method, and the sensitive column is kept as it is.
    private func checkColumns(
        _ named: [(String, SpecNode)],
        kept: Set<String>,
        diversity: (Anonymisation.Diversity?, SpecNode?)
    ) -> Bool {
        var first: [String: SpecNode] = [:]
        var ok = true
        for (column, node) in named {
            if let earlier = first[column] {
                node.report(
                    .badValue,
                    expected: "one method per column (\"\(column)\" is also at \(earlier.location))",
                    found: "\"\(column)\" again"
                )
                ok = false
            }
            first[column] = first[column] ?? node
        }
        if let sensitive = diversity.0, let node = diversity.1, !kept.contains(sensitive.column),
            let other = first[sensitive.column]
        {
            node.report(
                .badValue,
                expected: "a sensitive column the method keeps as it is (\"\(sensitive.column)\" has a method at "
                    + "\(other.location))",
                found: "\"\(sensitive.column)\""
            )
            ok = false
        }
        return ok
    }

    private func columnNames(_ node: SpecNode) -> [(String, SpecNode)] {
        node.strings(of: "column names") ?? []
    }

    /// A mapping's entries in the order written, each value's node under its key.
    private func entries(_ node: SpecNode, what: String) -> [(String, SpecNode)]? {
        guard case .mapping(let mapping) = node.node else {
            node.report(.wrongType, expected: "a mapping of \(what)")
            return nil
        }
        return mapping.compactMap { key, value in
            guard let name = key.scalar?.string, !name.isEmpty else {
                node.report(.wrongType, expected: "column names as keys")
                return nil
            }
            return (name, node.child(value, key: name))
        }
    }

    /// A Policy's `anonymised: {minK, mayBeProcessedIn}`.
    func decodeAnonymisedRule(_ node: SpecNode) -> AnonymisedEntry? {
        guard let f = node.fields("anonymised", allowed: ["minK", "mayBeProcessedIn"]) else { return nil }
        let minK = f.required("minK", "the smallest k a method must reach")?
            .integer(in: 2...1_000_000, expected: "an integer from 2 to 1000000")
        let places = f.required("mayBeProcessedIn", "a list of jurisdictions")
            .flatMap { jurisdictions($0, what: "jurisdictions") }
        guard let minK, let places else { return nil }
        return AnonymisedEntry(minK: minK, mayBeProcessedIn: places.map(\.0))
    }
}

extension FleetDecoder {
    /// Each derived dataset names a raw dataset, and travels beyond that one's residency only to countries
    /// every policy's `anonymised` rule allows, with a method reaching every rule's `minK`.
    func checkDerivations(_ built: [Dataset], policies: [Policy]) {
        let byName = Dictionary(built.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for declared in datasets {
            guard let entry = declared.value.derived else { continue }
            let sourceName = entry.derivation.source
            guard let source = byName[sourceName] else {
                if !datasets.contains(where: { $0.name == sourceName }) {
                    entry.sourceNode.reportUnknown("the name of a Dataset", among: datasets.map(\.name))
                }
                continue
            }
            if let grandparent = source.derivedFrom?.source {
                entry.sourceNode.report(
                    .badValue,
                    expected: "a raw Dataset (one not itself derived)",
                    found: "\"\(sourceName)\", derived from \"\(grandparent)\""
                )
                continue
            }
            guard let derived = byName[declared.name], let residencyNode = declared.value.residencyNode else {
                continue
            }
            checkWidening(derived, from: source, entry: entry, residencyNode: residencyNode, policies: policies)
        }
    }

    /// The residency check of one derived dataset.
    private func checkWidening(
        _ derived: Dataset,
        from source: Dataset,
        entry: DerivedEntry,
        residencyNode: SpecNode,
        policies: [Policy]
    ) {
        let extra = derived.residencyCountries.subtracting(source.residencyCountries)
        guard !extra.isEmpty else { return }
        let sourceResidency = "[\(source.residency.joined(separator: ", "))]"
        let found =
            "[\(derived.residency.joined(separator: ", "))], which adds \(extra.sorted().joined(separator: ", "))"
        let rules = policies.compactMap { policy in policy.anonymised.map { (policy.name, $0) } }
        guard !rules.isEmpty else {
            residencyNode.report(
                .residency,
                expected: "a residency inside its source \"\(source.name)\"'s \(sourceResidency) (no Policy says "
                    + "where anonymised data may be processed: anonymised.mayBeProcessedIn)",
                found: found
            )
            return
        }
        for (name, rule) in rules {
            let outside = extra.subtracting(rule.countries)
            if !outside.isEmpty {
                residencyNode.report(
                    .residency,
                    expected: "a residency inside its source's \(sourceResidency) and policy \"\(name)\"'s "
                        + "anonymised.mayBeProcessedIn [\(rule.mayBeProcessedIn.joined(separator: ", "))]",
                    found: "[\(derived.residency.joined(separator: ", "))], which adds "
                        + outside.sorted().joined(separator: ", ")
                )
            }
            if let k = derived.derivedFrom?.anonymisation.k, k < rule.minK {
                entry.kNode.report(
                    .residency,
                    expected: "k of at least \(rule.minK) (policy \"\(name)\": anonymised.minK) for a residency "
                        + "wider than its source's \(sourceResidency)",
                    found: "\(k)"
                )
            }
        }
    }
}
