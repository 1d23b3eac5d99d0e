public import ArgumentParser
import Foundation
import SovereignAnonymisation
import SovereignBase
import SovereignModel

/// `sovereign anonymise`: make a derived dataset from its source, inside the source's border, by the method
/// its spec declares; report k achieved, rows suppressed and information lost.
public struct AnonymiseCommand: ParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "anonymise",
        abstract: "Make a derived (anonymised) dataset from its source by the method its Dataset spec declares.",
        discussion: """
            Run it at the source dataset's site: the input is the source's rows (CSV with a header, or gzip \
            CSV), the output the derived dataset's. Memory holds only the quasi-identifier columns (about 8 \
            bytes per row per quasi-identifier); the rest streams. Exits 1 when the output does not reach the \
            k the method and the policies ask for.
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

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    public init() {}

    /// The report as JSON: the run's numbers and what they were held to.
    struct ReportJSON: Encodable {
        let dataset: String
        let source: String
        let keyJurisdiction: String?
        let requiredK: Int
        let meetsPolicy: Bool
        let run: AnonymisationReport
    }

    public func run() throws {
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
        let requiredK = Self.requiredK(derived, source: source, policies: fleet.policies)
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
        let json = ReportJSON(
            dataset: dataset,
            source: derivation.source,
            keyJurisdiction: source?.keysHeldIn,
            requiredK: requiredK,
            meetsPolicy: outcome.meets(k: requiredK),
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
    }

    private func emit(_ json: ReportJSON) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(json)
        if let report { try POSIX.writeAtomically(data + Data("\n".utf8), to: report, durable: false) }
        switch format {
        case .text:
            print("\(json.dataset) from \(json.source) (key held in \(json.keyJurisdiction ?? "an unknown place"))")
            print(json.run.text(), terminator: "")
        case .json:
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// The k the output must reach: the method's, and every policy's `anonymised.minK` when the derived
    /// dataset may be processed beyond its source's residency.
    static func requiredK(_ derived: Dataset, source: Dataset?, policies: [Policy]) -> Int {
        let k = derived.derivedFrom?.anonymisation.k ?? 2
        guard let source, !derived.residencyCountries.isSubset(of: source.residencyCountries) else { return k }
        return policies.compactMap { $0.anonymised?.minK }.reduce(k, max)
    }
}
