import Foundation
import NIOHTTP1

/// The namespaced calls a site agent's Kubernetes executor makes: `batch/v1` Jobs, their pods (by label
/// selector), PersistentVolumeClaims and pod logs. Every error names the request, the status and what the
/// server said (``KubernetesAPIError``).
extension KubernetesClient {
    /// Creates a Job.
    ///
    /// - Parameters:
    ///   - job: The Job.
    ///   - namespace: Its namespace.
    /// - Returns: The Job as created.
    /// - Throws: ``KubernetesAPIError`` (``KubernetesAPIError/isConflict`` when one of that name exists).
    @discardableResult
    public func createJob(_ job: JobManifest, namespace: String) async throws -> KubernetesJob {
        try await create(job, path: Self.jobsPath(namespace), what: "Job")
    }

    /// Reads a Job.
    ///
    /// - Throws: ``KubernetesAPIError`` (``KubernetesAPIError/isNotFound`` when there is none).
    public func getJob(_ name: String, namespace: String) async throws -> KubernetesJob {
        let path = Self.jobsPath(namespace) + "/" + Self.percentEncode(name)
        let body = try await call(.GET, path: path, expected: "200 with a Job")
        return try decode(KubernetesJob.self, body, request: "GET \(path)", expected: "a Job")
    }

    /// Lists the Jobs whose labels match `labelSelector`, following `continue` tokens.
    ///
    /// - Throws: ``KubernetesAPIError`` or a transport error.
    public func listJobs(namespace: String, labelSelector: String) async throws -> [KubernetesJob] {
        try await listAll(
            KubernetesJob.self,
            path: Self.jobsPath(namespace),
            labelSelector: labelSelector,
            what: "JobList"
        )
    }

    /// Deletes a Job and, in the background, its pods (a Job deleted without a propagation policy orphans them).
    ///
    /// - Throws: ``KubernetesAPIError`` (``KubernetesAPIError/isNotFound`` when there is none).
    public func deleteJob(_ name: String, namespace: String) async throws {
        let path =
            Self.jobsPath(namespace) + "/" + Self.percentEncode(name)
            + Self.queryString([("propagationPolicy", "Background")])
        _ = try await call(.DELETE, path: path, accepting: [200, 202], expected: "200 or 202 with the deleted Job")
    }

    /// Lists the pods whose labels match `labelSelector`, following `continue` tokens.
    ///
    /// - Throws: ``KubernetesAPIError`` or a transport error.
    public func listPods(namespace: String, labelSelector: String) async throws -> [KubernetesPod] {
        try await listAll(
            KubernetesPod.self,
            path: Self.podsPath(namespace),
            labelSelector: labelSelector,
            what: "PodList"
        )
    }

    /// Deletes the pods whose labels match `labelSelector`, giving each `gracePeriodSeconds` between SIGTERM and
    /// SIGKILL (0: SIGKILL at once; `nil`: the pod's own `terminationGracePeriodSeconds`).
    ///
    /// - Throws: ``KubernetesAPIError`` or a transport error.
    public func deletePods(namespace: String, labelSelector: String, gracePeriodSeconds: Int?) async throws {
        var query = [("labelSelector", labelSelector)]
        if let gracePeriodSeconds { query.append(("gracePeriodSeconds", String(max(0, gracePeriodSeconds)))) }
        let path = Self.podsPath(namespace) + Self.queryString(query)
        _ = try await call(.DELETE, path: path, accepting: [200, 202], expected: "200 with the deleted pods")
    }

    /// Creates a PersistentVolumeClaim.
    ///
    /// - Throws: ``KubernetesAPIError`` (``KubernetesAPIError/isConflict`` when one of that name exists).
    @discardableResult
    public func createPersistentVolumeClaim(
        _ claim: PersistentVolumeClaimManifest,
        namespace: String
    ) async throws -> KubernetesPersistentVolumeClaim {
        try await create(claim, path: Self.claimsPath(namespace), what: "PersistentVolumeClaim")
    }

    /// Lists the PersistentVolumeClaims whose labels match `labelSelector`, following `continue` tokens.
    ///
    /// - Throws: ``KubernetesAPIError`` or a transport error.
    public func listPersistentVolumeClaims(
        namespace: String,
        labelSelector: String
    ) async throws -> [KubernetesPersistentVolumeClaim] {
        try await listAll(
            KubernetesPersistentVolumeClaim.self,
            path: Self.claimsPath(namespace),
            labelSelector: labelSelector,
            what: "PersistentVolumeClaimList"
        )
    }

    /// Reads a PersistentVolumeClaim.
    ///
    /// - Throws: ``KubernetesAPIError`` (``KubernetesAPIError/isNotFound`` when there is none).
    public func getPersistentVolumeClaim(
        _ name: String,
        namespace: String
    ) async throws
        -> KubernetesPersistentVolumeClaim
    {
        let path = Self.claimsPath(namespace) + "/" + Self.percentEncode(name)
        let body = try await call(.GET, path: path, expected: "200 with a PersistentVolumeClaim")
        return try decode(
            KubernetesPersistentVolumeClaim.self,
            body,
            request: "GET \(path)",
            expected: "a PersistentVolumeClaim"
        )
    }

    /// The last `tailLines` lines a pod's container wrote (`pods/log`).
    ///
    /// - Throws: ``KubernetesAPIError`` or a transport error.
    public func podLog(_ name: String, namespace: String, tailLines: Int) async throws -> String {
        let path =
            Self.podsPath(namespace) + "/" + Self.percentEncode(name) + "/log"
            + Self.queryString([("tailLines", String(max(1, tailLines)))])
        return String(decoding: try await call(.GET, path: path, expected: "200 with the log"), as: UTF8.self)
    }

    // MARK: Helpers

    static func jobsPath(_ namespace: String) -> String {
        "/apis/batch/v1/namespaces/\(percentEncode(namespace))/jobs"
    }

    static func podsPath(_ namespace: String) -> String { "/api/v1/namespaces/\(percentEncode(namespace))/pods" }

    static func claimsPath(_ namespace: String) -> String {
        "/api/v1/namespaces/\(percentEncode(namespace))/persistentvolumeclaims"
    }

    /// The request body of an object: its JSON with keys sorted.
    static func body(_ object: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(object))
    }

    /// POSTs an object to a collection; the server answers 201 (200 or 202 also mean created).
    func create<Read: Decodable>(_ object: some Encodable, path: String, what: String) async throws -> Read {
        let response = try await call(
            .POST,
            path: path,
            body: try Self.body(object),
            accepting: [200, 201, 202],
            expected: "201 with the created \(what)"
        )
        return try decode(Read.self, response, request: "POST \(path)", expected: "the created \(what)")
    }

    /// Every page of a list, in pages of ``pageSize``.
    func listAll<Item: Decodable>(
        _ item: Item.Type,
        path: String,
        labelSelector: String,
        what: String
    ) async throws
        -> [Item]
    {
        var items: [Item] = []
        var continueToken: String?
        repeat {
            var query = [("labelSelector", labelSelector), ("limit", String(Self.pageSize))]
            if let continueToken { query.append(("continue", continueToken)) }
            let page = path + Self.queryString(query)
            let body = try await call(.GET, path: page, expected: "200 with a \(what)")
            let list = try decode(WireList<Item>.self, body, request: "GET \(page)", expected: "a \(what)")
            items += list.items ?? []
            continueToken = list.metadata?.continue.flatMap { $0.isEmpty ? nil : $0 }
        } while continueToken != nil
        return items
    }
}
