import Foundation
import SovereignModel

/// One participant of a federated workload as the round planner sees it: what it trains, where it may, and
/// how long the global model and its update take over the link to the coordinator.
struct RoundParticipant {
    let participant: FederationParticipant
    /// The workload reading only this participant's dataset (what the filters and the walk see).
    let workload: Workload
    let ranked: [Planner.Ranked]
    /// FLOPs of its share of one round: the round's work split by dataset size.
    let share: Double
    /// Seconds the global model takes to reach it, and its update to reach the coordinator.
    let download: Double
    let upload: Double
    /// Why it can never take part (no pool, no link), or `nil`.
    let excluded: String?
}

/// What one round attempt planned: the roster's walks, or the sites that could not train in time.
struct RoundAttempt {
    var roster: [(member: PlannedRound.Member, walk: Walk)] = []
    var absent: [String] = []
}

extension Planner {
    /// Plans a federated workload round by round, as the coordinator runs it: each round opens once at least
    /// the quorum (`minSites`) of its participants can train their share at home and send the update within the
    /// round timeout; each participant's training is a walk on the pools at its dataset's site (so it never
    /// leaves its residency), starting when the global model has reached it; the round closes when the last
    /// update reaches the coordinator, and the next opens then. A round short of its quorum waits a step.
    ///
    /// Round training is not shifted in time (a round is synchronous: its timeout bounds it, not a deadline),
    /// and aggregation takes no planned accelerator time (a sum over a few updates).
    ///
    /// - Complexity: O(A × P × S) for A round attempts, P participants and S steps a walk scans.
    func placeRounds(_ w: Workload, federation: Federation, state: inout PlanningState) -> WorkloadPlan {
        let grid = state.grid
        let required = PhysicalModel.requiredFLOPs(w, catalog: state.fleet.catalog)
        guard let window = Self.window(w, grid: grid) else {
            return .unplaced(w.name, .notArrived, required: required, "\(w.name): arrives after the scenario ends")
        }
        let participants: [FederationParticipant]
        switch FederationCheck.participants(of: w, in: state.fleet) {
        case .success(let found): participants = found
        case .failure(let refusal):
            return .unplaced(w.name, .unplaceable, required: required, "\(w.name): \(refusal.description)")
        }
        guard let required else {
            return .unplaced(w.name, .unplaceable, required: nil, "\(w.name): no compute given to split into rounds")
        }
        let sites = roundParticipants(w, federation, participants, required: required, state: state)
        let usable = sites.filter { $0.excluded == nil }
        guard usable.count >= federation.minSites else {
            let why = sites.compactMap(\.excluded)
            let explanation =
                "\(w.name): \(usable.count) of \(sites.count) sites can train, short of the quorum of "
                + "\(federation.minSites)" + (why.isEmpty ? "" : ": " + why.joined(separator: "; "))
            return .unplaced(w.name, .unplaceable, required: required, explanation)
        }
        var rounds: [PlannedRound] = []
        var segments: [Segment] = []
        var open = window.lowerBound
        var lead = 0.0
        var waiting: [String] = []
        while rounds.count < federation.rounds, open < grid.count {
            let before = state.mark()
            let attempt = self.attempt(open: open, lead: lead, sites: sites, federation: federation, state: &state)
            guard attempt.roster.count >= federation.minSites else {
                state.rollBack(to: before)
                waiting = attempt.absent
                open += 1
                lead = 0
                continue
            }
            state.keep(before)
            let round = Self.round(rounds.count + 1, open: open, attempt, update: PhysicalModel.updateSize(w), grid)
            rounds.append(round)
            segments += attempt.roster.flatMap { m, walk in
                walk.timeline().segments.map { $0.with(participant: m.dataset) }
            }
            let lastTrained = attempt.roster.compactMap(\.walk.finishStep).max() ?? open + 1
            open = max(lastTrained, Int((round.closeSeconds / grid.step).rounded(.down)))
            lead = max(0, round.closeSeconds - Double(open) * grid.step)
        }
        return Self.roundsPlan(w, federation, rounds, segments, waiting: waiting, required: required, grid: grid)
    }

