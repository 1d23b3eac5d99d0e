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
    /// Indices of each workload's live entries, ascending, by workload index. A workload's entries start in
    /// the order they were installed (a plan lists a workload's segments in time, and a replan ends them all
    /// before its own start), so they also end in that order.
    private var byWorkload: [[Int]]
    /// Where each workload's entries that have not ended begin in ``byWorkload``: those before it ended
    /// before the current step, so ``first(of:at:)`` never looks at them again.
    private var heads: [Int]
    /// Indices of the entries that start after the current step, by the step they start.
    private var starting: [Int: [Int]] = [:]
    /// The keys of ``starting``, earliest first: where the next segment starts.
    private var calendar = StepHeap()
    /// Indices of the entries that hold the current step, ascending.
    private(set) var active: [Int] = []
    /// The step ``active`` describes.
    private(set) var now = -1

    init(workloads: Int) {
        byWorkload = Array(repeating: [], count: workloads)
        heads = Array(repeating: 0, count: workloads)
    }

    /// Adds an allocation over `steps`, which start after the current step.
    mutating func add(_ allocation: Run.Allocation, steps: Range<Int>) {
        guard !steps.isEmpty else { return }
        precondition(steps.lowerBound > now, "a segment is installed only after the step the run is at")
        let id = entries.count
        assert(
            byWorkload[allocation.workload].last.map { entries[$0].start <= steps.lowerBound } ?? true,
            "a workload's segments are installed in the order they start"
        )
        entries.append(Entry(allocation: allocation, start: steps.lowerBound, end: steps.upperBound))
        byWorkload[allocation.workload].append(id)
        if starting[steps.lowerBound] == nil { calendar.insert(steps.lowerBound) }
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

    /// Moves to step `t`, which is no later than ``nextChange(after:)`` of the current step: drops what
    /// ended, takes in what starts.
    mutating func advance(to t: Int) {
        let all = entries
        for id in active where all[id].end <= t { skipEnded(of: all[id].allocation.workload, at: t) }
        active.removeAll { all[$0].end <= t }
        while let first = calendar.min, first <= t { calendar.removeMin() }
        if let new = starting.removeValue(forKey: t) {
            active = merged(active, new.filter { all[$0].covers(t) })
        }
        now = t
    }

    /// The first step after `t` (the current step) where a segment starts or an active one ends: the
    /// allocations are the same at every step from `t` up to it (`Int.max` when nothing changes again).
    func nextChange(after t: Int) -> Int {
        active.reduce(calendar.min ?? .max) { min($0, entries[$1].end) }
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
    ///
    /// - Complexity: O(1) amortised: it looks only at the workload's entries that have not ended, and stops
    ///   at the first that starts after `u`.
    func first(of w: Int, at u: Int) -> Run.Allocation? {
        for id in byWorkload[w][heads[w]...] {
            let entry = entries[id]
            if entry.start > u { return nil }
            if entry.covers(u) { return entry.allocation }
        }
        return nil
    }

    /// Moves workload `w`'s head past its entries that ended by step `t`.
    private mutating func skipEnded(of w: Int, at t: Int) {
        let list = byWorkload[w]
        while heads[w] < list.count, entries[list[heads[w]]].end <= t { heads[w] += 1 }
    }

    /// Two ascending index lists as one.
    private func merged(_ a: [Int], _ b: [Int]) -> [Int] {
        guard !b.isEmpty else { return a }
        guard let last = a.last, last > b[0] else { return a + b }
        return (a + b).sorted()
    }
}

/// A binary min-heap of steps.
struct StepHeap {
    private var items: [Int] = []

    var min: Int? { items.first }

    mutating func insert(_ step: Int) {
        items.append(step)
        var child = items.count - 1
        while child > 0, items[(child - 1) / 2] > items[child] {
            items.swapAt(child, (child - 1) / 2)
            child = (child - 1) / 2
        }
    }

    mutating func removeMin() {
        guard let last = items.popLast(), !items.isEmpty else { return }
        items[0] = last
        var parent = 0
        while true {
            let (left, right) = (2 * parent + 1, 2 * parent + 2)
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
