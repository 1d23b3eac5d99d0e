import Foundation
import SovereignKubernetes
import Testing

/// The namespaced Job, pod, claim and log calls, against the fake API server: paths, queries, bodies, and
/// errors that name the request, the status and what the server said.
@Suite(.timeLimit(.minutes(5)))
struct ClientJobsTests {
    static let job = JobManifest(
        metadata: ObjectMetadata(name: "sov-llm-7b-a2", labels: ["sovereign.dev/attempt": "2"]),
        spec: .init(
            backoffLimit: 0,
            template: .init(
                labels: ["sovereign.dev/attempt": "2"],
                spec: PodSpec(
                    restartPolicy: "Never",
                    terminationGracePeriodSeconds: 60,
                    containers: [
                        .init(
                            name: "workload",
                            image: "python:3.12",
                            args: nil,
                            env: [.init(name: "SOVEREIGN_ATTEMPT", value: "2")],
                            resources: .init(limits: ["amd.com/gpu": "4"]),
                            volumeMounts: []
                        )
                    ],
                    volumes: [],
                    affinity: nil
                )
            )
        )
    )

    static func reply(_ json: String, status: Int = 200) -> FakeReply { .bytes(status: status, Array(json.utf8)) }

    static let createdJob =
        #"{"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"sov-llm-7b-a2","labels":{"sovereign.dev/attempt":"2"}},"status":{}}"#

