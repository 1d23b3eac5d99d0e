import Foundation
import SovereignKubernetes
import SovereignServer
import Synchronization

/// A namespace of a cluster in memory, for the Job executor: Jobs and claims as created, pods as the test sets
/// them, and every delete as asked.
final class FakeCluster: KubernetesJobsAPI, Sendable {
    struct Conflict: Error, CustomStringConvertible {
        let name: String
        var description: String { "POST: expected 201, got 409 AlreadyExists: \(name) exists" }
    }

    struct Unreachable: Error {}

    struct State {
        var jobs: [String: (manifest: JobManifest, read: KubernetesJob)] = [:]
        var pods: [KubernetesPod] = []
        var claims: [String: KubernetesPersistentVolumeClaim] = [:]
        var claimManifests: [PersistentVolumeClaimManifest] = []
        var podDeletes: [(selector: String, grace: Int?)] = []
        var jobDeletes: [String] = []
        var calls: [String] = []
        var failing = false
    }

    let state = Mutex(State())

    var calls: [String] { state.withLock { $0.calls } }
    var podDeletes: [(selector: String, grace: Int?)] { state.withLock { $0.podDeletes } }

    func createJob(_ job: JobManifest, namespace: String) async throws -> KubernetesJob {
        try state.withLock { s in
            s.calls.append("createJob \(job.metadata.name)")
            guard s.jobs[job.metadata.name] == nil else { throw Conflict(name: job.metadata.name) }
            let read = KubernetesJob(name: job.metadata.name, labels: job.metadata.labels, status: nil)
            s.jobs[job.metadata.name] = (job, read)
            return read
        }
    }

    func listJobs(namespace: String, labelSelector: String) async throws -> [KubernetesJob] {
        try state.withLock { s in
            s.calls.append("listJobs \(labelSelector)")
            if s.failing { throw Unreachable() }
            return s.jobs.values.map(\.read).filter { Self.matches($0.metadata.labels, labelSelector) }
        }
    }

    func deleteJob(_ name: String, namespace: String) async throws {
        state.withLock { s in
            s.calls.append("deleteJob \(name)")
            s.jobDeletes.append(name)
            s.jobs[name] = nil
        }
    }

    func listPods(namespace: String, labelSelector: String) async throws -> [KubernetesPod] {
        try state.withLock { s in
            s.calls.append("listPods \(labelSelector)")
            if s.failing { throw Unreachable() }
            return s.pods.filter { Self.matches($0.metadata.labels, labelSelector) }
        }
    }

    func deletePods(namespace: String, labelSelector: String, gracePeriodSeconds: Int?) async throws {
        state.withLock { s in
            s.calls.append("deletePods \(labelSelector)")
            s.podDeletes.append((labelSelector, gracePeriodSeconds))
        }
    }

    func createPersistentVolumeClaim(
        _ claim: PersistentVolumeClaimManifest,
        namespace: String
    ) async throws -> KubernetesPersistentVolumeClaim {
        try state.withLock { s in
            s.calls.append("createClaim \(claim.metadata.name)")
            guard s.claims[claim.metadata.name] == nil else { throw Conflict(name: claim.metadata.name) }
            let read = KubernetesPersistentVolumeClaim(
                metadata: ObjectMetadataRead(name: claim.metadata.name, labels: claim.metadata.labels),
                status: .init(phase: "Pending", capacity: nil)
            )
            s.claims[claim.metadata.name] = read
            s.claimManifests.append(claim)
            return read
        }
    }

    func listPersistentVolumeClaims(
        namespace: String,
        labelSelector: String
    ) async throws -> [KubernetesPersistentVolumeClaim] {
        state.withLock { s in
            s.calls.append("listClaims \(labelSelector)")
            return s.claims.values.filter { Self.matches($0.metadata.labels, labelSelector) }
        }
    }

    // MARK: Test controls

    /// The Job's pod, as the Job controller would make it (labels from the template), in `status`.
    func setPod(of job: String, _ status: KubernetesPod.Status?) {
        state.withLock { s in
            guard let labels = s.jobs[job]?.manifest.spec.template.metadata.labels else { return }
            s.pods.removeAll { $0.metadata.name == job + "-pod" }
            if let status {
                s.pods.append(
                    KubernetesPod(metadata: ObjectMetadataRead(name: job + "-pod", labels: labels), status: status)
                )
            }
        }
    }

    func setJobStatus(_ job: String, _ status: KubernetesJob.Status) {
        state.withLock { s in s.jobs[job]?.read.status = status }
    }