    /// Each participant with its ranking, its share of a round and its link times, or why it cannot take part.
    func roundParticipants(
        _ w: Workload,
        _ federation: Federation,
        _ participants: [FederationParticipant],
        required: Double,
        state: PlanningState
    ) -> [RoundParticipant] {
        let fleet = state.fleet
        let sizes = participants.map { fleet.dataset(named: $0.dataset)?.size.bytes ?? 0 }
        let total = sizes.reduce(0, +)
        let coordinator = fleet.site(named: federation.coordinator)
        let update = PhysicalModel.updateSize(w)
        return zip(participants, sizes).map { p, size in
            let workload = w.participant(training: p.dataset)
            let (ranked, refusals) = rank(workload, state: state)
            let fraction = total > 0 ? size / total : 1 / Double(participants.count)
            let share = required * fraction / Double(max(1, federation.rounds))
            let down = Self.transfer(update, from: coordinator, to: p.site, fleet: fleet)
            let up = Self.transfer(update, from: fleet.site(named: p.site), to: federation.coordinator, fleet: fleet)
            var excluded: String?
            if ranked.isEmpty {
                excluded = Explanation.noPool(
                    "\(p.site) (\(p.dataset))",
                    total: state.candidates.count,
                    refusals: refusals
                )
            } else if down == nil || up == nil {
                excluded = "\(p.site) has no link to the coordinator \(federation.coordinator)"
            }
            return RoundParticipant(
                participant: p,
                workload: workload,
                ranked: ranked,
                share: share,
                download: down ?? 0,
                upload: up ?? 0,
                excluded: excluded
            )
        }
    }

    /// Seconds `size` takes from `source` to the site named `target`: none at the same site, over their direct
    /// link otherwise (the link as the source declares it, else as the target does), `nil` without one.
    static func transfer(_ size: DataSize, from source: Site?, to target: String, fleet: Fleet) -> Double? {
        guard let source else { return nil }
        if source.name == target { return 0 }
        let link =
            source.links.first { $0.to == target }
            ?? fleet.site(named: target)?.links.first { $0.to == source.name }
        return link.map { $0.bandwidth.transferTime(of: size).seconds }
    }

    /// One attempt at a round opening at step `open`, `lead` seconds in: each participant in turn walks its
    /// share from there, after the global model has reached it, and joins the roster when its update can reach
    /// the coordinator within the round timeout; what it took stays taken in `state`.
    func attempt(
        open: Int,
        lead: Double,
        sites: [RoundParticipant],
        federation: Federation,
        state: inout PlanningState
    ) -> RoundAttempt {
        var attempt = RoundAttempt()
        let timeout = Double(open) * state.grid.step + lead + federation.roundTimeout.seconds
        for site in sites where site.excluded == nil {
            let trial = state.mark()
            var walk = Walk(
                workload: site.workload,
                ranked: site.ranked,
                policy: policy,
                arrival: open,
                deadline: nil,
                required: site.share,
                wait: lead + site.download
            )
            walk.run(state: &state)
            guard let finish = walk.finishSeconds, finish + site.upload <= timeout else {
                state.rollBack(to: trial)
                attempt.absent.append("\(site.participant.site) cannot train its share and send its update in time")
                continue
            }
            state.keep(trial)
            let member = PlannedRound.Member(
                dataset: site.participant.dataset,
                site: site.participant.site,
                flops: site.share,
                uploadSeconds: site.upload
            )
            attempt.roster.append((member, walk))
        }
        return attempt
    }

