/// The current plan's allocations as segments, and which of them hold the step a run is at: memory follows
/// the plan's segments, not its steps, and the active set changes only where a segment starts or ends.
///
/// A step's allocations are in install order (the order a plan lists its workloads and segments, the latest
/// replan's last), which is the order the run meets them in.
struct Schedule {
    /// One installed segment: an allocation over the steps `start..<end` (empty once replaced).
    struct Entry {
        let allocation: Run.Allocation
        let start: Int
        var end: Int

        var isLive: Bool { start < end }

        func covers(_ t: Int) -> Bool { start <= t && t < end }
    }

    /// Every segment installed, in install order; an entry's index is its place in that order.
    private(set) var entries: [Entry] = []
    /// Indices of each workload's live entries, ascending, by workload index.
    private var byWorkload: [[Int]]
    /// Indices of the entries that start after the current step, by the step they start.
    private var starting: [Int: [Int]] = [:]
    /// Indices of the entries that hold the current step, ascending.
    private(set) var active: [Int] = []
    /// The step ``active`` describes.
    private(set) var now = -1

    init(workloads: Int) {
        byWorkload = Array(repeating: [], count: workloads)
    }

    /// Adds an allocation over `steps`, which start after the current step.
    mutating func add(_ allocation: Run.Allocation, steps: Range<Int>) {
        guard !steps.isEmpty else { return }
        precondition(steps.lowerBound > now, "a segment is installed only after the step the run is at")
        let id = entries.count
        entries.append(Entry(allocation: allocation, start: steps.lowerBound, end: steps.upperBound))
        byWorkload[allocation.workload].append(id)
        starting[steps.lowerBound, default: []].append(id)
    }

    /// Ends every allocation of `workloads` (all when `nil`) before step `from`.
    mutating func clear(_ workloads: Set<Int>?, from: Int) {
        for w in workloads.map(Array.init) ?? Array(byWorkload.indices) {
            for id in byWorkload[w] {
                entries[id].end = max(entries[id].start, min(entries[id].end, from))
            }
            let after = entries
            byWorkload[w].removeAll { !after[$0].isLive }
        }
    }

    /// Moves to step `t`: drops what ended, takes in what starts.
    mutating func advance(to t: Int) {
        let all = entries
        active.removeAll { all[$0].end <= t }
        if let new = starting.removeValue(forKey: t) {
            active = merged(active, new.filter { all[$0].covers(t) })
        }
        now = t
    }

    /// The allocations at step `u`, no earlier than the current step, in install order; only those at site
    /// `site` when one is given.
    func allocations(at u: Int, site: Int? = nil) -> [Run.Allocation] {
        func wanted(_ id: Int) -> Bool {
            entries[id].covers(u) && site.map { entries[id].allocation.site == $0 } != false
        }
        var ids = active.filter(wanted)
        if u > now {
            for v in (now + 1)...u { ids = merged(ids, (starting[v] ?? []).filter(wanted)) }
        }
        return ids.map { entries[$0].allocation }
    }

    /// Workload `w`'s first allocation (in install order) at step `u`, if it has one.
    func first(of w: Int, at u: Int) -> Run.Allocation? {
        byWorkload[w].first { entries[$0].covers(u) }.map { entries[$0].allocation }
    }

    /// Two ascending index lists as one.
    private func merged(_ a: [Int], _ b: [Int]) -> [Int] {
        guard !b.isEmpty else { return a }
        guard let last = a.last, last > b[0] else { return a + b }
        return (a + b).sorted()
    }
}