    func bindClaim(_ name: String, capacity: String) {
        state.withLock { s in s.claims[name]?.status = .init(phase: "Bound", capacity: ["storage": capacity]) }
    }

    func manifest(_ job: String) -> JobManifest? { state.withLock { $0.jobs[job]?.manifest } }

    /// Equality-based selectors (`k=v,k=v`), the only kind the executor writes.
    static func matches(_ labels: [String: String]?, _ selector: String) -> Bool {
        selector.split(separator: ",").allSatisfy { term in
            let parts = term.split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 && labels?[parts[0]] == parts[1]
        }
    }
}

/// JSON as a test reads it: an object's keys sorted.
enum ManifestJSON {
    static func object(_ value: some Encodable) throws -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }
}

/// A checker of JSON values against a schema in the subset of OpenAPI 3 (JSON Schema) the Kubernetes
/// definitions use: `type`, `properties` (others refused), `required`, `additionalProperties`, `items`, `$ref`,
/// `enum`, `pattern`, `maxLength`, `minimum`, `minItems` and the `int32`/`int64` formats.
struct OpenAPIChecker {
    let schemas: [String: Any]

    init(file: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        schemas = (root?["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
    }

    /// Every way `value` breaks the definition `name`, each as `path: what`.
    func problems(_ value: Any, against name: String) -> [String] {
        check(value, ["$ref": "#/components/schemas/" + name], path: "$")
    }

    func check(_ value: Any, _ schema: [String: Any], path: String) -> [String] {
        if let ref = schema["$ref"] as? String {
            let name = String(ref.dropFirst("#/components/schemas/".count))
            guard let target = schemas[name] as? [String: Any] else { return ["\(path): no definition \(name)"] }
            return check(value, target, path: path)
        }
        var found: [String] = []
        if let allowed = schema["enum"] as? [String], !allowed.contains(value as? String ?? "\u{0}") {
            found.append("\(path): \(value) is not one of \(allowed)")
        }
        switch schema["type"] as? String {
        case "object": found += checkObject(value, schema, path: path)
        case "array": found += checkArray(value, schema, path: path)
        case "string": found += checkString(value, schema, path: path)
        case "integer": found += checkInteger(value, schema, path: path)
        default: break
        }
        return found
    }

    func checkObject(_ value: Any, _ schema: [String: Any], path: String) -> [String] {
        guard let object = value as? [String: Any] else { return ["\(path): expected an object"] }
        var found: [String] = []
        for key in schema["required"] as? [String] ?? [] where object[key] == nil {
            found.append("\(path): missing required \(key)")
        }
        let properties = schema["properties"] as? [String: Any]
        for (key, member) in object.sorted(by: { $0.key < $1.key }) {
            if let property = properties?[key] as? [String: Any] {
                found += check(member, property, path: "\(path).\(key)")
            } else if let additional = schema["additionalProperties"] as? [String: Any] {
                found += check(member, additional, path: "\(path).\(key)")
            } else {
                found.append("\(path): unknown field \(key)")
            }
        }
        return found
    }

    func checkArray(_ value: Any, _ schema: [String: Any], path: String) -> [String] {
        guard let array = value as? [Any] else { return ["\(path): expected an array"] }
        var found: [String] = []
        if let least = schema["minItems"] as? Int, array.count < least {
            found.append("\(path): fewer than \(least) items")
        }
        if let items = schema["items"] as? [String: Any] {
            for (i, item) in array.enumerated() { found += check(item, items, path: "\(path)[\(i)]") }
        }
        return found
    }

    func checkString(_ value: Any, _ schema: [String: Any], path: String) -> [String] {
        guard let text = value as? String else { return ["\(path): expected a string"] }
        var found: [String] = []
        if let most = schema["maxLength"] as? Int, text.count > most { found.append("\(path): longer than \(most)") }
        if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
            found.append("\(path): \"\(text)\" does not match \(pattern)")
        }
        return found
    }

    func checkInteger(_ value: Any, _ schema: [String: Any], path: String) -> [String] {
        guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded()
        else { return ["\(path): expected an integer"] }
        let limit = schema["format"] as? String == "int32" ? Double(Int32.max) : Double(Int64.max)
        var found: [String] = []
        if number.doubleValue > limit { found.append("\(path): beyond \(schema["format"] ?? "int64")") }
        if let least = schema["minimum"] as? Double, number.doubleValue < least {
            found.append("\(path): below \(least)")
        }
        return found
    }
}
