/// How the node watcher and labeller wait after a failure: exponentially longer each time, up to a cap, and
/// back to the start after a success.
public struct KubernetesRetryPolicy: Sendable, Hashable {
    /// The wait after the first failure.
    public var initial: Duration
    /// The longest wait.
    public var maximum: Duration
    /// How much longer each further wait is.
    public var multiplier: Double

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - initial: The wait after the first failure.
    ///   - maximum: The longest wait.
    ///   - multiplier: How much longer each further wait is (at least 1).
    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30), multiplier: Double = 2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = max(1, multiplier)
    }

    /// Half a second, doubling, at most 30 seconds.
    public static let standard = Self()

    /// The wait after `failures` failures in a row (1 for the first).
    ///
    /// - Parameter failures: Failures in a row, counting the one just seen.
    /// - Returns: How long to wait before trying again.
    public func delay(afterFailures failures: Int) -> Duration {
        var delay = initial
        var step = 1
        while step < failures && delay < maximum {
            delay = delay * multiplier
            step += 1
        }
        return min(delay, maximum)
    }
}
