public import Logging
public import SovereignKubernetes
public import SovereignModel

/// The Kubernetes API calls the Job executor makes (``KubernetesClient`` makes them over HTTP).
public protocol KubernetesJobsAPI: Sendable {
    /// Creates a Job.
    func createJob(_ job: JobManifest, namespace: String) async throws -> KubernetesJob
    /// Lists Jobs by label selector.
    func listJobs(namespace: String, labelSelector: String) async throws -> [KubernetesJob]
    /// Deletes a Job and, in the background, its pods.
    func deleteJob(_ name: String, namespace: String) async throws
    /// Lists pods by label selector.
    func listPods(namespace: String, labelSelector: String) async throws -> [KubernetesPod]
    /// Deletes pods by label selector, with a grace period (`nil`: the pod's own).
    func deletePods(namespace: String, labelSelector: String, gracePeriodSeconds: Int?) async throws
    /// Creates a PersistentVolumeClaim.
    func createPersistentVolumeClaim(
        _ claim: PersistentVolumeClaimManifest,
        namespace: String
    ) async throws -> KubernetesPersistentVolumeClaim
    /// Lists PersistentVolumeClaims by label selector.
    func listPersistentVolumeClaims(
        namespace: String,
        labelSelector: String
    ) async throws -> [KubernetesPersistentVolumeClaim]
}

extension KubernetesClient: KubernetesJobsAPI {}

/// Runs each attempt as a `batch/v1` Job in one namespace of a site's cluster (`site-agent --executor
/// kubernetes`). Its ``AttemptHandle`` is the Job's name.
///
/// Everything it knows is in the cluster: Jobs, pods and claims carry labels naming the site, the workload, the
/// attempt number and the attempt's id, so observing and adopting are one list of Jobs and one of pods by the
/// site's label selector. Kubernetes never retries (`backoffLimit: 0`): a failed attempt is Sovereign's to retry.
/// Stopping deletes the attempt's pod with its grace period (the pod's `terminationGracePeriodSeconds`, set to
/// the workload's): the container gets SIGTERM, checkpoints into its claim and exits, or gets SIGKILL when the
/// period runs out. Killing deletes it with a grace period of 0.
///
/// Checkpoints live in a PersistentVolumeClaim per workload, which the agent cannot look inside: for a workload
/// whose claim is bound it reports the claim's capacity as the checkpoint's bytes, an upper bound that tells the
/// control plane a checkpoint may be there (so it resumes the workload rather than starting it afresh, and the
/// workload finds in `SOVEREIGN_CHECKPOINT_DIR` whether there is anything to resume from).
public struct KubernetesJobExecutor: Executor {
    /// The cluster.
    public let api: any KubernetesJobsAPI
    /// The namespace of every object it makes.
    public let namespace: String
    /// Site, claim size and storage class.
    public let settings: KubernetesAttemptJob.Settings
    /// How each of the site's pools is placed.
    public let pools: [String: KubernetesPoolPlacement]
    /// How long to wait between tries of a failed list.
    public let retry: KubernetesRetryPolicy
    /// Tries of a list before an observation gives up (and says the attempts still run).
    public let tries: Int
    let logger: Logger

    /// Makes an executor.
    ///
    /// - Parameters:
    ///   - api: The cluster (a ``KubernetesClient``).
    ///   - namespace: Where its Jobs, pods and claims live.
    ///   - settings: The site and the claims' size and class.
    ///   - pools: Placements by pool name (``KubernetesPoolPlacement/table(site:catalog:)``).
    ///   - retry: Waits between tries of a failed call.
    ///   - tries: Tries of a list at each observation.
    ///   - logger: Where failures are logged.
    public init(
        api: any KubernetesJobsAPI,
        namespace: String,
        settings: KubernetesAttemptJob.Settings,
        pools: [String: KubernetesPoolPlacement],
        retry: KubernetesRetryPolicy = .standard,
        tries: Int = 3,
        logger: Logger
    ) {
        self.api = api
        self.namespace = namespace
        self.settings = settings
        self.pools = pools
        self.retry = retry
        self.tries = max(1, tries)
        self.logger = logger
    }

    /// Not a file: the Job whose pod's log `kubectl logs job/NAME -n NAMESPACE` shows.
    public func logPath(workload: String, attempt number: Int, site: String) -> String {
        "kubernetes:\(namespace)/job/\(KubernetesAttemptJob.jobName(workload: workload, number: number))"
    }

    public func start(_ attempt: AttemptRecord, run: Workload.Run) async throws -> AttemptHandle {
        let objects = try KubernetesAttemptJob(attempt, run: run, placement: pools[attempt.pool], settings: settings)
        try await ensureClaim(objects.claim)
        do {
            _ = try await api.createJob(objects.job, namespace: namespace)
        } catch {
            // Starting again after a crash finds the Job it made: that is this attempt, started.
            let mine = try? await api.listJobs(namespace: namespace, labelSelector: Self.selector(attempt, settings))
            guard mine?.contains(where: { $0.metadata.name == objects.job.metadata.name }) == true else { throw error }
        }
        return AttemptHandle(objects.job.metadata.name)
    }

    public func observe(_ attempts: [AttemptRecord]) async -> [AttemptObservation] {
        guard !attempts.isEmpty else { return [] }
        let selector = KubernetesAttemptJob.siteSelector(settings.site)
        guard
            let jobs = await listing("jobs", { try await api.listJobs(namespace: namespace, labelSelector: selector) }),
            let pods = await listing("pods", { try await api.listPods(namespace: namespace, labelSelector: selector) })
        else { return attempts.map { _ in .running } }
        let view = KubernetesClusterView(jobs: jobs, pods: pods)
        let observations = attempts.map(view.observe)
        await removeStuck(attempts, observations, view)
        return observations
    }

