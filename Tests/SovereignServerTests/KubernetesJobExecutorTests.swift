import Foundation
import Logging
import SovereignKubernetes
import SovereignModel
import SovereignServer
import SovereignTesting
import Synchronization
import Testing

/// The Kubernetes Job executor: the Job and claim it writes (field by field, and against the Kubernetes OpenAPI
/// definitions), how Jobs and pods map to observations, and stopping, killing and adopting.
struct KubernetesJobExecutorTests {
    static let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/kubernetes-openapi.json").path
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let settings = KubernetesAttemptJob.Settings(site: "nairobi-1", claimSize: "20Gi")
    static let placement = KubernetesPoolPlacement(
        resource: "nvidia.com/gpu",
        nodeSelectorTerms: [
            [
                .init(key: KubernetesLabels.site, in: ["nairobi-1"]),
                .init(key: KubernetesLabels.pool, in: ["h100"]),
            ]
        ]
    )
    static let run = Workload.Run(
        command: ["--epochs", "3"],
        image: "registry.example/health/train:1.4",
        environment: ["LR": "0.1"],
        gracePeriod: .seconds(90),
        maxAttempts: 3
    )

    static func attempt(
        _ number: Int = 2,
        id: Int64 = 41,
        resume: Bool = true,
        workload: String = "llm-7b"
    )
        -> AttemptRecord
    {
        var record = AttemptRecord(
            workload: workload,
            number: number,
            site: "nairobi-1",
            pool: "h100",
            accelerators: 8,
            resume: resume,
            startedAt: 0,
            logPath: "-"
        )
        record.id = id
        return record
    }

    static func executor(_ cluster: FakeCluster, tries: Int = 1) -> KubernetesJobExecutor {
        KubernetesJobExecutor(
            api: cluster,
            namespace: "sovereign",
            settings: settings,
            pools: ["h100": placement],
            retry: KubernetesRetryPolicy(initial: .milliseconds(1), maximum: .milliseconds(1)),
            tries: tries,
            logger: quiet
        )
    }

    // MARK: The Job and claim

