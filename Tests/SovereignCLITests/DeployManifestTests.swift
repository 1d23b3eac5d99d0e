import ArgumentParser
import Foundation
import SovereignCLI
import SovereignModel
import SovereignTesting
import Testing
import Yams

/// `deploy/kubernetes/`: the manifests fit together and with the code (ports, prefix, verbs, the fleet).
struct DeployManifestTests {
    static let directory = Fixtures.repositoryRoot.appendingPathComponent("deploy/kubernetes")

    /// Every document of every manifest, by kind and name.
    static func documents() throws -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".yaml") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for case let document as [String: Any] in try Yams.load_all(yaml: text) {
                let kind = try #require(document["kind"] as? String, "\(file): a document without kind")
                #expect(document["apiVersion"] is String, "\(file): \(kind) without apiVersion")
                let name = try #require((document["metadata"] as? [String: Any])?["name"] as? String)
                #expect(out["\(kind)/\(name)"] == nil, "\(kind)/\(name) declared twice")
                out["\(kind)/\(name)"] = document
            }
        }
        return out
    }

    static func container(_ deployment: [String: Any]?) throws -> [String: Any] {
        let spec = try #require((deployment?["spec"] as? [String: Any])?["template"] as? [String: Any])
        let containers = try #require((spec["spec"] as? [String: Any])?["containers"] as? [[String: Any]])
        return try #require(containers.first)
    }

    @Test func theSchedulerCallsTheExtenderWhereSovereignListens() throws {
        let documents = try Self.documents()
        // Sovereign's own arguments parse as `sovereign serve` would parse them.
        let sovereign = try Self.container(documents["Deployment/sovereign"])
        let args = try #require(sovereign["args"] as? [String])
        let command = try Sovereign.parseAsRoot(args)
        #expect(String(describing: type(of: command)) == "Serve")
        let extenderListen = try #require(args.first { $0.hasPrefix("--extender-listen=") })
        let port = try #require(Int(extenderListen.split(separator: ":").last!))
        let prefix = try #require(args.first { $0.hasPrefix("--extender-prefix=") }).split(separator: "=")[1]
        #expect(args.contains("--kubernetes=in-cluster"))
        // The Service exposes that port, named as the probe uses it.
        let service = try #require(documents["Service/sovereign"]?["spec"] as? [String: Any])
        let ports = try #require(service["ports"] as? [[String: Any]])
        let extenderPort = try #require(ports.first { $0["name"] as? String == "extender" })
        #expect(extenderPort["port"] as? Int == port)
        // kube-scheduler's configuration points there, with the verbs the extender answers.
        let configMap = try #require(documents["ConfigMap/sovereign-scheduler-config"]?["data"] as? [String: String])
        let text = try #require(configMap["config.yaml"])
        let configuration = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(configuration["apiVersion"] as? String == "kubescheduler.config.k8s.io/v1")
        #expect(configuration["kind"] as? String == "KubeSchedulerConfiguration")
        let extenders = try #require(configuration["extenders"] as? [[String: Any]])
        #expect(extenders.count == 1)
        let extender = extenders[0]
        #expect(extender["urlPrefix"] as? String == "https://sovereign.sovereign-system.svc:\(port)\(prefix)")
        // Over HTTPS both ways: kube-scheduler verifies Sovereign and presents the client certificate that
        // Sovereign's --extender-client-ca requires, all from the Secrets tls.yaml issues.
        #expect(extender["enableHTTPS"] as? Bool == true)
        #expect(args.contains("--tls-cert=/etc/sovereign/tls/tls.crt"))
        #expect(args.contains("--tls-key=/etc/sovereign/tls/tls.key"))
        #expect(args.contains("--extender-client-ca=/etc/sovereign/tls/ca.crt"))
        let tlsConfig = try #require(extender["tlsConfig"] as? [String: String])
        #expect(
            tlsConfig == [
                "caFile": "/etc/sovereign-scheduler/tls/ca.crt",
                "certFile": "/etc/sovereign-scheduler/tls/tls.crt",
                "keyFile": "/etc/sovereign-scheduler/tls/tls.key",
            ]
        )
        for (deployment, secret, certificate) in [
            ("sovereign", "sovereign-tls", "server auth"),
            ("sovereign-scheduler", "sovereign-scheduler-tls", "client auth"),
        ] {
            let spec = try #require(
                ((documents["Deployment/\(deployment)"]?["spec"] as? [String: Any])?["template"] as? [String: Any])?[
                    "spec"
                ] as? [String: Any]
            )
            let volumes = try #require(spec["volumes"] as? [[String: Any]])
            #expect(
                volumes.contains { ($0["secret"] as? [String: Any])?["secretName"] as? String == secret },
                "\(deployment)"
            )
            let issued = try #require(documents["Certificate/\(secret)"]?["spec"] as? [String: Any])
            #expect(issued["secretName"] as? String == secret)
            #expect(issued["usages"] as? [String] == [certificate])
        }
        let served = try #require(documents["Certificate/sovereign-tls"]?["spec"] as? [String: Any])
        #expect((served["dnsNames"] as? [String])?.contains("sovereign.sovereign-system.svc") == true)
        #expect(extender["filterVerb"] as? String == "filter")
        #expect(extender["prioritizeVerb"] as? String == "prioritize")
        #expect(extender["nodeCacheCapable"] as? Bool == true)
        #expect(extender["ignorable"] as? Bool == false)
        #expect((extender["weight"] as? Int).map { $0 > 0 } == true)
        #expect(extender["httpTimeout"] as? String == "2s")
        // Pods opt in by the profile's name, and the example pod does.
        let profiles = try #require(configuration["profiles"] as? [[String: Any]])
        let schedulerName = try #require(profiles.first?["schedulerName"] as? String)
        let pod = try #require(documents["Pod/ke-health-finetune"]?["spec"] as? [String: Any])
        #expect(pod["schedulerName"] as? String == schedulerName)
    }

    @Test func sovereignMayTouchNodesOnlyAsTheLabellerNeeds() throws {
        let documents = try Self.documents()
        let role = try #require(documents["ClusterRole/sovereign-node-labeller"]?["rules"] as? [[String: Any]])
        #expect(role.count == 1)
        #expect(role[0]["resources"] as? [String] == ["nodes"])
        #expect(Set(role[0]["verbs"] as? [String] ?? []) == ["get", "list", "watch", "patch"])
        let binding = try #require(documents["ClusterRoleBinding/sovereign-node-labeller"])
        let subject = try #require((binding["subjects"] as? [[String: Any]])?.first)
        let deployment = try #require(documents["Deployment/sovereign"]?["spec"] as? [String: Any])
        let template = try #require((deployment["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(subject["name"] as? String == template["serviceAccountName"] as? String)
    }

    @Test func theBundledFleetValidatesAndItsExamplePodIsPlaceable() throws {
        let documents = try Self.documents()
        let data = try #require(documents["ConfigMap/sovereign-fleet"]?["data"] as? [String: String])
        let fleet = try FleetLoader().load(sources: data.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        #expect(fleet.sites.map(\.name) == ["nairobi-1", "kampala-1"])
        let pod = try #require(documents["Pod/ke-health-finetune"]?["metadata"] as? [String: Any])
        let datasets = try #require((pod["annotations"] as? [String: String])?["sovereign.dev/datasets"])
        #expect(fleet.dataset(named: datasets)?.residency == ["KE"])
    }
}
