/// Which steps of a window deferrable work runs in: the pure choices carbon shifting makes, over per-step costs.
///
/// The cleanest steps are chosen over stretches of equal cost (a window of thousands of steps holds a few dozen
/// hourly carbon values). The searches that price pauses or keep the work in one piece take the window as
/// arrays indexed from 0: `cost[i]` is what running step `i` costs (carbon, in any unit), `eligible[i]` whether
/// the work may run at step `i` at all; they return window indices. Each returns `nil` when the window cannot
/// hold the work.
enum StepSelection {
    /// What a choice costs: carbon (pauses included) first, then how many pieces the work runs in.
    struct Cost: Comparable {
        var carbon: Double
        var pieces: Int

        static let free = Cost(carbon: 0, pieces: 0)
        static let impossible = Cost(carbon: .infinity, pieces: .max)

        /// Carbon equal up to rounding (sums taken in different orders) counts as a tie, broken by pieces.
        static func < (a: Cost, b: Cost) -> Bool {
            // Relative to the smaller, so that a finite cost always beats an impossible one.
            let tolerance = 1e-9 * max(1, min(abs(a.carbon), abs(b.carbon)))
            if a.carbon < b.carbon - tolerance { return true }
            if b.carbon < a.carbon - tolerance { return false }
            return a.pieces < b.pieces
        }

        static func == (a: Cost, b: Cost) -> Bool { !(a < b) && !(b < a) }

        /// This cost with `carbon` more, in a piece that is new (`newPiece`) or goes on.
        func adding(_ carbon: Double, newPiece: Bool = false) -> Cost {
            Cost(carbon: self.carbon + carbon, pieces: pieces + (newPiece ? 1 : 0))
        }
    }

    /// Steps of a window that cost the same (a run of its carbon and PUE), in any order in a list.
    struct Stretch: Equatable {
        let steps: Range<Int>
        let cost: Double
    }

    /// The `k` cheapest eligible steps, earlier first among equal costs, as ascending runs of consecutive steps
    /// (Wait-Awhile's optimum when pauses are free).
    ///
    /// `stretches` are disjoint; `eligible(steps, most)` gives the parts of `steps` the work may run in,
    /// ascending, holding at least the first `most` such steps (or all of them, when fewer).
    /// Stretches are taken whole in order of cost, then start, each one's eligible steps earliest first, until
    /// `k` steps are chosen: exactly the steps that sorting every eligible step by cost, then index, puts
    /// first (a stretch's steps cost the same and lie between those of the stretches before and after it).
    /// Eligibility is asked only of the stretches reached.
    ///
    /// - Complexity: O(s log s) for s stretches, plus what `eligible` costs on the stretches reached.
    static func cheapest(
        _ stretches: [Stretch],
        count k: Int,
        eligible: (_ steps: Range<Int>, _ most: Int) -> [Range<Int>]
    ) -> [Range<Int>]? {
        guard k > 0 else { return [] }
        let order = stretches.sorted {
            $0.cost != $1.cost ? $0.cost < $1.cost : $0.steps.lowerBound < $1.steps.lowerBound
        }
        var chosen: [Range<Int>] = []
        var left = k
        for stretch in order where !stretch.steps.isEmpty {
            for part in eligible(stretch.steps, left) {
                chosen.append(part.lowerBound..<part.lowerBound + min(left, part.count))
                left -= chosen[chosen.count - 1].count
                if left == 0 { return joined(chosen) }
            }
        }
        return nil
    }

    /// Disjoint ranges in time order, those that follow each other without a gap made one.
    static func joined(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where !range.isEmpty {
            if let last = result.last, last.upperBound == range.lowerBound {
                result[result.count - 1] = last.lowerBound..<range.upperBound
            } else {
                result.append(range)
            }
        }
        return result
    }

    /// Ascending steps as runs of consecutive steps.
    static func runs(_ steps: [Int]) -> [Range<Int>] { joined(steps.map { $0..<$0 + 1 }) }

