/// How a workload's run continues from one step it ran at to the next: the events between them, derived
/// once for the planner's plans and the simulator's counts.
public struct Transition: Sendable, Hashable {
    /// Steps were skipped: the work stopped in between.
    public let paused: Bool
    /// It continues at another site.
    public let moved: Bool

    /// The transition from running at `previous` to running at `next` (steps and site indices).
    public init(from previous: (step: Int, site: Int), to next: (step: Int, site: Int)) {
        paused = next.step != previous.step + 1
        moved = next.site != previous.site
    }

    /// The events in order: a stop checkpoints (unless it is a service) and pauses where it ran; then a move
    /// (checkpointing first if it did not stop) migrates, or a stop resumes where it was.
    ///
    /// - Parameter service: an inference service has no checkpoint to write.
    /// - Returns: each event's kind and whether it happens where the work ran before (else where it runs next).
    public func events(service: Bool) -> [(kind: PlanEvent.Kind, atPrevious: Bool)] {
        var events: [(kind: PlanEvent.Kind, atPrevious: Bool)] = []
        if paused {
            if !service { events.append((.checkpoint, true)) }
            events.append((.pause, true))
        }
        if moved {
            if !paused, !service { events.append((.checkpoint, true)) }
            events.append((.migrate, false))
        } else if paused {
            events.append((.resume, false))
        }
        return events
    }
}
