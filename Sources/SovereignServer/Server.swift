import Crypto
import Foundation
public import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle
public import SovereignKubernetes
import SovereignLedger
public import SovereignModel

/// Everything `sovereign serve` is started with.
public struct ServerConfiguration: Sendable {
    /// Spec files or directories of the fleet.
    public var specPaths: [String]
    /// The SQLite state database; with ``openStore``, only the prefix of the local files (key, tokens, work).
    public var databasePath: String
    /// Opens the state store in place of SQLite at ``databasePath`` (`--db postgres://...`).
    public var openStore: (@Sendable () throws -> any ControlStore)?
    /// Address and port to listen on (port 0: any free port, printed at start).
    public var host: String
    public var port: Int
    /// The tokens file; when nil, `<database>.tokens` is used and made with one operator token if missing.
    public var tokensPath: String?
    /// The Ed25519 checkpoint key; when nil, `<database>.key` (made with mode 0600 if missing).
    public var keyPath: String?
    /// Where workloads keep checkpoints, locks and logs; when nil, `<database>.workloads/`.
    public var workDirectory: String?
    /// Time between control-loop passes.
    public var tick: TimeSpan
    /// Least time between two signed checkpoints.
    public var checkpointInterval: TimeSpan
    /// A federated site that has not polled for this long is not counted on when a round opens.
    public var federationLiveness: TimeSpan = .seconds(10)
    /// How long an idle agent waits between polls.
    public var federationPollInterval: TimeSpan = .seconds(1)
    /// The kube-scheduler extender's own listener (no tokens; see ``ExtenderRoutes``): `nil` for none.
    public var extenderPort: Int?
    /// The extender's address (the API's host when nil).
    public var extenderHost: String?
    /// The extender's path prefix: kube-scheduler's `urlPrefix` ends with it.
    public var extenderPrefix = "/scheduler"
    /// How the extender shapes its answers for the scheduler's version (`--extender-unresolvable-as-failed`).
    public var extenderOptions = ExtenderOptions()
    /// The Kubernetes API to watch and label nodes through (`nil`: no node watch, no labels).
    public var kubernetes: KubernetesAPIConfiguration?
    /// The API's TLS (`--tls-cert`, `--tls-key`, `--client-ca`): HTTPS whenever set, plain HTTP when nil.
    public var tls: TLSFiles?
    /// The extender's TLS (its own files, or the API's: see `sovereign serve --help`); plain HTTP when nil.
    public var extenderTLS: TLSFiles?
    /// How often certificate files are checked for a renewal (SIGHUP reloads at once).
    public var tlsReloadInterval: Duration = .seconds(2)
    /// Sites whose work runs through their site agents (`sovereign site-agent`); every other site's work
    /// runs on the server's own machine.
    public var agentSites: Set<String> = []
    /// How long a site agent may go without a successful poll before it stops its work (the control plane
    /// reassigns the work after twice this).
    public var agentLease: TimeSpan = .seconds(30)
    /// The country the server runs in: checkpoints relayed between site agents pass through it, so a policy
    /// with `checkpointTransit: direct` keeps them out of the relay unless it is inside their residency.
    public var jurisdiction: String?
    /// The most sealed checkpoint bytes one source site may hold at the relay at once (`--relay-quota`).
    public var relayQuota: Int64 = CheckpointRelay.defaultQuota
    /// How long the leader lease lasts (`--leader-lease`): replicas on one PostgreSQL database elect their
    /// leader with it, and a follower takes over at most this long after the leader was last heard from.
    public var leaderLease: Duration = .seconds(15)

    /// Makes a configuration with the defaults of `sovereign serve`.
    public init(specPaths: [String], databasePath: String, host: String = "127.0.0.1", port: Int = 8080) {
        self.specPaths = specPaths
        self.databasePath = databasePath
        self.host = host
        self.port = port
        self.tick = .seconds(1)
        self.checkpointInterval = .seconds(10)
    }

    var resolvedTokensPath: String { tokensPath ?? databasePath + ".tokens" }
    var resolvedKeyPath: String { keyPath ?? databasePath + ".key" }
    /// The secret that keys token fingerprints, beside the signing key.
    var resolvedFingerprintKeyPath: String { resolvedKeyPath + ".hmac" }
    var resolvedWorkDirectory: String { workDirectory ?? databasePath + ".workloads" }
}