    /// The `k` steps that minimise their carbon plus the price of every pause, then the number of pieces.
    ///
    /// Dynamic programming over the window in time order. The state after step `i` is how many steps have
    /// run (0…k) and whether step `i` ran; running step `i` costs `cost[i]`, stopping after step `i` with work
    /// left costs `pause[i]` (writing the checkpoint) and starting again at step `i` once some work is done
    /// costs `resume[i]` (reading it). Exact: every choice of k steps is one path through these states, and
    /// a path's cost depends only on its transitions. Chosen over a shortest path on a graph of runs
    /// (O(n² ·k) edges) because the state space is small and dense; ties in carbon go to fewer pieces.
    /// Only states that can still finish are kept (after step `i`, at least `k − (n − 1 − i)` steps run):
    /// every predecessor of such a state is one too, so the band changes no choice.
    ///
    /// - Complexity: O(n · min(k, n − k)) time and O(n·k) bytes of back-pointers for a window of n steps.
    static func cheapestRuns(
        _ cost: [Double],
        eligible: [Bool],
        count k: Int,
        pause: [Double],
        resume: [Double]
    ) -> [Int]? {
        let n = cost.count
        guard k > 0 else { return [] }
        guard eligible.lazy.filter({ $0 }).count >= k else { return nil }
        var running = [Cost](repeating: .impossible, count: k + 1)
        var paused = running
        paused[0] = .free
        // Bit 0: running(j) at i came from paused(j-1); bit 1: paused(j) at i came from running(j).
        var back = [UInt8](repeating: 0, count: n * (k + 1))
        var nextRunning = running
        var nextPaused = paused
        for i in 0..<n {
            for j in max(0, k - (n - 1 - i))...min(k, i + 1) {
                let stop =
                    i > 0 && running[j] != .impossible ? running[j].adding(j < k ? pause[i - 1] : 0) : .impossible
                nextPaused[j] = min(paused[j], stop)
                var bits: UInt8 = stop < paused[j] ? 2 : 0
                nextRunning[j] = .impossible
                if eligible[i], j > 0 {
                    let goOn = running[j - 1] == .impossible ? .impossible : running[j - 1].adding(cost[i])
                    let start =
                        paused[j - 1] == .impossible
                        ? .impossible : paused[j - 1].adding(cost[i] + (j > 1 ? resume[i] : 0), newPiece: true)
                    nextRunning[j] = min(goOn, start)
                    if start < goOn { bits |= 1 }
                }
                back[i * (k + 1) + j] = bits
            }
            swap(&running, &nextRunning)
            swap(&paused, &nextPaused)
        }
        guard min(running[k], paused[k]) != .impossible else { return nil }
        return trace(back, steps: n, count: k, endRunning: running[k] < paused[k] || running[k] == paused[k])
    }

    /// The chosen steps, read back from the back-pointers of ``cheapestRuns(_:eligible:count:pause:resume:)``.
    private static func trace(_ back: [UInt8], steps n: Int, count k: Int, endRunning: Bool) -> [Int] {
        var chosen: [Int] = []
        var isRunning = endRunning
        var j = k
        for i in stride(from: n - 1, through: 0, by: -1) {
            let bits = back[i * (k + 1) + j]
            if isRunning {
                chosen.append(i)
                isRunning = bits & 1 == 0
                j -= 1
            } else {
                isRunning = bits & 2 != 0
            }
        }
        return chosen.reversed()
    }

    /// The start of the cheapest run of `k` consecutive eligible steps, the earliest among equals: work that
    /// may not pause (a sliding window over prefix sums).
    ///
    /// - Complexity: O(n) for a window of n steps.
    static func cheapestWindow(_ cost: [Double], eligible: [Bool], length k: Int) -> Int? {
        let n = cost.count
        guard k > 0, k <= n else { return k == 0 ? 0 : nil }
        var best: (start: Int, cost: Cost)?
        var sum = 0.0
        var blocked = 0
        for i in 0..<n {
            sum += cost[i]
            if !eligible[i] { blocked += 1 }
            if i >= k {
                sum -= cost[i - k]
                if !eligible[i - k] { blocked -= 1 }
            }
            guard i >= k - 1, blocked == 0 else { continue }
            let here = Cost(carbon: sum, pieces: 1)
            if best.map({ here < $0.cost }) ?? true { best = (i - k + 1, here) }
        }
        return best?.start
    }

    /// How many runs of consecutive steps `steps` (ascending) make.
    static func pieces(_ steps: [Int]) -> Int { runs(steps).count }
}
