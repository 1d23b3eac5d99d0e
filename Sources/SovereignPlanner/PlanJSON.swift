import SovereignBase
import SovereignModel

/// The plan as `sovereign plan --format json` writes it, for scripts: the names are a contract, times are
/// ISO 8601 UTC and work is in exaFLOP.
public struct PlanJSON: Sendable, Encodable {
    struct SegmentJSON: Sendable, Encodable {
        let site: String
        let pool: String
        let accelerators: Int
        let start: String
        let end: String
        /// The dataset a federated participant trains there; left out for other work.
        let participant: String?
    }

    /// One federated round: when it opens and closes, who trains, who sits it out.
    struct RoundJSON: Sendable, Encodable {
        struct MemberJSON: Sendable, Encodable {
            let site: String
            let dataset: String
            let exaflop: Double
            let uploadSeconds: Double
        }

        let round: Int
        let open: String
        let close: String
        let updateBytes: Double
        let roster: [MemberJSON]
        let absent: [String]
    }

    struct EventJSON: Sendable, Encodable {
        let kind: String
        let time: String
        let site: String
        let detail: String
    }

    /// An anonymisation the workload waits for: where it runs and inside which residency.
    struct StepJSON: Sendable, Encodable {
        let dataset: String
        let source: String
        let site: String
        let residency: [String]
    }

    struct WorkloadJSON: Sendable, Encodable {
        let name: String
        let status: String
        let precision: String?
        let requiredExaflop: Double?
        let plannedExaflop: Double
        let finish: String?
        let segments: [SegmentJSON]
        let events: [EventJSON]
        let explanation: String?
        /// Left out when the workload reads no derived dataset.
        let after: [StepJSON]?
        /// A federated workload's rounds; left out for other work.
        let rounds: [RoundJSON]?
    }

    let policy: String
    let workloads: [WorkloadJSON]
    /// How far the plan is from its LP bound, when asked for (`plan --bound`); left out otherwise.
    let bound: BoundGap?

    /// The JSON form of `plan`, with its distance from the bound when there is one.
    public init(_ plan: Plan, bound: BoundGap? = nil) {
        self.bound = bound
        let grid = plan.grid
        func iso(_ step: Int) -> String { ISO8601.format(epochSeconds: grid.start + Double(step) * grid.step) }
        policy = plan.policy
        workloads = plan.workloads.map { w in
            WorkloadJSON(
                name: w.name,
                status: w.status.rawValue,
                precision: w.precision?.rawValue,
                requiredExaflop: w.requiredFLOPs.map { $0 / 1e18 },
                plannedExaflop: w.plannedFLOPs / 1e18,
                finish: w.finishStep.map(iso),
                segments: w.segments.map {
                    SegmentJSON(
                        site: $0.site,
                        pool: $0.pool,
                        accelerators: $0.accelerators,
                        start: iso($0.start),
                        end: iso($0.end),
                        participant: $0.participant
                    )
                },
                events: w.events.map {
                    EventJSON(kind: $0.kind.rawValue, time: iso($0.step), site: $0.site, detail: $0.detail)
                },
                explanation: w.explanation,
                after: w.after.isEmpty
                    ? nil
                    : w.after.map {
                        StepJSON(dataset: $0.dataset, source: $0.source, site: $0.site, residency: $0.residency)
                    },
                rounds: w.rounds.isEmpty ? nil : w.rounds.map { Self.round($0, iso: iso) }
            )
        }
    }

    /// One round's JSON form, times through `iso`.
    static func round(_ r: PlannedRound, iso: (Int) -> String) -> RoundJSON {
        RoundJSON(
            round: r.number,
            open: iso(r.open),
            close: iso(r.close),
            updateBytes: r.update.bytes,
            roster: r.roster.map {
                RoundJSON.MemberJSON(
                    site: $0.site,
                    dataset: $0.dataset,
                    exaflop: $0.flops / 1e18,
                    uploadSeconds: $0.uploadSeconds
                )
            },
            absent: r.absent
        )
    }
}
