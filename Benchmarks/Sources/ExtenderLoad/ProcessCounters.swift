import Foundation

/// CPU time and context switches of a process (all its threads), from Linux's /proc: what the server
/// spends per pod cycle, which waiting for a busy machine's cores does not inflate as it inflates latency.
struct ProcessCounters {
    var cpuSeconds: Double
    var contextSwitches: Int

    /// The counters of process `pid` now, or `nil` where /proc cannot say.
    static func read(pid: Int32) -> ProcessCounters? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) ": state is field 3, utime 14 and stime 15 (clock ticks).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        let switches = tasks.reduce(0) { total, task in
            let status = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)) ?? ""
            return total
                + status.split(separator: "\n").filter { $0.contains("ctxt_switches:") }
                .compactMap { Int($0.split(separator: "\t").last ?? "") }.reduce(0, +)
        }
        return ProcessCounters(
            cpuSeconds: (user + system) / Double(sysconf(Int32(_SC_CLK_TCK))),
            contextSwitches: switches
        )
    }
}