/// `sovereign serve`: the control plane behind its HTTP API, with the control loop as a service.
public enum SovereignServer: Sendable {
    /// The OpenAPI document of the API (also in the repository as `openapi.yaml`).
    public static var openAPIDocument: String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "" }
        return text
    }

    /// Loads the fleet with what it declares (what submitted workloads are checked against), from one decode.
    public static func loadFleet(_ paths: [String]) throws -> (Fleet, DeclaredFleet) {
        let files = try FleetLoader.specFiles(in: paths)
        var sources: [(file: String, text: String)] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw SpecError([
                    Diagnostic(
                        .unreadableFile,
                        at: SourceLocation(file: file, line: 1, column: 1),
                        path: "",
                        expected: "a readable file",
                        found: "it could not be read"
                    )
                ])
            }
            sources.append((file, String(decoding: data, as: UTF8.self)))
        }
        return try FleetLoader().loadDeclared(sources: sources)
    }

    /// Opens the state, the key and the tokens, and builds the control plane.
    ///
    /// - Returns: the control plane, the tokens and notes for the operator (never a secret).
    public static func prepare(
        _ configuration: ServerConfiguration,
        logger: Logger
    ) throws -> (plane: ControlPlane, federation: FederationCoordinator, tokens: TokenStore, notes: [String]) {
        var notes: [String] = []
        let (fleet, declared) = try loadFleet(configuration.specPaths)
        let store: any ControlStore = try configuration.openStore?() ?? openSQLite(configuration.databasePath)
        let origin =
            "sovereign/" + (URL(fileURLWithPath: configuration.databasePath).deletingPathExtension().lastPathComponent)
        let keyExisted = FileManager.default.fileExists(atPath: configuration.resolvedKeyPath)
        let signer = try LedgerKeyFile.loadOrCreate(at: configuration.resolvedKeyPath, name: origin)
        if !keyExisted { notes.append("checkpoint key: created \(configuration.resolvedKeyPath) (mode 0600)") }
        // The public half, for auditors and `sovereign ledger verify`.
        try LedgerKeyFile.writeVerifierKey(of: signer, to: configuration.resolvedKeyPath + ".pub")
        let fingerprintKeyPath = configuration.resolvedFingerprintKeyPath
        let fingerprintKeyExisted = FileManager.default.fileExists(atPath: fingerprintKeyPath)
        let fingerprintKey = try LedgerKeyFile.loadOrCreateSecret(at: fingerprintKeyPath)
        if !fingerprintKeyExisted { notes.append("token fingerprint key: created \(fingerprintKeyPath) (mode 0600)") }
        if configuration.tokensPath == nil, try TokenStore.createDefault(at: configuration.resolvedTokensPath) {
            notes.append("tokens: created \(configuration.resolvedTokensPath) with one operator token (mode 0600)")
        }
        let tokens = try TokenStore(
            contentsOf: configuration.resolvedTokensPath,
            sites: Set(fleet.sites.map(\.name)),
            fingerprintKey: SymmetricKey(data: fingerprintKey)
        )
        let workDirectory = URL(fileURLWithPath: configuration.resolvedWorkDirectory, isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        let (executor, agents) = try executors(configuration, fleet: fleet, workDirectory: workDirectory)
        let plane = try ControlPlane(
            fleet: fleet,
            declared: declared,
            store: store,
            executor: executor,
            agents: agents,
            signer: signer,
            origin: origin,
            logger: logger,
            checkpointInterval: configuration.checkpointInterval,
            lease: LeaderLease(duration: configuration.leaderLease)
        )
        let federation = FederationCoordinator(
            plane: plane,
            directory: URL(fileURLWithPath: configuration.databasePath + ".federation", isDirectory: true),
            logger: logger,
            liveness: configuration.federationLiveness,
            pollInterval: configuration.federationPollInterval
        )
        let runnable = fleet.workloads.filter { $0.run != nil }.count
        let federated = fleet.workloads.filter(ControlPlane.isCoordinated).count
        notes.append(
            "fleet: \(fleet.sites.count) sites, \(runnable) of \(fleet.workloads.count) declared workloads runnable here (run:), \(federated) federated"
        )
        return (plane, federation, tokens, notes)
    }

    /// The local process executor, and with `--site-agents` the site agents' executor in front of it.
    ///
    /// - Throws: ``ConfigurationError`` for a site the fleet does not have.
    static func executors(
        _ configuration: ServerConfiguration,
        fleet: Fleet,
        workDirectory: URL
    ) throws -> (any Executor, SiteAgentExecutor?) {
        let local = LocalProcessExecutor(directory: workDirectory)
        guard !configuration.agentSites.isEmpty else { return (local, nil) }
        let known = Set(fleet.sites.map(\.name))
        if let unknown = configuration.agentSites.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError(
                "--site-agents: expected sites of the fleet (\(known.sorted().joined(separator: ", "))), found \"\(unknown)\""
            )
        }
        let agents = SiteAgentExecutor(
            sites: configuration.agentSites,
            lease: configuration.agentLease,
            relay: CheckpointRelay(
                root: URL(fileURLWithPath: configuration.databasePath + ".relay"),
                quota: configuration.relayQuota
            ),
            jurisdiction: configuration.jurisdiction
        )
        return (SiteRoutedExecutor(local: local, agents: agents), agents)
    }

    /// The SQLite store at `path`, once no other server holds it.
    static func openSQLite(_ path: String) throws -> SQLiteControlStore {
        try lockDatabase(path)
        return try SQLiteControlStore(path: path)
    }

    /// Takes `DB.lock` for the life of the process: two servers on one database would each keep their own
    /// Merkle tree and sign roots the other's entries contradict.
    static func lockDatabase(_ path: String) throws {
        let lock = path + ".lock"
        let fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError(
                code: .database,
                message: "\(lock): cannot open the server lock: \(String(cString: strerror(errno)))"
            )
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError(
                code: .database,
                message: "\(path): expected no other server on this database, found one holding \(lock)"
            )
        }
        // Held until the process exits: the descriptor is deliberately never closed.
    }

    /// The router with every API route.
    ///
    /// - Parameter certificateSites: with mutual TLS (a client CA), the sites a client certificate may act
    ///   for; nil without.
    public static func router(
        plane: ControlPlane,
        federation: FederationCoordinator,
        tokens: TokenStore,
        certificateSites: Set<String>? = nil
    ) -> Router<APIRequestContext> {
        router(
            plane: plane,
            federation: federation,
            tokens: tokens,
            metrics: ServerMetrics(),
            certificateSites: certificateSites
        )
    }

    static func router(
        plane: ControlPlane,
        federation: FederationCoordinator,
        tokens: TokenStore,
        metrics: ServerMetrics,
        certificateSites: Set<String>? = nil
    ) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        API.register(
            on: router,
            plane: plane,
            federation: federation,
            tokens: tokens,
            metrics: metrics,
            openAPI: openAPIDocument,
            certificateSites: certificateSites
        )
        ConsoleRoutes.register(on: router)
        return router
    }

    /// Runs the server until SIGTERM or SIGINT. Workloads keep running across a server restart: they
    /// live in their own sessions, and the next start adopts them.
    ///
    /// With ``ServerConfiguration/tls`` the API serves HTTPS only (and the extender with
    /// ``ServerConfiguration/extenderTLS``); certificates reload on SIGHUP and when their files change.
    ///
    /// - Parameters:
    ///   - onListening: told the API's address once it listens (e.g. to print it).
    ///   - onExtenderListening: told the scheduler extender's URL prefix once it listens.
    /// - Throws: ``TLSFileError`` before anything else starts when a certificate, key or CA is unusable;
    ///   what ``prepare(_:logger:)`` throws.
    public static func run(
        _ configuration: ServerConfiguration,
        logger: Logger,
        onNotes: @escaping @Sendable ([String]) -> Void,
        onListening: @escaping @Sendable (String) -> Void,
        onExtenderListening: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws {
        let apiTLS = try configuration.tls.map(ReloadingTLSContext.init(files:))
        let extenderTLS = try configuration.extenderTLS.map(ReloadingTLSContext.init(files:))
        let (plane, federation, tokens, notes) = try prepare(configuration, logger: logger)
        // With the extender on, the operator learns which kube-scheduler shows its reasons.
        onNotes(notes + (configuration.extenderPort == nil ? [] : [configuration.extenderOptions.startNote]))
        // One registry: the extender's calls are counted on the API's /metrics.
        let metrics = ServerMetrics()
        var services: [any Service] = [
            ControlLoop(plane: plane, federation: federation, tick: configuration.tick, logger: logger)
        ]
        let reloading = [apiTLS, extenderTLS].compactMap { $0 }
        if !reloading.isEmpty {
            services.append(
                await TLSReloader(contexts: reloading, interval: configuration.tlsReloadInterval, logger: logger)
            )
        }
        services += try await extenderServices(
            configuration,
            plane: plane,
            metrics: metrics,
            tls: extenderTLS,
            logger: logger,
            onListening: onExtenderListening
        )
        let scheme = apiTLS == nil ? "http" : "https"
        let app = Application(
            router: router(
                plane: plane,
                federation: federation,
                tokens: tokens,
                metrics: metrics,
                certificateSites: configuration.tls?.clientCAFile == nil ? nil : Set(plane.fleet.sites.map(\.name))
            ),
            server: apiTLS.map { .http1(tls: $0) } ?? .http1(),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "sovereign"
            ),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                onListening("\(scheme)://\(configuration.host):\(port)")
            },
            logger: logger
        )
        try await app.runService()
    }

    /// The node watch and the extender's listener, when asked for.
    static func extenderServices(
        _ configuration: ServerConfiguration,
        plane: ControlPlane,
        metrics: ServerMetrics,
        tls: ReloadingTLSContext?,
        logger: Logger,
        onListening: @escaping @Sendable (String) -> Void
    ) async throws -> [any Service] {
        guard configuration.extenderPort != nil || configuration.kubernetes != nil else { return [] }
        var services: [any Service] = []
        let policy = ControlPlane.planningPolicy
        let extender = Extender(
            snapshot: ExtenderSnapshot(try await plane.controlSnapshot(), policy: policy),
            options: configuration.extenderOptions
        )
        await plane.observePlans { extender.update(ExtenderSnapshot($0, policy: policy)) }
        if let kubernetes = configuration.kubernetes {
            services.append(
                try await KubernetesNodes.make(
                    configuration: kubernetes,
                    extender: extender,
                    plane: plane,
                    logger: logger
                )
            )
        }
        guard let port = configuration.extenderPort else { return services }
        let host = configuration.extenderHost ?? configuration.host
        let scheme = tls == nil ? "http" : "https"
        let prefix = configuration.extenderPrefix
        services.append(
            ExtenderRoutes(extender: extender, prefix: prefix, metrics: metrics).service(
                host: host,
                port: port,
                tls: tls,
                logger: logger,
                onListening: { bound in onListening("\(scheme)://\(host):\(bound)\(prefix)") }
            )
        )
        return services
    }
}

