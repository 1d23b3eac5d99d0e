import Foundation
import SovereignModel
import SovereignPlanner
import SovereignTesting
import Testing

/// Anonymisation as a step in the plan: work that reads a derived dataset names the anonymisation it depends
/// on (at its source's site, inside its source's residency), and waits, taking nothing, until it has run.
struct DerivationStepTests {
    static let training = "eac-icd-coding-3b-train"
    static let derived = "ke-clinical-notes-anonymised"

    static func fleet() throws -> Fleet { try FleetLoader().load(paths: [Fixtures.example("east-africa")]) }

    @Test func workOnADerivedDatasetNamesTheAnonymisationItDependsOn() throws {
        let fleet = try Self.fleet()
        let plan = try #require(Planner(policy: .powerAware).plan(fleet))
        let training = try #require(plan.workloads.first { $0.name == Self.training })
        #expect(training.status == .completed)
        #expect(
            training.after == [
                DerivationStep(dataset: Self.derived, source: "ke-clinical-notes", site: "nairobi-1", residency: ["KE"])
            ]
        )
        // Only work on derived data depends on a step.
        #expect(plan.workloads.filter { !$0.after.isEmpty }.map(\.name) == [Self.training])
        #expect(
            PlanText.render(plan).contains(
                "  after: anonymisation ke-clinical-notes → ke-clinical-notes-anonymised at nairobi-1 (inside KE)"
            )
        )
    }

    @Test func workOnADerivedDatasetNotMadeYetWaitsAndSaysForWhat() throws {
        let fleet = try Self.fleet()
        let plan = try #require(Planner(policy: .powerAware).plan(fleet, awaiting: [Self.derived]))
        let training = try #require(plan.workloads.first { $0.name == Self.training })
        #expect(training.status == .waiting)
        #expect(training.segments.isEmpty && training.events.isEmpty && training.plannedFLOPs == 0)
        #expect(
            training.explanation
                == "\(Self.training): waits for \(Self.derived): anonymisation ke-clinical-notes → \(Self.derived) "
                + "at nairobi-1 (inside KE) has not produced it yet"
        )
        #expect(training.after.map(\.dataset) == [Self.derived])
        // The rest of the fleet is planned as before, and no raw dataset is read outside its residency.
        let others = plan.workloads.filter { $0.name != Self.training }
        #expect(others.allSatisfy { $0.status != .waiting })
        let checker = PlanChecker(fleet: fleet, plan: plan)
        #expect(checker.residencyViolations == [])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(PlanJSON(plan)), as: UTF8.self)
        #expect(json.contains("\"status\":\"waiting\""))
        #expect(json.contains("\"after\":[{\"dataset\":\"\(Self.derived)\""))
    }
}
