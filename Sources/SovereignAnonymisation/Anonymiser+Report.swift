import SovereignModel

extension Anonymiser {
    /// The report of a finished run.
    func report(
        input: String,
        output: String,
        digests: (input: String, output: String),
        rowsIn: Int,
        rowsOut: Int,
        generalisation: Generalisation
    ) -> AnonymisationReport {
        let columns = method.quasiIdentifiers
        // A suppressed row loses everything: it counts 1 on every quasi-identifier.
        let suppressed = rowsIn - rowsOut
        let perColumn = zip(columns, generalisation.penalties).map { qi, penalty in
            AnonymisationReport.ColumnLoss(
                column: qi.column,
                ncp: rounded(rowsIn > 0 ? (penalty + Double(suppressed)) / Double(rowsIn) : 0)
            )
        }
        let total = perColumn.isEmpty ? 0 : perColumn.map(\.ncp).reduce(0, +) / Double(perColumn.count)
        let lists = AnonymisationReport.ColumnLists(method)
        return AnonymisationReport(
            input: input,
            output: output,
            inputSHA256: digests.input,
            outputSHA256: digests.output,
            rowsIn: rowsIn,
            rowsOut: rowsOut,
            rowsSuppressed: suppressed,
            classes: generalisation.sizes.count,
            kRequested: method.k,
            kAchieved: generalisation.sizes.min() ?? 0,
            lRequested: method.diversity?.l,
            sensitiveColumn: method.diversity?.column,
            ncp: rounded(total),
            ncpByColumn: perColumn,
            dropped: lists.dropped,
            pseudonymised: lists.pseudonymised,
            coarsened: lists.coarsened,
            noised: lists.noised,
            quasiIdentifiers: lists.quasiIdentifiers,
            keyID: method.pseudonymise.isEmpty && method.noise.isEmpty ? nil : key?.id,
            noiseSeed: noiseSeed
        )
    }

    private func rounded(_ value: Double) -> Double { (value * 1e6).rounded() / 1e6 }
}
