public import ArgumentParser
import Foundation
import SovereignAnonymisation
import SovereignBase
import SovereignModel

/// `sovereign anonymise`: make a derived dataset from its source, inside the source's border, by the method
/// its spec declares; report k achieved, rows suppressed and information lost.
public struct AnonymiseCommand: AsyncParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "anonymise",
        abstract: "Make a derived (anonymised) dataset from its source by the method its Dataset spec declares.",
        discussion: """
            Run it at the source dataset's site: the input is the source's rows (CSV with a header, or gzip \
            CSV), the output the derived dataset's. Memory holds only the quasi-identifier columns (about 8 \
            bytes per row per quasi-identifier); the rest streams. Exits 1 when the output does not reach the \
            k the method and the policies ask for. With --control-plane, a run that reaches it is recorded \
            there (POST /v1/datasets/DERIVED/derivations, with an operator's or the source site's token): \
            work that reads the derived dataset waits until then.
            """
    )

    @Argument(help: "Spec files or directories.")
    public var paths: [String]

    @Option(help: "The derived Dataset to make (one with spec.derivedFrom).")
    public var dataset: String

    @Option(help: "The source's rows: CSV with a header row, plain or gzip.")
    public var input: String

    @Option(help: "Where the derived rows go (CSV).")
    public var output: String

    @Option(help: "Also write the report as JSON to this file.")
    public var report: String?

    @Option(help: "The pseudonym key: a file of at least 16 bytes, or of 32+ hex digits (needed to pseudonymise).")
    public var keyFile: String?

    @Option(help: "The seed of the numeric noise.")
    public var seed: UInt64 = 0

    @Option(help: "The site this run takes place at (default: the source dataset's); the report names it.")
    public var site: String?

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    @Option(help: "Record the run at this control plane, like https://sovereign.example:8443.")
    public var controlPlane: String?

    @OptionGroup(title: "Control plane token")
    var token: SiteTokenOptions

    @OptionGroup(title: "TLS")
    var tls: ClientTLSOptions

    public init() {}

    public func run() async throws {
        let fleet = try loadFleetOrExit(paths)
        guard let derived = fleet.dataset(named: dataset), let derivation = derived.derivedFrom else {
            let derivedNames = fleet.datasets.filter { $0.derivedFrom != nil }.map(\.name)
            printError(
                "--dataset: expected the name of a derived Dataset (one with spec.derivedFrom: "
                    + "\(derivedNames.isEmpty ? "none declared" : derivedNames.joined(separator: ", "))), "
                    + "found \(String(reflecting: dataset))"
            )
            throw ExitCode.failure
        }
        let source = fleet.dataset(named: derivation.source)
        let runSite = site ?? source?.site ?? derived.site
        if let refusal = Self.siteRefusal(runSite, source: source, in: fleet) {
            printError("--site: \(refusal)")
            throw ExitCode.failure
        }
        let requiredK = derived.requiredK(source: source, policies: fleet.policies)
        let outcome: AnonymisationReport
        do {
            let key = try keyFile.map { (path) throws(AnonymisationError) in try PseudonymKey(contentsOf: path) }
            // A derivative allowed further than its source carries only the columns its method names.
            let widens = !derived.residencyCountries.isSubset(of: source?.residencyCountries ?? [])
            outcome = try Anonymiser(
                method: derivation.anonymisation,
                key: key,
                noiseSeed: seed,
                namesEveryColumn: widens
            )
            .run(input: input, output: output)
        } catch {
            printError(error.description)
            throw ExitCode.failure
        }
        let json = DerivationReport(
            dataset: dataset,
            source: derivation.source,
            site: runSite,
            keyJurisdiction: source?.keysHeldIn,
            requiredK: requiredK,
            run: outcome
        )
        try emit(json)
        guard json.meetsPolicy else {
            printError(
                "\(output): expected every class to hold at least \(requiredK) rows, found k = \(outcome.kAchieved) "
                    + "(\(outcome.rowsOut) rows written); do not release it"
            )
            throw ExitCode.failure
        }
        if let controlPlane { try await record(json, at: controlPlane) }
    }

    private func emit(_ json: DerivationReport) throws {
        let data = json.json()
        if let report { try POSIX.writeAtomically(data + Data("\n".utf8), to: report, durable: false) }
        switch format {
        case .text:
            print("\(json.dataset) from \(json.source) (key held in \(json.keyJurisdiction ?? "an unknown place"))")
            print(json.run.text(), terminator: "")
        case .json:
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// Why an anonymisation may not run at `site`, or `nil` when it may: a site of the fleet inside the source's
    /// residency (the raw rows never leave it).
    static func siteRefusal(_ site: String, source: Dataset?, in fleet: Fleet) -> String? {
        guard let found = fleet.site(named: site) else {
            return "expected a site of the fleet, found \"\(site)\""
        }
        guard let source, !source.mayBeProcessed(in: found.jurisdiction) else { return nil }
        return "expected a site inside \(source.name)'s residency (\(source.residency.joined(separator: ", "))), "
            + "found \(site) in \(found.jurisdiction)"
    }
}