    @Test func theJobCarriesWhatAnAPIServerRequires() throws {
        let objects = try KubernetesAttemptJob(
            Self.attempt(),
            run: Self.run,
            placement: Self.placement,
            settings: Self.settings
        )
        let job = try ManifestJSON.object(objects.job)
        #expect(job["apiVersion"] as? String == "batch/v1")
        #expect(job["kind"] as? String == "Job")
        let metadata = try #require(job["metadata"] as? [String: Any])
        #expect(metadata["name"] as? String == "sov-llm-7b-a2")
        let labels = try #require(metadata["labels"] as? [String: String])
        #expect(
            labels == [
                "app.kubernetes.io/managed-by": "sovereign-site-agent", "sovereign.dev/site": "nairobi-1",
                "sovereign.dev/workload": "llm-7b", "sovereign.dev/attempt": "2", "sovereign.dev/attempt-id": "41",
            ]
        )
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["backoffLimit"] as? Int == 0)
        let template = try #require(spec["template"] as? [String: Any])
        #expect((template["metadata"] as? [String: Any])?["labels"] as? [String: String] == labels)
        let pod = try #require(template["spec"] as? [String: Any])
        #expect(pod["restartPolicy"] as? String == "Never")
        #expect(pod["terminationGracePeriodSeconds"] as? Int == 90)
        let containers = try #require(pod["containers"] as? [[String: Any]])
        #expect(containers.count == 1)
        let container = containers[0]
        #expect(container["name"] as? String == "workload")
        #expect(container["image"] as? String == "registry.example/health/train:1.4")
        #expect(container["args"] as? [String] == ["--epochs", "3"])
        #expect(
            (container["resources"] as? [String: Any])?["limits"] as? [String: String] == ["nvidia.com/gpu": "8"]
        )
        #expect(
            container["volumeMounts"] as? [[String: String]] == [
                ["name": "checkpoint", "mountPath": "/sovereign/checkpoint"]
            ]
        )
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        #expect(volumes.first?["name"] as? String == "checkpoint")
        #expect(
            volumes.first?["persistentVolumeClaim"] as? [String: String] == ["claimName": "sov-llm-7b-checkpoint"]
        )
    }

    @Test func theContainerGetsTheSovereignEnvironment() throws {
        let objects = try KubernetesAttemptJob(
            Self.attempt(),
            run: Self.run,
            placement: Self.placement,
            settings: Self.settings
        )
        let env = objects.job.spec.template.spec.containers[0].env
        #expect(
            env.map { "\($0.name)=\($0.value)" } == [
                "LR=0.1", "SOVEREIGN_ACCELERATORS=8", "SOVEREIGN_ATTEMPT=2",
                "SOVEREIGN_CHECKPOINT_DIR=/sovereign/checkpoint", "SOVEREIGN_RESUME=1", "SOVEREIGN_SITE=nairobi-1",
                "SOVEREIGN_WORKLOAD=llm-7b",
            ]
        )
        let fresh = try KubernetesAttemptJob(
            Self.attempt(resume: false),
            run: Self.run,
            placement: Self.placement,
            settings: Self.settings
        )
        #expect(!fresh.job.spec.template.spec.containers[0].env.contains { $0.name == "SOVEREIGN_RESUME" })
    }

    @Test func theNodeAffinityPicksThePoolsNodes() throws {
        let objects = try KubernetesAttemptJob(
            Self.attempt(),
            run: Self.run,
            placement: Self.placement,
            settings: Self.settings
        )
        let pod = try ManifestJSON.object(objects.job.spec.template.spec)
        let affinity = try #require(pod["affinity"] as? [String: Any])
        let node = try #require(affinity["nodeAffinity"] as? [String: Any])
        let required = try #require(node["requiredDuringSchedulingIgnoredDuringExecution"] as? [String: Any])
        let terms = try #require(required["nodeSelectorTerms"] as? [[String: Any]])
        let expressions = try #require(terms.first?["matchExpressions"] as? [[String: Any]])
        #expect(expressions.map { $0["key"] as? String } == ["sovereign.dev/site", "sovereign.dev/pool"])
        #expect(expressions.map { $0["operator"] as? String } == ["In", "In"])
        #expect(expressions.map { $0["values"] as? [String] } == [["nairobi-1"], ["h100"]])
    }

    @Test func theClaimCarriesWhatAnAPIServerRequires() throws {
        let objects = try KubernetesAttemptJob(
            Self.attempt(),
            run: Self.run,
            placement: Self.placement,
            settings: Self.settings
        )
        let claim = try ManifestJSON.object(objects.claim)
        #expect(claim["apiVersion"] as? String == "v1")
        #expect(claim["kind"] as? String == "PersistentVolumeClaim")
        #expect((claim["metadata"] as? [String: Any])?["name"] as? String == "sov-llm-7b-checkpoint")
        let spec = try #require(claim["spec"] as? [String: Any])
        #expect(spec["accessModes"] as? [String] == ["ReadWriteOnce"])
        #expect((spec["resources"] as? [String: Any])?["requests"] as? [String: String] == ["storage": "20Gi"])
        #expect(spec["storageClassName"] == nil)
    }

    static let variants: [(String, KubernetesPoolPlacement?, Workload.Run)] = [
        ("accelerators and affinity", placement, run),
        ("no device plugin, no affinity", KubernetesPoolPlacement(resource: nil, nodeSelectorTerms: []), run),
        (
            "the image's own command",
            placement,
            Workload.Run(
                command: [],
                image: "python:3.12",
                environment: [:],
                gracePeriod: .seconds(0.5),
                maxAttempts: 1
            )
        ),
    ]

    @Test(arguments: variants)
    func theManifestsValidateAgainstTheKubernetesDefinitions(
        _ name: String,
        _ placement: KubernetesPoolPlacement?,
        _ run: Workload.Run
    ) throws {
        let checker = try OpenAPIChecker(file: Self.schema)
        let long = Self.attempt(workload: String(repeating: "very-long-workload-name.", count: 8) + "x")
        for attempt in [Self.attempt(), long] {
            let objects = try KubernetesAttemptJob(attempt, run: run, placement: placement, settings: Self.settings)
            #expect(checker.problems(try ManifestJSON.object(objects.job), against: "io.k8s.api.batch.v1.Job") == [])
            #expect(
                checker.problems(
                    try ManifestJSON.object(objects.claim),
                    against: "io.k8s.api.core.v1.PersistentVolumeClaim"
                ) == []
            )
        }
    }

    @Test func theCheckerRefusesWhatAnAPIServerWould() throws {
        let checker = try OpenAPIChecker(file: Self.schema)
        let objects = try KubernetesAttemptJob(
            Self.attempt(),
            run: Self.run,
            placement: Self.placement,
            settings: Self.settings
        )
        var job = try ManifestJSON.object(objects.job)
        job["kind"] = "Jobs"
        var spec = job["spec"] as? [String: Any] ?? [:]
        spec["backoffLimits"] = 0
        job["spec"] = spec
        #expect(
            checker.problems(job, against: "io.k8s.api.batch.v1.Job") == [
                "$.kind: Jobs is not one of [\"Job\"]", "$.spec: unknown field backoffLimits",
            ]
        )
    }

    @Test func namesAreDNSLabelsEvenForLongWorkloads() {
        let long = String(repeating: "abcdefghij.", count: 10) + "end"
        let name = KubernetesAttemptJob.jobName(workload: long, number: 12)
        #expect(name.utf8.count <= 63)
        #expect(name.hasPrefix("sov-abcdefghij-abcdefghij-"))
        #expect(name.hasSuffix("-a12"))
        #expect(name == KubernetesAttemptJob.jobName(workload: long, number: 12))
        #expect(name != KubernetesAttemptJob.jobName(workload: long + "2", number: 12))
        #expect(
            KubernetesAttemptJob.jobName(workload: "a.b", number: 1)
                != KubernetesAttemptJob.jobName(workload: "a-b", number: 1)
        )
    }

    @Test func anAttemptWithoutAnImageOrAPoolIsRefused() {
        let processOnly = Workload.Run(command: ["python3"], environment: [:], gracePeriod: .seconds(1), maxAttempts: 1)
        #expect {
            try KubernetesAttemptJob(
                Self.attempt(),
                run: processOnly,
                placement: Self.placement,
                settings: Self.settings
            )
        } throws: {
            "\($0)" == "llm-7b: expected run.image (a Kubernetes site runs containers), found only run.command"
        }
        #expect {
            try KubernetesAttemptJob(Self.attempt(), run: Self.run, placement: nil, settings: Self.settings)
        } throws: {
            "\($0)"
                == "llm-7b: expected pool h100 in the fleet the agent was given for site nairobi-1 (--fleet), found no such pool"
        }
    }

    @Test func poolsArePlacedByVendorAndTopology() throws {
        let fleet = try Fixtures.load(
            Fixtures.constantFleet.replacingOnce(
                "  jurisdiction: KE\n",
                with: "  jurisdiction: KE\n  kubernetes: {region: ke-east, zones: [ke-east-1a, ke-east-1b]}\n"
            ).replacingOnce("count: 64, perNode: 8}", with: "count: 64, perNode: 8, kubernetes: {zone: ke-east-1a}}")
        )
        let site = try #require(fleet.site(named: "nairobi-1"))
        let table = KubernetesPoolPlacement.table(site: site, catalog: fleet.catalog)
        let first = try #require(table[site.pools[0].name])
        #expect(
            first.resource
                == KubernetesPoolPlacement.deviceResource(
                    vendor: fleet.catalog[site.pools[0].accelerator]?.vendor ?? ""
                )
        )
        #expect(first.nodeSelectorTerms.count == 2)
        #expect(first.nodeSelectorTerms[1].map(\.key) == [KubernetesLabels.region, KubernetesLabels.zone])
        #expect(first.nodeSelectorTerms[1].map(\.values) == [["ke-east"], ["ke-east-1a"]])
        #expect(table[site.pools[1].name]?.nodeSelectorTerms.count == 1)
        #expect(KubernetesPoolPlacement.deviceResource(vendor: "NVIDIA") == "nvidia.com/gpu")
        #expect(KubernetesPoolPlacement.deviceResource(vendor: "AMD") == "amd.com/gpu")
        #expect(KubernetesPoolPlacement.deviceResource(vendor: "Intel") == "habana.ai/gaudi")
        #expect(KubernetesPoolPlacement.deviceResource(vendor: "Huawei") == "huawei.com/Ascend910")
        #expect(KubernetesPoolPlacement.deviceResource(vendor: "Generic") == nil)
    }

    // MARK: Status

    static func pod(
        _ phase: String,
        reason: String? = nil,
        message: String? = nil,
        terminated: KubernetesPod.Terminated? = nil,
        waiting: String? = nil
    ) -> KubernetesPod {
        KubernetesPod(
            metadata: ObjectMetadataRead(name: "p", labels: [:]),
            status: .init(
                phase: phase,
                reason: reason,
                message: message,
                containerStatuses: [
                    .init(
                        name: "workload",
                        state: .init(waiting: waiting.map { .init(reason: $0, message: "bad") }, terminated: terminated)
                    )
                ]
            )
        )
    }

    static let job = KubernetesJob(name: "sov-llm-7b-a2", labels: [:], status: nil)

    static func ended(exit: Int32? = nil, reason: String? = nil, refused: String? = nil) -> AttemptObservation {
        var status = ExitStatus(exit: exit, refused: refused)
        status.reason = reason
        return .ended(status)
    }

    static let statuses: [(String, KubernetesJob?, [KubernetesPod], AttemptObservation)] = [
        ("pending", job, [pod("Pending", waiting: "ContainerCreating")], .running),
        ("running", job, [pod("Running")], .running),
        ("succeeded", job, [pod("Succeeded", terminated: .init(exitCode: 0, reason: "Completed"))], ended(exit: 0)),
        ("failed with its code", job, [pod("Failed", terminated: .init(exitCode: 3, reason: "Error"))], ended(exit: 3)),
        (
            "OOM-killed", job, [pod("Failed", terminated: .init(exitCode: 137, reason: "OOMKilled"))],
            ended(exit: 137, reason: "OOMKilled")
        ),
        (
            "evicted", job, [pod("Failed", reason: "Evicted", message: "The node was low on resource: memory.")],
            ended(reason: "Evicted: The node was low on resource: memory.")
        ),
        (
            "deadline", job, [pod("Failed", reason: "DeadlineExceeded", message: "Pod was active too long")],
            ended(reason: "DeadlineExceeded: Pod was active too long")
        ),
        ("bad image", job, [pod("Pending", waiting: "InvalidImageName")], ended(refused: "InvalidImageName: bad")),
        ("no pod yet", job, [], .running),
        (
            "pod deleted, Job failed",
            KubernetesJob(
                name: "j",
                labels: [:],
                status: .init(
                    failed: 1,
                    conditions: [.init(type: "Failed", status: "True", reason: "BackoffLimitExceeded")]
                )
            ),
            [],
            ended(reason: "BackoffLimitExceeded")
        ),
        (
            "pod gone, Job complete",
            KubernetesJob(
                name: "j",
                labels: [:],
                status: .init(succeeded: 1, conditions: [.init(type: "Complete", status: "True")])
            ),
            [],
            ended(exit: 0)
        ),
        ("nothing", nil, [], .gone),
    ]

    @Test(arguments: statuses)
    func statusMapping(_ name: String, _ job: KubernetesJob?, _ pods: [KubernetesPod], _ expected: AttemptObservation) {
        #expect(KubernetesAttemptStatus.observe(job: job, pods: pods) == expected)
    }

    // MARK: The executor

    @Test func startCreatesTheClaimOnceAndTheJobIdempotently() async throws {
        let cluster = FakeCluster()
        let executor = Self.executor(cluster)
        let handle = try await executor.start(Self.attempt(), run: Self.run)
        #expect(handle == AttemptHandle("sov-llm-7b-a2"))
        #expect(try await executor.start(Self.attempt(), run: Self.run) == handle)
        _ = try await executor.start(Self.attempt(3, id: 42), run: Self.run)
        #expect(cluster.state.withLock { $0.claimManifests.map(\.metadata.name) } == ["sov-llm-7b-checkpoint"])
        #expect(cluster.state.withLock { $0.jobs.keys.sorted() } == ["sov-llm-7b-a2", "sov-llm-7b-a3"])
        // A Job of that name that is another attempt's (another store's id) is not taken for this one.
        await #expect(throws: FakeCluster.Conflict.self) {
            try await executor.start(Self.attempt(3, id: 7), run: Self.run)
        }
    }

    @Test func observeMapsEachAttemptFromOneListOfJobsAndOneOfPods() async throws {
        let cluster = FakeCluster()
        let executor = Self.executor(cluster)
        let a = Self.attempt(1, id: 1)
        let b = Self.attempt(2, id: 2)
        _ = try await executor.start(a, run: Self.run)
        _ = try await executor.start(b, run: Self.run)
        cluster.setPod(of: "sov-llm-7b-a1", .init(phase: "Running"))
        cluster.setPod(
            of: "sov-llm-7b-a2",
            .init(
                phase: "Failed",
                containerStatuses: [
                    .init(name: "workload", state: .init(terminated: .init(exitCode: 137, reason: "OOMKilled")))
                ]
            )
        )
        let before = cluster.calls.count
        let observed = await executor.observe([a, b, Self.attempt(9, id: 9)])
        #expect(observed == [.running, Self.ended(exit: 137, reason: "OOMKilled"), .gone])
        #expect(cluster.calls.dropFirst(before).map { $0.split(separator: " ")[0] } == ["listJobs", "listPods"])
    }

    @Test func pauseDeletesThePodWithItsGracePeriodAndKillWithNone() async throws {
        let cluster = FakeCluster()
        let executor = Self.executor(cluster)
        _ = try await executor.start(Self.attempt(), run: Self.run)
        await executor.signal(Self.attempt(), .stop)
        await executor.signal(Self.attempt(), .kill)
        let selector =
            "app.kubernetes.io/managed-by=sovereign-site-agent,sovereign.dev/site=nairobi-1,sovereign.dev/attempt-id=41,"
            + "sovereign.dev/workload=llm-7b"
        #expect(cluster.podDeletes.map(\.selector) == [selector, selector])
        // No grace period given: the pod's own terminationGracePeriodSeconds, the workload's 90 s.
        #expect(cluster.podDeletes.map(\.grace) == [nil, 0])
        #expect(cluster.manifest("sov-llm-7b-a2")?.spec.template.spec.terminationGracePeriodSeconds == 90)
    }

    @Test func aRestartedAgentAdoptsItsJobsByTheirLabels() async throws {
        let cluster = FakeCluster()
        let a = Self.attempt(1, id: 1)
        let b = Self.attempt(2, id: 2)
        _ = try await Self.executor(cluster).start(a, run: Self.run)
        _ = try await Self.executor(cluster).start(b, run: Self.run)
        cluster.setPod(of: "sov-llm-7b-a1", .init(phase: "Running"))
        cluster.setJobStatus(
            "sov-llm-7b-a2",
            .init(succeeded: 1, conditions: [.init(type: "Complete", status: "True")])
        )
        let restarted = Self.executor(cluster)
        #expect(await restarted.adopt([a, b]) == [.running, Self.ended(exit: 0)])
    }

    @Test func anUnreachableClusterLeavesAttemptsRunning() async throws {
        let cluster = FakeCluster()
        let executor = Self.executor(cluster, tries: 2)
        _ = try await executor.start(Self.attempt(), run: Self.run)
        cluster.state.withLock { $0.failing = true }
        #expect(await executor.observe([Self.attempt()]) == [.running])
        #expect(cluster.calls.filter { $0.hasPrefix("listJobs") }.count == 2)
    }

    @Test func aJobWhosePodCanNeverStartIsRemoved() async throws {
        let cluster = FakeCluster()
        let executor = Self.executor(cluster)
        _ = try await executor.start(Self.attempt(), run: Self.run)
        cluster.setPod(
            of: "sov-llm-7b-a2",
            .init(
                phase: "Pending",
                containerStatuses: [
                    .init(name: "workload", state: .init(waiting: .init(reason: "InvalidImageName", message: "x")))
                ]
            )
        )
        #expect(await executor.observe([Self.attempt()]) == [Self.ended(refused: "InvalidImageName: x")])
        #expect(cluster.state.withLock { $0.jobDeletes } == ["sov-llm-7b-a2"])
    }

    @Test func checkpointBytesAreABoundClaimsCapacity() async throws {
        let cluster = FakeCluster()
        let executor = Self.executor(cluster)
        _ = try await executor.start(Self.attempt(), run: Self.run)
        _ = try await executor.start(Self.attempt(1, id: 5, workload: "other"), run: Self.run)
        cluster.bindClaim("sov-llm-7b-checkpoint", capacity: "20Gi")
        let bytes = await executor.checkpointBytes(of: [
            "llm-7b": "nairobi-1", "other": "nairobi-1", "none": "nairobi-1",
        ])
        #expect(bytes == ["llm-7b": 20 << 30, "other": 0, "none": 0])
        #expect(
            executor.logPath(workload: "llm-7b", attempt: 2, site: "nairobi-1")
                == "kubernetes:sovereign/job/sov-llm-7b-a2"
        )
    }

    static let quantities: [(String, Int64?)] = [
        ("20Gi", 20 << 30), ("1.5Ti", 1_649_267_441_664), ("500M", 500_000_000), ("1024", 1024), ("1e3", 1000),
        ("12Q", nil), ("-1Gi", nil),
    ]

    @Test(arguments: quantities)
    func quantity(_ text: String, _ bytes: Int64?) {
        #expect(KubernetesQuantity.bytes(text) == bytes)
    }
}
