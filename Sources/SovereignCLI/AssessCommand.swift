public import ArgumentParser
import Foundation
import SovereignAssessment
import SovereignModel
import SovereignPlanner
import SovereignSimulator

/// `sovereign assess`: the five-layer sovereignty matrix, and what is left when a supplier, an operator or a
/// country is cut off.
public struct AssessCommand: AsyncParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "assess",
        abstract: "Rate each layer of the fleet's sovereignty (compute, data, software, models, operations).",
        discussion: """
            Levels 0-4 follow the EU Cloud Sovereignty Framework's SEAL levels, by the weakest-link rule. \
            --cut runs stress tests: a vendor, a designing or fabricating country, the operators answering to a \
            country, a site or a jurisdiction is taken away, and the planner and simulator run the fleet's \
            workloads again. Several --cut flags: each alone, then all together.
            """
    )

    @Argument(help: "Spec files or directories.")
    public var paths: [String]

    @Option(
        name: .customLong("cut"),
        help: ArgumentHelp(
            "A stress test (repeatable): vendor=NAME, designer=CC, fabricator=CC, operator-jurisdiction=CC, site=NAME or jurisdiction=CC|GROUP.",
            valueName: "kind=value"
        )
    )
    public var cuts: [String] = []

    @Option(help: "What counts as domestic: a country code or a JurisdictionGroup (default: each site's own country).")
    public var home: String?

    @Option(
        name: .customLong("export-control"),
        help: ArgumentHelp(
            "Override an accelerator's export control (repeatable): ID=none or ID=CC:LISTING, e.g. nvidia-a100-80gb=US:EAR ECCN 3A090.a.",
            valueName: "id=control"
        )
    )
    public var exportControls: [String] = []

    @Option(help: "Policy for placement and stress tests: greedy, power-aware, carbon-aware or carbon-elastic.")
    public var policy: String = "power-aware"

    @Option(help: "Seed for forecast errors in stress tests (default: the Scenario's seed).")
    public var seed: UInt64?

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    @Option(help: "Also write a self-contained HTML report (SVG heatmap and stress bars) to this file.")
    public var report: String?

    public init() {}

    public func validate() throws {
        for text in cuts {
            do { _ = try Cut.parse(text) } catch { throw ValidationError(error.description) }
        }
        for text in exportControls { _ = try Self.parseExportControl(text) }
        guard PlanningPolicy.named(policy) != nil else {
            let names = PlanningPolicy.choosable.map(\.name).joined(separator: ", ")
            throw ValidationError("--policy: expected one of \(names), found \"\(policy)\"")
        }
    }

    /// `ID=none` or `ID=CC:LISTING`.
    ///
    /// - Throws: `ValidationError` naming the flag, what was expected and what was found.
    static func parseExportControl(_ text: String) throws -> (id: String, control: ExportControl) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ValidationError(
                "--export-control: expected ID=none or ID=CC:LISTING like nvidia-a100-80gb=US:EAR ECCN 3A090.a, found \"\(text)\""
            )
        }
        let id = String(text[..<equals])
        let value = String(text[text.index(after: equals)...])
        if value == "none" { return (id, .unlisted) }
        guard let colon = value.firstIndex(of: ":") else {
            throw ValidationError(
                "--export-control \(id)=: expected none or CC:LISTING like US:EAR ECCN 3A090.a, found \"\(value)\""
            )
        }
        let country = String(value[..<colon])
        let listing = String(value[value.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        guard country.count == 2, country == country.uppercased(), Country.named(country) != nil, !listing.isEmpty
        else {
            throw ValidationError(
                "--export-control \(id)=: expected CC:LISTING with an ISO 3166-1 alpha-2 code and a listing, found \"\(value)\""
            )
        }
        return (id, .controlled(jurisdiction: country, classification: listing))
    }

    public func run() async throws {
        let fleet = try loadFleetOrExit(paths)
        let cuts = try self.cuts.map { text throws(CutError) in try Cut.parse(text) }
        var problems: [String] = []
        for cut in cuts {
            do { try cut.check(against: fleet) } catch { problems.append(error.description) }
        }
        var overrides: [String: ExportControl] = [:]
        for text in exportControls {
            let (id, control) = try Self.parseExportControl(text)
            if fleet.catalog[id] == nil {
                problems.append(
                    "--export-control \(id)=: expected an accelerator id from the catalog (see `sovereign catalog`), found \"\(id)\""
                )
            }
            overrides[id] = control
        }
        var homeValue = Home.eachSitesCountry
        if let home {
            let isCountry = home.count == 2 && home == home.uppercased() && Country.named(home) != nil
            if isCountry || fleet.group(named: home) != nil {
                homeValue = .jurisdiction(home, countries: fleet.countries(of: home))
            } else {
                let groups = fleet.groups.map(\.name)
                problems.append(
                    "--home: expected a country code like KE or one of this fleet's JurisdictionGroups "
                        + "(\(groups.isEmpty ? "it declares none" : groups.joined(separator: ", "))), found \"\(home)\""
                )
            }
        }
        if !cuts.isEmpty, fleet.scenario == nil {
            problems.append(
                "\(paths.joined(separator: " ")): error: expected a Scenario document to run stress tests over, found none"
            )
        }
        guard problems.isEmpty else {
            for problem in problems { printError("error: \(problem)") }
            throw ExitCode.failure
        }
        let planningPolicy = PlanningPolicy.named(policy)!
        let seed = self.seed ?? fleet.scenario?.seed ?? 1
        if TerminalProgress.isTerminal {
            let simulations =
                cuts.isEmpty ? "" : " and simulating the uncut fleet and \(StressTest.scenarios(cuts).count) cut(s)"
            FileHandle.standardError.write(Data("\rplanning\(simulations)".utf8))
        }
        let assessment = await Assessment.run(
            fleet,
            home: homeValue,
            exportControl: overrides,
            policy: planningPolicy,
            cuts: cuts,
            seed: seed
        )
        let matrix = assessment.matrix
        let stress = assessment.stress
        TerminalProgress.clear()
        if let report {
            let html = AssessmentReport.html(matrix, fleet: fleet, stress: stress)
            do {
                try html.write(toFile: report, atomically: true, encoding: .utf8)
            } catch {
                printError("\(report): error: expected a writable file, found \(error.localizedDescription)")
                throw ExitCode.failure
            }
        }
        switch format {
        case .json: print(try jsonText(AssessmentJSON(matrix, stress: stress)))
        case .text: print(AssessmentText.render(matrix, fleet: fleet, stress: stress))
        }
    }
}
