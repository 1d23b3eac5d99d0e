import Foundation

// Load for the scheduler extender over HTTP (scripts/extender-http.sh and scripts/extender-cycle.sh):
//   ExtenderLoad write DIR NODES         the fleet, its NodeList and kube-scheduler's bodies in both modes
//   ExtenderLoad cycle URL NODES [SENT]  kube-scheduler's pod cycles against `serve --extender-listen`
// `cycle` reads PODS (5,000), WARMUP (500), NODELAY (1: TCP_NODELAY as Go sets it), SINGLE_WRITE (0: head
// and body in 4 KB writes as Go's transport writes them) and SERVER_PID (the server's CPU time and context
// switches per cycle, from /proc) from the environment.
let arguments = CommandLine.arguments
let environment = ProcessInfo.processInfo.environment

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ExtenderLoad: \(message)\n".utf8))
    exit(2)
}

func run() throws {
    switch (arguments.dropFirst().first, arguments.count) {
    case ("write", 4):
        guard let nodes = Int(arguments[3]), nodes > 0 else { fail("write: expected NODES > 0, found \(arguments[3])") }
        try Load(nodes: nodes).write(to: URL(fileURLWithPath: arguments[2], isDirectory: true))
    case ("cycle", 4), ("cycle", 5):
        guard let nodes = Int(arguments[3]), nodes > 0 else { fail("cycle: expected NODES > 0, found \(arguments[3])") }
        let sent = arguments.count == 5 ? Int(arguments[4]) : nil
        try cycle(url: arguments[2], load: Load(nodes: nodes, sent: sent))
    default:
        fail("usage: ExtenderLoad write DIR NODES | ExtenderLoad cycle URL NODES [SENT]")
    }
}

/// Runs the pod cycles over HTTP and in process, and prints a table of their latencies.
func cycle(url: String, load: Load) throws {
    // http://127.0.0.1:PORT/prefix
    guard url.hasPrefix("http://"), let slash = url.dropFirst(7).firstIndex(of: "/") else {
        fail("cycle: expected a URL like http://127.0.0.1:8081/scheduler, found \(url)")
    }
    let authority = url[url.index(url.startIndex, offsetBy: 7)..<slash].split(separator: ":")
    guard authority.count == 2, let port = Int(authority[1]) else { fail("cycle: expected host:port in \(url)") }
    let pods = Int(environment["PODS"] ?? "") ?? 5_000
    let warmup = Int(environment["WARMUP"] ?? "") ?? 500
    let noDelay = environment["NODELAY"] != "0"
    let singleWrite = environment["SINGLE_WRITE"] == "1"
    let connection = try HTTPConnection(
        host: String(authority[0]),
        port: port,
        noDelay: noDelay,
        singleWrite: singleWrite
    )
    let cycles = PodCycle(load: load)
    let clock = ContinuousClock()
    let start = clock.now
    let server = Int32(environment["SERVER_PID"] ?? "").flatMap(ProcessCounters.read(pid:))
    let http = try cycles.overHTTP(connection, prefix: String(url[slash...]), pods: pods, warmup: warmup)
    let seconds = nanoseconds(clock.now - start) / 1e9
    let serverAfter = Int32(environment["SERVER_PID"] ?? "").flatMap(ProcessCounters.read(pid:))
    let bare = try cycles.healthz(connection, count: pods)
    let local = try cycles.inProcess(pods: pods, warmup: warmup)
    let kept = http.kept.reduce(0, +) / max(1, http.kept.count)
    print(
        "\(load.replay.nodes.count) nodes, \(load.sent) sent, \(kept) kept on average; \(pods) pods after \(warmup); "
            + "client TCP_NODELAY \(noDelay ? "on" : "off"), \(singleWrite ? "one write" : "4 KB writes") per request; "
            + String(
                format: "%.0f pod cycles/s over HTTP (with the client's own work)",
                Double(warmup + pods) / seconds
            )
    )
    if let server, let serverAfter {
        let cycles = Double(warmup + pods)
        print(
            String(
                format: "server per pod cycle: %.3f ms of CPU, %.1f context switches",
                (serverAfter.cpuSeconds - server.cpuSeconds) * 1e3 / cycles,
                Double(serverAfter.contextSwitches - server.contextSwitches) / cycles
            )
        )
    }
    print("| ms | p50 | p90 | p99 | max |")
    print("|---|---|---|---|---|")
    print("| HTTP: filter + prioritize | \(summary(http.cycle)) |")
    print("| HTTP: filter | \(summary(http.filter)) |")
    print("| HTTP: prioritize | \(summary(http.prioritize)) |")
    print("| HTTP: GET /healthz | \(summary(bare)) |")
    print("| in process: filter + prioritize | \(summary(local.cycle)) |")
    print("| in process: filter | \(summary(local.filter)) |")
    print("| in process: prioritize | \(summary(local.prioritize)) |")
}

do {
    try run()
} catch {
    fail("\(error)")
}