    /// The round an attempt with its quorum makes: it closes when its last update reaches the coordinator.
    static func round(
        _ number: Int,
        open: Int,
        _ attempt: RoundAttempt,
        update: DataSize,
        _ grid: TimeGrid
    )
        -> PlannedRound
    {
        var closeSeconds = Double(open) * grid.step
        var lastTrained = open + 1
        for (member, walk) in attempt.roster {
            closeSeconds = max(closeSeconds, (walk.finishSeconds ?? closeSeconds) + member.uploadSeconds)
            lastTrained = max(lastTrained, walk.finishStep ?? lastTrained)
        }
        let close = max(lastTrained, Int((closeSeconds / grid.step).rounded(.up)))
        return PlannedRound(
            number: number,
            open: open,
            close: close,
            closeSeconds: closeSeconds,
            roster: attempt.roster.map(\.member),
            absent: attempt.absent,
            update: update
        )
    }

    /// The workload's plan from its rounds: every participant's segments merged per pool, done when the last
    /// round closes, unfinished (and why) when the rounds run out of horizon.
    static func roundsPlan(
        _ w: Workload,
        _ federation: Federation,
        _ rounds: [PlannedRound],
        _ segments: [Segment],
        waiting: [String],
        required: Double?,
        grid: TimeGrid
    ) -> WorkloadPlan {
        let merged = Segment.merged(segments)
        let done = rounds.count == federation.rounds
        let finishStep = done ? rounds.last?.close : nil
        let deadlineStep = w.deadline.map { grid.step(at: $0, rounding: .down) }
        let status: PlacementStatus =
            !done ? .unfinished : (deadlineStep.map { (finishStep ?? 0) > $0 } == true ? .deadlineMissed : .completed)
        var explanation: String?
        if !done {
            explanation =
                "\(w.name): \(rounds.count) of \(federation.rounds) rounds by the end of the scenario; round "
                + "\(rounds.count + 1) waits for a quorum of \(federation.minSites)"
                + (waiting.isEmpty ? "" : ": " + waiting.joined(separator: "; "))
        } else if status == .deadlineMissed {
            explanation = "\(w.name): its last round closes \(grid.label(at: finishStep ?? 0)), after its deadline"
        }
        var events: [PlanEvent] = []
        if let first = merged.first {
            events.append(PlanEvent(kind: .start, step: first.start, site: federation.coordinator, detail: ""))
        }
        if let finishStep {
            events.append(PlanEvent(kind: .finish, step: finishStep, site: federation.coordinator, detail: ""))
        }
        var plan = WorkloadPlan(
            name: w.name,
            status: status,
            segments: merged,
            events: events,
            precision: nil,
            requiredFLOPs: required,
            plannedFLOPs: rounds.reduce(0) { $0 + $1.roster.reduce(0) { $0 + $1.flops } },
            finishStep: finishStep,
            explanation: explanation
        )
        plan.rounds = rounds
        return plan
    }
}

extension Segment {
    /// The same segment, trained by the participant holding `dataset`.
    func with(participant dataset: String) -> Segment {
        Segment(reference: reference, accelerators: accelerators, start: start, end: end, participant: dataset)
    }

    /// Segments in time order (then by site and pool), each run of back-to-back segments on one pool with the
    /// same width and participant merged into one.
    static func merged(_ segments: [Segment]) -> [Segment] {
        let sorted = segments.sorted {
            ($0.reference.site, $0.reference.pool, $0.start) < ($1.reference.site, $1.reference.pool, $1.start)
        }
        var merged: [Segment] = []
        for s in sorted {
            if let last = merged.last, last.reference == s.reference, last.accelerators == s.accelerators,
                last.participant == s.participant, last.end == s.start
            {
                merged[merged.count - 1] = Segment(
                    reference: s.reference,
                    accelerators: s.accelerators,
                    start: last.start,
                    end: s.end,
                    participant: s.participant
                )
            } else {
                merged.append(s)
            }
        }
        return merged.sorted {
            ($0.start, $0.reference.site, $0.reference.pool) < ($1.start, $1.reference.site, $1.reference.pool)
        }
    }
}