/// The control loop as a service: at every tick the replica holds (or asks for) the leader lease; leading, it
/// reconciles (its first pass adopts or settles whatever ran before a restart or under the last leader) and
/// coordinates federated rounds, following, it keeps its ledger tree up to the store. At shutdown a leader signs
/// a last checkpoint and gives the lease up.
struct ControlLoop: Service {
    let plane: ControlPlane
    let federation: FederationCoordinator
    let tick: TimeSpan
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await pass()
            do {
                let nanoseconds = UInt64(tick.seconds * 1e9)
                try await cancelWhenGracefulShutdown { try await Task.sleep(nanoseconds: nanoseconds) }
            } catch {
                break
            }
        }
        await plane.stopAskedPasses()
        _ = try? await plane.signCheckpoint(force: true)
        await plane.releaseLease()
        // Open event streams end, so that they do not hold the server's graceful shutdown up.
        plane.events.close()
    }

    /// One tick's work, as leader or follower.
    func pass() async {
        let leads: Bool
        do {
            leads = try await plane.holdLease()
        } catch {
            logger.error("the leader lease could not be asked for", metadata: ["error": "\(error)"])
            leads = await plane.leads
        }
        do {
            try await leads ? plane.reconcile() : plane.follow()
        } catch {
            logger.error("reconcile failed", metadata: ["error": "\(error)"])
        }
        if leads { await federation.tick() }
    }
}

/// A `serve` option the fleet contradicts: which option, what it expected and what it found.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The whole message, beginning with the option.
    public let description: String

    init(_ description: String) { self.description = description }
}