    @Test func createJobPostsTheTypedBodyAndAccepts201() async throws {
        let server = FakeAPIServer(handler: { _, _ in Self.reply(Self.createdJob, status: 201) })
        try await server.serve { client in
            let created = try await client.createJob(Self.job, namespace: "sovereign")
            #expect(created.metadata.name == "sov-llm-7b-a2")
            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/apis/batch/v1/namespaces/sovereign/jobs")
            #expect(request.contentType == "application/json")
            #expect(
                request.body
                    == #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"labels":{"sovereign.dev/attempt":"2"},"name":"sov-llm-7b-a2"},"#
                    + #""spec":{"backoffLimit":0,"template":{"metadata":{"labels":{"sovereign.dev/attempt":"2"}},"spec":{"#
                    + #""containers":[{"env":[{"name":"SOVEREIGN_ATTEMPT","value":"2"}],"image":"python:3.12","name":"workload","#
                    + #""resources":{"limits":{"amd.com/gpu":"4"}},"volumeMounts":[]}],"restartPolicy":"Never","#
                    + #""terminationGracePeriodSeconds":60,"volumes":[]}}}}"#
            )
        }
    }

    @Test func aConflictSaysWhichRequestAndWhatTheServerSaid() async throws {
        let status =
            #"{"kind":"Status","status":"Failure","message":"jobs.batch \"sov-llm-7b-a2\" already exists","reason":"AlreadyExists","code":409}"#
        let server = FakeAPIServer(handler: { _, _ in Self.reply(status, status: 409) })
        try await server.serve { client in
            let error = try await #require(throws: KubernetesAPIError.self) {
                try await client.createJob(Self.job, namespace: "sovereign")
            }
            #expect(error.isConflict)
            #expect(
                error.description
                    == #"POST /apis/batch/v1/namespaces/sovereign/jobs: expected 201 with the created Job, got 409 AlreadyExists: jobs.batch "sov-llm-7b-a2" already exists"#
            )
        }
    }

    @Test func listsFollowContinueTokensWithTheSelector() async throws {
        let server = FakeAPIServer(handler: { request, _ in
            if request.query["continue"] == "next" {
                return Self.reply(
                    #"{"items":[{"metadata":{"name":"p2"},"status":{"phase":"Failed","reason":"Evicted"}}]}"#
                )
            }
            return Self.reply(
                #"{"metadata":{"continue":"next"},"items":[{"metadata":{"name":"p1","labels":{"a":"b"}},"status":{"phase":"Running","containerStatuses":[{"name":"workload","state":{"running":{}}}]}}]}"#
            )
        })
        try await server.serve { client in
            let pods = try await client.listPods(namespace: "sovereign", labelSelector: "a=b,c=d")
            #expect(pods.map(\.metadata.name) == ["p1", "p2"])
            #expect(pods.map { $0.status?.phase } == ["Running", "Failed"])
            #expect(pods[1].status?.reason == "Evicted")
            #expect(
                server.requests.map(\.path) == [
                    "/api/v1/namespaces/sovereign/pods", "/api/v1/namespaces/sovereign/pods",
                ]
            )
            #expect(server.requests[0].query == ["labelSelector": "a=b,c=d", "limit": "500"])
            #expect(server.requests[1].query == ["labelSelector": "a=b,c=d", "limit": "500", "continue": "next"])
        }
    }

    @Test func deletesCarryTheGracePeriodAndPropagation() async throws {
        let server = FakeAPIServer(handler: { _, index in
            Self.reply(#"{"kind":"Status","status":"Success"}"#, status: index == 0 ? 200 : 202)
        })
        try await server.serve { client in
            try await client.deletePods(
                namespace: "sovereign",
                labelSelector: "sovereign.dev/attempt-id=41",
                gracePeriodSeconds: 90
            )
            try await client.deleteJob("sov-llm-7b-a2", namespace: "sovereign")
            try await client.deletePods(namespace: "sovereign", labelSelector: "x=y", gracePeriodSeconds: nil)
            let requests = server.requests
            #expect(requests.map(\.method) == ["DELETE", "DELETE", "DELETE"])
            #expect(requests[0].path == "/api/v1/namespaces/sovereign/pods")
            #expect(requests[0].query == ["labelSelector": "sovereign.dev/attempt-id=41", "gracePeriodSeconds": "90"])
            #expect(requests[1].path == "/apis/batch/v1/namespaces/sovereign/jobs/sov-llm-7b-a2")
            #expect(requests[1].query == ["propagationPolicy": "Background"])
            #expect(requests[2].query == ["labelSelector": "x=y"])
        }
    }

    @Test func claimsAreCreatedAndRead() async throws {
        let claim = PersistentVolumeClaimManifest(
            metadata: ObjectMetadata(name: "sov-llm-7b-checkpoint", labels: [:]),
            storage: "50Gi",
            storageClassName: "fast"
        )
        let server = FakeAPIServer(handler: { request, _ in
            Self.reply(
                #"{"metadata":{"name":"sov-llm-7b-checkpoint"},"status":{"phase":"Bound","capacity":{"storage":"50Gi"}}}"#,
                status: request.method == "POST" ? 201 : 200
            )
        })
        try await server.serve { client in
            try await client.createPersistentVolumeClaim(claim, namespace: "ns")
            let read = try await client.getPersistentVolumeClaim("sov-llm-7b-checkpoint", namespace: "ns")
            #expect(read.status?.capacity?["storage"] == "50Gi")
            #expect(
                server.requests.map(\.path) == [
                    "/api/v1/namespaces/ns/persistentvolumeclaims",
                    "/api/v1/namespaces/ns/persistentvolumeclaims/sov-llm-7b-checkpoint",
                ]
            )
            #expect(
                server.requests[0].body
                    == #"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"labels":{},"name":"sov-llm-7b-checkpoint"},"#
                    + #""spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"50Gi"}},"storageClassName":"fast"}}"#
            )
        }
    }

    @Test func aPodsLogTailIsRead() async throws {
        let server = FakeAPIServer(handler: { _, _ in .bytes(status: 200, Array("step 41\nstep 42\n".utf8)) })
        try await server.serve { client in
            let tail = try await client.podLog("p1", namespace: "ns", tailLines: 2)
            #expect(tail == "step 41\nstep 42\n")
            #expect(server.requests[0].path == "/api/v1/namespaces/ns/pods/p1/log")
            #expect(server.requests[0].query == ["tailLines": "2"])
        }
    }

    @Test func getJobDecodesItsStatus() async throws {
        let server = FakeAPIServer(handler: { _, _ in
            Self.reply(
                #"{"metadata":{"name":"j"},"status":{"failed":1,"conditions":[{"type":"Failed","status":"True","reason":"DeadlineExceeded","message":"Job was active longer than specified deadline"}]}}"#
            )
        })
        try await server.serve { client in
            let job = try await client.getJob("j", namespace: "ns")
            #expect(job.status?.failed == 1)
            #expect(job.status?.conditions?.first?.reason == "DeadlineExceeded")
            #expect(server.requests[0].path == "/apis/batch/v1/namespaces/ns/jobs/j")
        }
    }
}
