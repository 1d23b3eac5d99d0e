import ArgumentParser
import Foundation
import SovereignCLI
import Testing

/// `deploy/kubernetes/site-agent.yaml`: the agent's arguments parse, its site is the bundled fleet's, and its
/// rights are exactly what the Kubernetes executor calls, in its own namespace.
struct SiteAgentDeployTests {
    static func deployment() throws -> (documents: [String: [String: Any]], args: [String], namespace: String) {
        let documents = try DeployManifestTests.documents()
        let deployment = try #require(documents["Deployment/sovereign-site-agent"])
        let namespace = try #require((deployment["metadata"] as? [String: Any])?["namespace"] as? String)
        let args = try #require(try DeployManifestTests.container(deployment)["args"] as? [String])
        return (documents, args, namespace)
    }

    @Test func theAgentsArgumentsParseAsASiteAgentRunningJobs() throws {
        let (documents, args, namespace) = try Self.deployment()
        let command = try Sovereign.parseAsRoot(args)
        #expect(String(describing: type(of: command)) == "SiteAgentCommand")
        #expect(args.contains("--executor=kubernetes"))
        #expect(args.contains("--namespace=\(namespace)"))
        let site = try #require(args.first { $0.hasPrefix("--site=") }).dropFirst("--site=".count)
        let fleet = try #require(documents["ConfigMap/sovereign-fleet"]?["data"] as? [String: String])
        #expect(fleet.values.contains { $0.contains("metadata: {name: \(site)}") })
    }

    /// What each call of the executor needs: API group, resource, verb.
    static let calls: Set<String> = [
        "batch/jobs/create", "batch/jobs/get", "batch/jobs/list", "batch/jobs/delete",
        "/pods/get", "/pods/list", "/pods/delete", "/pods/deletecollection", "/pods/log/get",
        "/persistentvolumeclaims/create", "/persistentvolumeclaims/get", "/persistentvolumeclaims/list",
    ]

    @Test func itsRightsAreTheExecutorsCallsInItsNamespaceOnly() throws {
        let (documents, _, namespace) = try Self.deployment()
        let role = try #require(documents["Role/sovereign-site-agent"])
        #expect((role["metadata"] as? [String: Any])?["namespace"] as? String == namespace)
        var granted: Set<String> = []
        for rule in try #require(role["rules"] as? [[String: Any]]) {
            for group in rule["apiGroups"] as? [String] ?? [] {
                for resource in rule["resources"] as? [String] ?? [] {
                    for verb in rule["verbs"] as? [String] ?? [] { granted.insert("\(group)/\(resource)/\(verb)") }
                }
            }
        }
        #expect(granted == Self.calls)
        let binding = try #require(documents["RoleBinding/sovereign-site-agent"])
        #expect((binding["roleRef"] as? [String: Any])?["kind"] as? String == "Role")
        let subject = try #require((binding["subjects"] as? [[String: Any]])?.first)
        let deployment = try #require(documents["Deployment/sovereign-site-agent"]?["spec"] as? [String: Any])
        let pod = try #require((deployment["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(subject["name"] as? String == pod["serviceAccountName"] as? String)
        #expect(subject["namespace"] as? String == namespace)
        // Nothing cluster-wide names the agent.
        for (key, document) in documents where key.hasPrefix("ClusterRoleBinding/") {
            let subjects = document["subjects"] as? [[String: Any]] ?? []
            #expect(!subjects.contains { $0["name"] as? String == "sovereign-site-agent" }, "\(key)")
        }
    }
}
