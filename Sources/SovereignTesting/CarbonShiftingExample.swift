public import Foundation
import SovereignBase
public import SovereignModel

/// `Examples/carbon-shifting` with as many of its jobs (99,988, a year of arrivals) as a test or benchmark asks
/// for, its pauses priced (as the example declares) or free (GAIA's setting).
///
/// The jobs become workloads by the rule of the example's `derive.py` (which writes the first 1,000 into
/// `workloads.yaml`; a test checks the two agree byte for byte).
public enum CarbonShiftingExample: Sendable {
    /// The example's directory.
    public static let directory = Fixtures.repositoryRoot.appendingPathComponent("Examples/carbon-shifting")
    /// 2020-01-01T00:00:00Z, the scenario's start, in seconds since 1970.
    public static let start = 1_577_836_800.0

    /// One job of `jobs.csv`: arrival and length in minutes from the start, and cores.
    public struct Job: Sendable, Hashable {
        public let arrival: Int
        public let length: Int
        public let cores: Int

        /// Minutes the job may wait: 6 h under 2 h of length, else 24 h.
        public var wait: Int { length < 120 ? 360 : 1440 }
    }

    /// The first `count` jobs of `jobs.csv`.
    public static func jobs(_ count: Int = 10_000) throws -> [Job] {
        let text = try String(contentsOf: directory.appendingPathComponent("jobs.csv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().prefix(count).compactMap { line in
            let f = line.split(separator: ",")
            guard f.count == 3, let a = Double(f[0]), let l = Double(f[1]), let c = Int(f[2]) else { return nil }
            return Job(arrival: Int((a * 60).rounded()), length: Int((l * 60).rounded()), cores: c)
        }
    }

    /// The workload documents for `jobs`, named by index, as `derive.py` writes them.
    public static func workloadsYAML(_ jobs: [Job]) -> String {
        var out = ""
        for (i, job) in jobs.enumerated() {
            let name = "job-" + String(repeating: "0", count: max(0, 5 - String(i).count)) + String(i)
            let hours = Double(job.length) / 60 * Double(job.cores)
            let arrival = ISO8601.format(epochSeconds: start + Double(job.arrival) * 60)
            let deadline = ISO8601.format(epochSeconds: start + Double(job.arrival + job.length + job.wait) * 60)
            out += "---\napiVersion: sovereign.dev/v1\nkind: Workload\nmetadata: {name: \(name)}\n"
            out += "spec: {type: training, model: {parameters: 300M}, compute: {acceleratorHours: \(hours), on: core}, "
            out += "accelerators: {min: \(job.cores), max: \(job.cores)}, arrival: \(arrival), deadline: \(deadline)}\n"
        }
        return out
    }

    /// The example's fleet with the first `count` jobs, loaded from a scratch copy in `scratch`; its horizon
    /// (41 days, what the first 10,000 jobs need) lengthened to the last job's deadline when that is later.
    ///
    /// - Parameters:
    ///   - pricedPauses: keep the site's checkpoint storage (pauses cost carbon) or drop it (free).
    ///   - fiveSecondYear: 5-second steps over the whole trace's year (369 days, 6,376,320 steps), whatever
    ///     the jobs' last deadline, instead of the example's 5-minute steps.
    public static func fleet(
        jobs count: Int,
        pricedPauses: Bool,
        fiveSecondYear: Bool = false,
        in scratch: URL
    ) throws -> Fleet {
        let selected = try jobs(count)
        var site = try String(contentsOf: directory.appendingPathComponent("fleet.yaml"), encoding: .utf8)
        let lastDeadline = selected.map { $0.arrival + $0.length + $0.wait }.max() ?? 0
        let days = fiveSecondYear ? 369 : (lastDeadline + 1439) / 1440
        if fiveSecondYear { site = try replacing("step: 5 min", with: "step: 5 s", in: site) }
        if days > 41 { site = try replacing("horizon: 41 d", with: "horizon: \(days) d", in: site) }
        if !pricedPauses {
            site = site.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("  storage:") }.joined(separator: "\n")
        }
        try site.write(to: scratch.appendingPathComponent("fleet.yaml"), atomically: true, encoding: .utf8)
        let carbon = directory.appendingPathComponent("carbon.csv")
        try? FileManager.default.removeItem(at: scratch.appendingPathComponent("carbon.csv"))
        try FileManager.default.copyItem(at: carbon, to: scratch.appendingPathComponent("carbon.csv"))
        let workloads = workloadsYAML(selected)
        try workloads.write(to: scratch.appendingPathComponent("workloads.yaml"), atomically: true, encoding: .utf8)
        return try FleetLoader().load(paths: [scratch.path])
    }

    /// `text` with `field` replaced by `value`; throws when the example's fleet no longer says `field`.
    static func replacing(_ field: String, with value: String, in text: String) throws -> String {
        guard text.contains(field) else { throw ExampleChanged(expected: field) }
        return text.replacingOccurrences(of: field, with: value)
    }

    /// The example's fleet.yaml no longer holds a line the fixture rewrites.
    struct ExampleChanged: Error, CustomStringConvertible {
        let expected: String
        var description: String {
            "expected Examples/carbon-shifting/fleet.yaml to say \"\(expected)\", found no such text"
        }
    }
}
