import Foundation
import HTTPTypes
import Hummingbird
import SovereignAnonymisation

extension API {
    /// Datasets: the anonymisation runs that make derived ones.
    static let datasetRoutes: [APIRoute] = [
        APIRoute(method: .post, path: "/v1/datasets/{dataset}/derivations", role: .operator, site: true) {
            request,
            context,
            api in
            let dataset = try objectName(context, "dataset")
            let report = try strictDecode(DerivationReport.self, from: try await collect(request))
            try checkDerivation(report)
            let recorded = try await api.plane.recordDerivation(report, dataset: dataset, by: api.caller)
            // Work that waited for the dataset is planned by the next pass, which runs at once.
            api.plane.askForPass()
            var response = try json(recorded)
            response.status = .created
            return response
        }
    ]

    /// Most names one list of a derivation report may hold, the longest column name and the longest path (in
    /// Unicode scalars, as JSON Schema counts `maxLength`): every list at its limit still fits in a body.
    static let derivationListLimit = 256
    static let columnNameLimit = 128
    static let pathLimit = 4096

    /// Refuses a derivation report whose names, digests, counts or lists break the limits `openapi.yaml`
    /// states; what the fleet says of it is checked by the control plane.
    static func checkDerivation(_ report: DerivationReport) throws {
        try checkName(report.dataset, field: "dataset")
        try checkName(report.source, field: "source")
        try checkName(report.site, field: "site")
        if let keys = report.keyJurisdiction, keys.utf8.count != 2 || !keys.utf8.allSatisfy({ (65...90).contains($0) })
        {
            throw APIError(
                .badRequest,
                "expected keyJurisdiction to be an ISO 3166-1 alpha-2 code like \"KE\", found \"\(keys.prefix(80))\"",
                field: "keyJurisdiction"
            )
        }
        try checkCount(Int64(report.requiredK), in: 1...Int64(countLimit), field: "requiredK")
        try checkRun(report.run)
    }

    /// The limits on a report's `run`.
    static func checkRun(_ run: AnonymisationReport) throws {
        for (field, digest) in [("run.inputSHA256", run.inputSHA256), ("run.outputSHA256", run.outputSHA256)] {
            try checkHex(digest, digits: 64, field: field, what: "a SHA-256 digest")
        }
        if let keyID = run.keyID {
            guard keyID.hasPrefix("hmac-sha256:") else {
                throw APIError(
                    .badRequest,
                    "expected run.keyID like \"hmac-sha256:\" and 16 hexadecimal digits, found \"\(keyID.prefix(80))\"",
                    field: "run.keyID"
                )
            }
            try checkHex(String(keyID.dropFirst(12)), digits: 16, field: "run.keyID", what: "a key id")
        }
        let counts = [
            ("run.rowsIn", run.rowsIn), ("run.rowsOut", run.rowsOut), ("run.rowsSuppressed", run.rowsSuppressed),
            ("run.classes", run.classes), ("run.kAchieved", run.kAchieved),
        ]
        for (field, count) in counts { try checkCount(Int64(count), in: 0...Int64(countLimit), field: field) }
        try checkCount(Int64(run.kRequested), in: 1...Int64(countLimit), field: "run.kRequested")
        if let l = run.lRequested { try checkCount(Int64(l), in: 1...Int64(countLimit), field: "run.lRequested") }
        try checkFraction(run.ncp, field: "run.ncp")
        try checkLists(run)
    }

    /// The report's lists of columns: at most ``derivationListLimit`` names each, none longer than
    /// ``columnNameLimit`` (the file paths ``pathLimit``), losses between 0 and 1.
    static func checkLists(_ run: AnonymisationReport) throws {
        let lists = [
            ("run.dropped", run.dropped), ("run.pseudonymised", run.pseudonymised), ("run.coarsened", run.coarsened),
            ("run.noised", run.noised), ("run.quasiIdentifiers", run.quasiIdentifiers),
            ("run.ncpByColumn", run.ncpByColumn.map(\.column)),
        ]
        for (field, names) in lists {
            guard names.count <= derivationListLimit else {
                throw APIError(
                    .badRequest,
                    "expected at most \(derivationListLimit) names in \(field), found \(names.count)",
                    field: field
                )
            }
            for (i, name) in names.enumerated() { try checkLength(name, columnNameLimit, field: "\(field)[\(i)]") }
        }
        if let column = run.sensitiveColumn { try checkLength(column, columnNameLimit, field: "run.sensitiveColumn") }
        try checkLength(run.input, pathLimit, field: "run.input")
        try checkLength(run.output, pathLimit, field: "run.output")
        for (i, loss) in run.ncpByColumn.enumerated() {
            try checkFraction(loss.ncp, field: "run.ncpByColumn[\(i)].ncp")
        }
    }

    static func checkLength(_ text: String, _ limit: Int, field: String) throws {
        let length = text.unicodeScalars.count
        guard length <= limit else {
            throw APIError(
                .badRequest,
                "expected \(field) of at most \(limit) characters, found \(length)",
                field: field
            )
        }
    }

    static func checkHex(_ text: String, digits: Int, field: String, what: String) throws {
        let hexDigit: (UInt8) -> Bool = { (48...57).contains($0) || (97...102).contains($0) }
        guard text.utf8.count == digits, text.utf8.allSatisfy(hexDigit) else {
            throw APIError(
                .badRequest,
                "expected \(field) to be \(what) (\(digits) lowercase hexadecimal digits), found \"\(text.prefix(80))\"",
                field: field
            )
        }
    }

    static func checkFraction(_ value: Double, field: String) throws {
        guard value.isFinite, (0...1).contains(value) else {
            throw APIError(.badRequest, "expected \(field) between 0 and 1, found \(value)", field: field)
        }
    }
}
