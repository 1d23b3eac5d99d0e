import Foundation
import SovereignModel
import SovereignTesting
import Testing
import Yams

/// The shipped deploy's fleet, mounted the way the kubelet mounts a ConfigMap volume, loads as `serve`
/// loads it (issue 17: hidden entries made the spec load twice and `serve` crash-looped).
struct ConfigMapVolumeTests {
    static let deploy = Fixtures.repositoryRoot.appendingPathComponent("deploy/kubernetes")

    /// Every document of the deploy manifests, by `Kind/name`.
    static func manifests() throws -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: deploy.path) where file.hasSuffix(".yaml") {
            let text = try String(contentsOf: deploy.appendingPathComponent(file), encoding: .utf8)
            for case let document as [String: Any] in try Yams.load_all(yaml: text) {
                let kind = try #require(document["kind"] as? String)
                let name = try #require((document["metadata"] as? [String: Any])?["name"] as? String)
                out["\(kind)/\(name)"] = document
            }
        }
        return out
    }

    /// Writes a ConfigMap's data as the kubelet's atomic writer does: the files in a hidden timestamped
    /// directory, `..data` linking to it, and one visible symlink per key through `..data`.
    static func mountConfigMap(_ data: [String: String], at directory: URL) throws {
        let manager = FileManager.default
        let stamped = "..2026_12_04_10_00_00.123456789"
        try manager.createDirectory(at: directory.appendingPathComponent(stamped), withIntermediateDirectories: true)
        for (key, text) in data {
            try Data(text.utf8).write(to: directory.appendingPathComponent(stamped).appendingPathComponent(key))
        }
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("..data").path,
            withDestinationPath: stamped
        )
        for key in data.keys {
            try manager.createSymbolicLink(
                atPath: directory.appendingPathComponent(key).path,
                withDestinationPath: "..data/\(key)"
            )
        }
    }

    @Test func theDeployedFleetLoadsFromAConfigMapVolumeLaidOutAsTheKubeletDoes() throws {
        let manifests = try Self.manifests()
        // Where the Deployment mounts the fleet ConfigMap, and that `serve` reads that directory.
        let deployment = try #require(manifests["Deployment/sovereign"]?["spec"] as? [String: Any])
        let pod = try #require((deployment["template"] as? [String: Any])?["spec"] as? [String: Any])
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        let fleetVolume = try #require(volumes.first { $0["configMap"] != nil })
        let configMapName = try #require((fleetVolume["configMap"] as? [String: Any])?["name"] as? String)
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
        let mountPath = try #require(
            mounts.first { $0["name"] as? String == fleetVolume["name"] as? String }?["mountPath"] as? String
        )
        let args = try #require(container["args"] as? [String])
        #expect(args.first == "serve")
        #expect(args.dropFirst().first == mountPath)
        let data = try #require(manifests["ConfigMap/\(configMapName)"]?["data"] as? [String: String])

        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("sovereign-configmap-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let mounted = root.appendingPathComponent("etc/sovereign/fleet")
        try Self.mountConfigMap(data, at: mounted)

        // Each key once, through its visible name; nothing under the hidden entries.
        let files = try FleetLoader.specFiles(in: [mounted.path])
        #expect(files == data.keys.sorted().map { mounted.path + "/" + $0 })
        let fleet = try FleetLoader().load(paths: [mounted.path])
        #expect(fleet.sites.map(\.name) == ["nairobi-1", "kampala-1"])
        // The same with a trailing slash, as an operator may type the path.
        #expect(try FleetLoader.specFiles(in: [mounted.path + "/"]).count == data.count)
    }

    @Test func aFileReachedByTwoNamesIsReadOnceAndHiddenFilesNotAtAll() throws {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("sovereign-specs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let manager = FileManager.default
        try manager.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let text =
            "apiVersion: sovereign.dev/v1\nkind: Scenario\nmetadata: {name: w}\nspec: {start: 2026-12-01T00:00:00Z, horizon: 1 d, step: 1 h}\n"
        try Data(text.utf8).write(to: root.appendingPathComponent("sub/a.yaml"))
        try Data(text.utf8).write(to: root.appendingPathComponent(".hidden.yaml"))
        try manager.createSymbolicLink(
            atPath: root.appendingPathComponent("b.yaml").path,
            withDestinationPath: "sub/a.yaml"
        )
        #expect(try FleetLoader.specFiles(in: [root.path]) == [root.path + "/b.yaml"])
    }
}
