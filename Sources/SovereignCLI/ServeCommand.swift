import ArgumentParser
import Foundation
import Logging
import SovereignKubernetes
import SovereignModel
import SovereignServer
import SovereignStorePostgres

/// `sovereign serve`: the control plane.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the control plane: the HTTP API, the control loop and the local process executor.",
        discussion: """
            State lives in the SQLite database (--db), or in PostgreSQL with --db postgres://USER@HOST[:PORT]/DB \
            (the password, if any, from PGPASSWORD); the local files named below then start with DB, in the \
            working directory. Without --tokens, DB.tokens is used, and made with one \
            random operator token (mode 0600) on first start; without --key, DB.key holds the Ed25519 \
            checkpoint key (made with mode 0600 on first start). Workloads run as local processes under \
            DB.workloads/ and keep running if the server stops; the next start adopts them. Federated \
            workloads are coordinated here: their sites run `sovereign agent` with a `TOKEN site SITE` token \
            (or, with --client-ca, a client certificate naming sovereign://site/SITE), and each round's global \
            model is kept under DB.federation/. Token fingerprints in the ledger are keyed by DB.key.hmac (made \
            with mode 0600 on first start).

            With --tls-cert and --tls-key the API serves HTTPS only, and so does the extender (with its own \
            --extender-tls-cert/--extender-tls-key, else the API's). Certificates reload without a restart when \
            their files change (checked every 2 s) or on SIGHUP; a renewal that does not load is logged and the \
            certificate in use stays.
            """
    )

    @Argument(help: "Spec files or directories of the fleet.")
    var specs: [String]

    @Option(
        help: "The SQLite state database, or postgres://USER@HOST[:PORT]/DB[?sslmode=verify-full&sslrootcert=CA.pem]."
    )
    var db = "sovereign.sqlite"

    @Option(help: "Address and port to listen on (port 0: any free port).")
    var listen = "127.0.0.1:8080"

    @Option(help: "File of `token role` lines (roles: reader, power, operator) and `token site SITE` lines.")
    var tokens: String?

    @Option(help: "Ed25519 private key for signing ledger checkpoints.")
    var key: String?

    @Option(name: .customLong("work-dir"), help: "Where workloads keep checkpoints and logs (default: DB.workloads).")
    var workDirectory: String?

    @Option(help: "Time between control-loop passes, like \"1 s\".")
    var tick = "1 s"

    @Option(name: .customLong("federation-poll"), help: "How often idle federated agents poll, like \"1 s\".")
    var federationPoll = "1 s"

    @Option(
        name: .customLong("extender-listen"),
        help: ArgumentHelp(
            "Also serve kube-scheduler's extender calls on HOST:PORT (no tokens: bind it where only the scheduler reaches).",
            valueName: "host:port"
        )
    )
    var extenderListen: String?

    @Option(name: .customLong("extender-prefix"), help: "The extender's path prefix (kube-scheduler's urlPrefix path).")
    var extenderPrefix = "/scheduler"

    @Flag(
        name: .customLong("extender-unresolvable-as-failed"),
        help:
            "Also list nodes refused for residency, policy or hardware in FailedNodes, for kube-scheduler older than 1.21."
    )
    var extenderUnresolvableAsFailed = false

    @Option(
        name: .customLong("extender-fill"),
        help: ArgumentHelp(
            "How extender scores weigh the fill of each pool (from the pod watch): ignore, spread or pack.",
            valueName: "policy"
        )
    )
    var extenderFill = "ignore"

    @Option(
        help: ArgumentHelp(
            "Watch and label the cluster's nodes through the Kubernetes API: `in-cluster` (the pod's service account) or a kubeconfig file.",
            valueName: "in-cluster|kubeconfig"
        )
    )
    var kubernetes: String?

    @Option(name: .customLong("kube-context"), help: "The kubeconfig context to use (default: its current-context).")
    var kubeContext: String?

    @OptionGroup(title: "TLS")
    var tls: ServeTLSOptions

    @Option(
        name: .customLong("site-agents"),
        help: "Sites whose work runs through their site agents (`sovereign site-agent`), comma-separated."
    )
    var siteAgents: String?

    @Option(
        name: .customLong("agent-lease"),
        help: "How long a site agent keeps its work running without reaching the server, like \"30 s\"."
    )
    var agentLease = "30 s"

    @Option(
        name: .customLong("leader-lease"),
        help: """
            With --db postgres://...: how long the leader's lease lasts, like "15 s" (at least three ticks); \
            a follower takes over at most this long after the leader was last heard from.
            """
    )
    var leaderLease = "15 s"

    @Option(
        help: "The country the server runs in (ISO 3166 code like KE): checkpoints relayed through it cross it."
    )
    var jurisdiction: String?

    @Option(
        name: .customLong("relay-quota"),
        help: "The most checkpoint bytes one site may have in transit through the relay at once, like \"1 TB\"."
    )
    var relayQuota = "1 TB"

    /// `HOST:PORT`, or an error naming the option.
    static func address(_ text: String, option: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon > text.startIndex
        else {
            printError("\(option): expected HOST:PORT like 127.0.0.1:8080, found \"\(text)\"")
            throw ExitCode.validationFailure
        }
        return (String(text[..<colon]), port)
    }

    mutating func run() async throws {
        let (host, port) = try Self.address(listen, option: "--listen")
        guard let tickSpan = TimeSpan.parse(tick), tickSpan.seconds >= 0.05, tickSpan.seconds <= 3600 else {
            printError("--tick: expected a time between 50 ms and 1 h like \"1 s\", found \"\(tick)\"")
            throw ExitCode.validationFailure
        }
        var configuration = ServerConfiguration(specPaths: specs, databasePath: db, host: host, port: port)
        try applyDatabase(to: &configuration)
        if let extenderListen {
            let (extenderHost, extenderPort) = try Self.address(extenderListen, option: "--extender-listen")
            configuration.extenderHost = extenderHost
            configuration.extenderPort = extenderPort
        }
        configuration.extenderPrefix = try checkedExtenderPrefix()
        configuration.extenderOptions = try extenderOptions()
        if let kubernetes {
            do {
                configuration.kubernetes =
                    kubernetes == "in-cluster"
                    ? try .inCluster(environment: ProcessInfo.processInfo.environment)
                    : try .kubeconfig(path: kubernetes, context: kubeContext)
            } catch let error as KubernetesConfigurationError {
                printError("--kubernetes: \(error.description)")
                throw ExitCode.failure
            }
        } else if kubeContext != nil {
            printError("--kube-context: expected --kubernetes KUBECONFIG with it, found no --kubernetes")
            throw ExitCode.validationFailure
        }
        (configuration.tls, configuration.extenderTLS) = try tls.files(extender: extenderListen != nil)
        configuration.tokensPath = tokens
        configuration.keyPath = key
        configuration.workDirectory = workDirectory
        configuration.tick = tickSpan
        guard let poll = TimeSpan.parse(federationPoll), poll.seconds >= 0.05, poll.seconds <= 600 else {
            printError(
                "--federation-poll: expected a time between 50 ms and 10 min like \"1 s\", found \"\(federationPoll)\""
            )
            throw ExitCode.validationFailure
        }
        try applySiteAgents(to: &configuration)
        configuration.federationPollInterval = poll
        // A site that missed a few polls is not waited for when a round opens.
        configuration.federationLiveness = .seconds(max(3, poll.seconds * 5))
        var logger = Logger(label: "sovereign.serve")
        logger.logLevel = .info
        do {
            try await SovereignServer.run(
                configuration,
                logger: logger,
                onNotes: { notes in for note in notes { printError(note) } },
                onListening: { address in
                    FileHandle.standardOutput.write(Data("listening on \(address)\n".utf8))
                },
                onExtenderListening: { prefix in
                    FileHandle.standardOutput.write(Data("scheduler extender listening on \(prefix)\n".utf8))
                }
            )
        } catch let error as SpecError {
            printError(error.description)
            throw ExitCode.failure
        } catch let error as TokenFileError {
            printError(error.description)
            throw ExitCode.failure
        } catch let error as StoreError {
            printError(error.description)
            throw ExitCode.failure
        } catch let error as TLSFileError {
            printError(error.description)
            throw ExitCode.failure
        } catch let error as ConfigurationError {
            printError(error.description)
            throw ExitCode.failure
        }
    }

    /// `--db`: an SQLite file, or a PostgreSQL URL whose store the server opens in place of SQLite; an error
    /// naming the option (never the password) for any other URL.
    func applyDatabase(to configuration: inout ServerConfiguration) throws {
        guard PostgresLocation.isPostgres(db) else {
            if let scheme = db.range(of: "://") {
                printError(
                    "--db: expected an SQLite file or \(PostgresLocation.expected), found a \"\(db[..<scheme.lowerBound])\" URL"
                )
                throw ExitCode.validationFailure
            }
            return
        }
        let location: PostgresLocation
        do {
            location = try PostgresLocation.parse(db, environment: ProcessInfo.processInfo.environment)
        } catch {
            printError("--db: \(error.description)")
            throw ExitCode.validationFailure
        }
        if let warning = location.warning { printError("warning: \(warning)") }
        configuration.databasePath = location.database
        configuration.leaderLease = try checkedLeaderLease()
        configuration.openStore = {
            var logger = Logger(label: "sovereign.store")
            logger.logLevel = .warning
            return try PostgresControlStore(location: location, logger: logger)
        }
    }

    /// `--leader-lease`, or an error naming the option: the leader renews every third of it at its next tick,
    /// so it must last three ticks.
    func checkedLeaderLease() throws -> Duration {
        let least = max(1, 3 * (TimeSpan.parse(tick)?.seconds ?? 1))
        guard let lease = TimeSpan.parse(leaderLease), lease.seconds >= least, lease.seconds <= 600 else {
            printError(
                "--leader-lease: expected a time between \(least == least.rounded() ? "\(Int(least))" : "\(least)") s (three ticks) and 10 min like \"15 s\", found \"\(leaderLease)\""
            )
            throw ExitCode.validationFailure
        }
        return .milliseconds(Int64((lease.seconds * 1000).rounded()))
    }

    /// `--extender-prefix`, or an error naming the option.
    func checkedExtenderPrefix() throws -> String {
        guard extenderPrefix.hasPrefix("/"), !extenderPrefix.contains("?"), !extenderPrefix.contains(" ") else {
            printError("--extender-prefix: expected a path like /scheduler, found \"\(extenderPrefix)\"")
            throw ExitCode.validationFailure
        }
        return extenderPrefix
    }

    /// `--extender-unresolvable-as-failed` and `--extender-fill`, or an error naming the option.
    func extenderOptions() throws -> ExtenderOptions {
        guard let fill = FillPolicy(rawValue: extenderFill) else {
            let options = FillPolicy.allCases.map(\.rawValue).joined(separator: ", ")
            printError("--extender-fill: expected one of \(options), found \"\(extenderFill)\"")
            throw ExitCode.validationFailure
        }
        return ExtenderOptions(unresolvableAlsoFailed: extenderUnresolvableAsFailed, fill: fill)
    }

    /// `--site-agents` and `--agent-lease`, or an error naming the option.
    func applySiteAgents(to configuration: inout ServerConfiguration) throws {
        guard let lease = TimeSpan.parse(agentLease), lease.seconds >= 1, lease.seconds <= 3600 else {
            printError("--agent-lease: expected a time between 1 s and 1 h like \"30 s\", found \"\(agentLease)\"")
            throw ExitCode.validationFailure
        }
        configuration.agentLease = lease
        guard let quota = DataSize.parse(relayQuota), quota.bytes >= 1, quota.bytes < 9e18 else {
            printError("--relay-quota: expected a data size like \"1 TB\", found \"\(relayQuota.prefix(40))\"")
            throw ExitCode.validationFailure
        }
        configuration.relayQuota = Int64(quota.bytes)
        let names = (siteAgents ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if let bad = names.first(where: { !SpecNames.isObjectName($0) }) {
            printError("--site-agents: expected site names like \"nairobi-1\", comma-separated, found \"\(bad)\"")
            throw ExitCode.validationFailure
        }
        configuration.agentSites = Set(names)
        if let jurisdiction {
            guard jurisdiction.count == 2, jurisdiction.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                let found = jurisdiction.prefix(40)
                printError("--jurisdiction: expected an ISO 3166 country code like \"KE\", found \"\(found)\"")
                throw ExitCode.validationFailure
            }
            configuration.jurisdiction = jurisdiction
        }
    }
}

/// `sovereign supervise`: runs one attempt of a workload for the local executor (not for people).
struct Supervise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervise",
        abstract: "Run one attempt of a workload under supervision (started by `sovereign serve`).",
        shouldDisplay: false
    )

    @Option var lock: String
    @Option var status: String
    @Option(name: .customLong("pid-file")) var pidFile: String
    @Option var log: String
    @Option(name: .customLong("lease-file")) var leaseFile: String?
    @Option var grace: Double?
    @Argument(parsing: .postTerminator) var command: [String]

    func run() throws {
        guard !command.isEmpty else {
            printError("supervise: expected a command after --, found none")
            throw ExitCode.validationFailure
        }
        let lease = leaseFile.map { Supervisor.LeaseWatch(path: $0, graceSeconds: grace ?? 30) }
        let code = Supervisor.run(
            command: command,
            lock: lock,
            status: status,
            pidFile: pidFile,
            log: log,
            lease: lease
        )
        if code != 0 { throw ExitCode(code) }
    }
}