    /// What the attempts left running are doing: their Jobs and pods carry their labels, so adopting them is
    /// observing them.
    public func adopt(_ attempts: [AttemptRecord]) async -> [AttemptObservation] { await observe(attempts) }

    public func signal(_ attempt: AttemptRecord, _ signal: AttemptSignal) async {
        let grace: Int? = signal == .kill ? 0 : nil
        do {
            try await api.deletePods(
                namespace: namespace,
                labelSelector: Self.selector(attempt, settings),
                gracePeriodSeconds: grace
            )
        } catch {
            logger.warning(
                "cannot delete an attempt's pod",
                metadata: [
                    "workload.name": "\(attempt.workload)", "attempt.number": "\(attempt.number)", "error": "\(error)",
                ]
            )
        }
    }

    public func checkpointBytes(of workloads: [String: String]) async -> [String: Int64] {
        let selector = KubernetesAttemptJob.siteSelector(settings.site)
        let claims =
            await listing("persistentvolumeclaims") {
                try await api.listPersistentVolumeClaims(namespace: namespace, labelSelector: selector)
            } ?? []
        return Self.checkpointBytes(of: Array(workloads.keys), claims: claims)
    }

    /// The bytes reported for each workload: its bound claim's capacity, else 0.
    static func checkpointBytes(of workloads: [String], claims: [KubernetesPersistentVolumeClaim]) -> [String: Int64] {
        let byName = Dictionary(claims.map { ($0.metadata.name, $0) }) { first, _ in first }
        return Dictionary(
            uniqueKeysWithValues: workloads.map { workload in
                let claim = byName[KubernetesAttemptJob.claimName(workload)]
                guard claim?.status?.phase == "Bound", let size = claim?.status?.capacity?["storage"] else {
                    return (workload, Int64(0))
                }
                return (workload, KubernetesQuantity.bytes(size) ?? 0)
            }
        )
    }

    /// The selector of one attempt's Job and pod.
    static func selector(_ attempt: AttemptRecord, _ settings: KubernetesAttemptJob.Settings) -> String {
        KubernetesAttemptJob.siteSelector(settings.site) + ",\(KubernetesAttemptJob.attemptIDLabel)=\(attempt.id ?? 0),"
            + "\(KubernetesLabels.workload)=\(KubernetesAttemptJob.labelValue(attempt.workload))"
    }

    /// Creates the workload's claim unless it exists.
    func ensureClaim(_ claim: PersistentVolumeClaimManifest) async throws {
        do {
            _ = try await api.createPersistentVolumeClaim(claim, namespace: namespace)
        } catch {
            let selector = KubernetesAttemptJob.siteSelector(settings.site)
            let existing = try? await api.listPersistentVolumeClaims(namespace: namespace, labelSelector: selector)
            guard existing?.contains(where: { $0.metadata.name == claim.metadata.name }) == true else { throw error }
        }
    }

    /// A list, tried ``tries`` times with the retry policy's waits; `nil` (logged) when every try failed.
    func listing<Item>(_ what: String, _ call: () async throws -> [Item]) async -> [Item]? {
        for failures in 1...tries {
            do {
                return try await call()
            } catch {
                logger.warning("cannot list \(what)", metadata: ["k8s.namespace": "\(namespace)", "error": "\(error)"])
                guard failures < tries else { break }
                try? await Task.sleep(for: retry.delay(afterFailures: failures))
            }
        }
        return nil
    }

    /// Deletes the Jobs of attempts that ended because their pod can never start (a bad image name, a missing
    /// secret): nothing else would remove them.
    func removeStuck(
        _ attempts: [AttemptRecord],
        _ observations: [AttemptObservation],
        _ view: KubernetesClusterView
    )
        async
    {
        for (attempt, observation) in zip(attempts, observations) {
            guard case .ended(let status) = observation, status.refused != nil,
                let job = view.job(of: attempt)
            else { continue }
            do {
                try await api.deleteJob(job.metadata.name, namespace: namespace)
            } catch {
                logger.warning(
                    "cannot delete a stuck Job",
                    metadata: ["k8s.job": "\(job.metadata.name)", "error": "\(error)"]
                )
            }
        }
    }
}

/// The site's Jobs and pods as one list of each showed them, indexed by the attempt id label.
struct KubernetesClusterView {
    let jobs: [String: [KubernetesJob]]
    let pods: [String: [KubernetesPod]]

    init(jobs: [KubernetesJob], pods: [KubernetesPod]) {
        self.jobs = Dictionary(grouping: jobs) { $0.metadata.labels?[KubernetesAttemptJob.attemptIDLabel] ?? "" }
        self.pods = Dictionary(grouping: pods) { $0.metadata.labels?[KubernetesAttemptJob.attemptIDLabel] ?? "" }
    }

    /// The attempt's Job: its id's, of its name (a Job of the same name from another store is not this attempt's).
    func job(of attempt: AttemptRecord) -> KubernetesJob? {
        let name = KubernetesAttemptJob.jobName(workload: attempt.workload, number: attempt.number)
        return jobs[String(attempt.id ?? 0)]?.first { $0.metadata.name == name }
    }

    /// The attempt's pods: its id's, of its workload.
    func pods(of attempt: AttemptRecord) -> [KubernetesPod] {
        let workload = KubernetesAttemptJob.labelValue(attempt.workload)
        return (pods[String(attempt.id ?? 0)] ?? []).filter {
            $0.metadata.labels?[KubernetesLabels.workload] == workload
        }
    }

    func observe(_ attempt: AttemptRecord) -> AttemptObservation {
        KubernetesAttemptStatus.observe(job: job(of: attempt), pods: pods(of: attempt))
    }
}
