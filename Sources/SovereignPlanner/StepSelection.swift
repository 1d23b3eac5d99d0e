/// Which steps of a window deferrable work runs in: the pure choices carbon shifting makes, over per-step costs.
///
/// Every function takes the window as arrays indexed from 0: `cost[i]` is what running step `i` costs (carbon,
/// in any unit), `eligible[i]` whether the work may run at step `i` at all. They return window indices, or
/// `nil` when the window cannot hold the work.
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

    /// The `k` cheapest eligible steps, earlier first among equal costs, in time order (Wait-Awhile's
    /// optimum when pauses are free).
    ///
    /// - Complexity: O(n log n) for a window of n steps.
    static func cheapest(_ cost: [Double], eligible: [Bool], count k: Int) -> [Int]? {
        let candidates = cost.indices.filter { eligible[$0] }
        guard k > 0, candidates.count >= k else { return k == 0 ? [] : nil }
        let chosen = candidates.sorted { cost[$0] != cost[$1] ? cost[$0] < cost[$1] : $0 < $1 }.prefix(k)
        return chosen.sorted()
    }

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
    static func pieces(_ steps: [Int]) -> Int {
        zip(steps, steps.dropFirst()).reduce(steps.isEmpty ? 0 : 1) { $0 + ($1.1 == $1.0 + 1 ? 0 : 1) }
    }
}
