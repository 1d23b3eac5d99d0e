public import SovereignAnonymisation
public import SovereignLedger

// The value of an anonymisation run the control plane records, and its fields.
extension LedgerEvent {
    /// An anonymisation run that made a derived dataset: where it ran, from what and to what (digests only),
    /// by which method and parameters, what it achieved, and which key (its id and where it is held, never the
    /// key itself and never a data value).
    public struct DerivationRun: Sendable, Hashable {
        /// The run as its report states it (checked against the fleet before it is recorded).
        public let report: DerivationReport
        /// The jurisdiction of the site it ran at.
        public let jurisdiction: String
        /// Who recorded it: a token's fingerprint.
        public let by: String

        /// Makes a run to record.
        public init(report: DerivationReport, jurisdiction: String, by: String) {
            self.report = report
            self.jurisdiction = jurisdiction
            self.by = by
        }

        var fields: [String: JSONValue] {
            let run = report.run
            var fields: [String: JSONValue] = [
                "dataset": .string(report.dataset), "source": .string(report.source), "site": .string(report.site),
                "jurisdiction": .string(jurisdiction), "inputSHA256": .string(run.inputSHA256),
                "outputSHA256": .string(run.outputSHA256), "method": .object(method),
                "kRequired": .integer(report.requiredK), "kAchieved": .integer(run.kAchieved),
                "rowsIn": .integer(run.rowsIn), "rowsOut": .integer(run.rowsOut),
                "rowsSuppressed": .integer(run.rowsSuppressed), "classes": .integer(run.classes),
                "ncp": .number(run.ncp), "by": .string(by),
            ]
            if let keyID = run.keyID { fields["keyID"] = .string(keyID) }
            if let keys = report.keyJurisdiction { fields["keyJurisdiction"] = .string(keys) }
            return fields
        }

        /// The method and its parameters, as the run applied them.
        var method: [String: JSONValue] {
            let run = report.run
            var method: [String: JSONValue] = [
                "quasiIdentifiers": .strings(run.quasiIdentifiers), "k": .integer(run.kRequested),
                "dropped": .strings(run.dropped), "pseudonymised": .strings(run.pseudonymised),
                "coarsened": .strings(run.coarsened), "noised": .strings(run.noised),
                "noiseSeed": .string(String(run.noiseSeed)),
            ]
            if let l = run.lRequested, let column = run.sensitiveColumn {
                method["lDiversity"] = .object(["column": .string(column), "l": .integer(l)])
            }
            return method
        }
    }
}

extension LedgerEvent {
    /// The derived dataset a `dataset.derived` entry records a run of (`nil` for every other entry): what a store
    /// indexes the run by, in the transaction that appends the entry.
    public var derivedDataset: String? {
        guard case .derived(let run) = self else { return nil }
        return run.report.dataset
    }
}
