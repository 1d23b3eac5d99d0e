import Foundation
import Yams

/// Reads spec files (YAML, Kubernetes-style documents) and their traces into a validated ``Fleet``.
///
/// Every problem in every file is collected and reported at once as a ``SpecError``.
public struct FleetLoader: Sendable {
    /// The `apiVersion` every document must carry.
    public static let apiVersion = "sovereign.dev/v1"

    /// The kinds of document the fleet language knows.
    public enum Kind: String, Sendable, CaseIterable {
        case Scenario, JurisdictionGroup, Site, Dataset, Workload, Policy, AcceleratorModel, SoftwareComponent, Model
    }

    /// Called as trace files finish loading, with how many are done and how many there are (from any thread).
    public typealias Progress = @Sendable (_ done: Int, _ total: Int) -> Void

    let progress: Progress?

    /// Makes a loader.
    ///
    /// - Parameter progress: told how trace loading advances, for a progress line on a terminal.
    public init(progress: Progress? = nil) {
        self.progress = progress
    }

    /// Expands paths into spec files: files as given, directories recursively (`*.yaml`, `*.yml`, sorted).
    ///
    /// - Throws: ``SpecError`` naming any path that does not exist.
    public static func specFiles(in paths: [String]) throws -> [String] {
        var files: [String] = []
        var problems: [Diagnostic] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                problems.append(
                    Diagnostic(
                        .unreadableFile,
                        at: SourceLocation(file: path, line: 1, column: 1),
                        path: "",
                        expected: "a spec file or a directory of them",
                        found: "no such file or directory"
                    )
                )
                continue
            }
            if !isDirectory.boolValue {
                files.append(path)
                continue
            }
            let found = directorySpecFiles(path)
            if found.isEmpty {
                problems.append(
                    Diagnostic(
                        .unreadableFile,
                        at: SourceLocation(file: path, line: 1, column: 1),
                        path: "",
                        expected: "a directory holding *.yaml or *.yml spec files",
                        found: "none"
                    )
                )
            }
            files += found
        }
        if !problems.isEmpty { throw SpecError(problems) }
        return files
    }

    /// The spec files under a directory, sorted, as kubectl reads a directory: entries whose name starts
    /// with a dot are skipped with everything under them, and a file reached by several names (a symlink
    /// and its target) is read once, under its first name in sorted order.
    ///
    /// A ConfigMap volume is laid out this way by the kubelet: the files live in a hidden timestamped
    /// directory (`..2026_12_04_10_00_00.123`), `..data` links to it, and each key is a symlink
    /// `fleet.yaml -> ..data/fleet.yaml`; only the visible symlinks are read, each followed once.
    static func directorySpecFiles(_ path: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return [] }
        var found: [String] = []
        for case let relative as String in enumerator {
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                enumerator.skipDescendants()
                continue
            }
            if relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") {
                found.append(path.hasSuffix("/") ? path + relative : path + "/" + relative)
            }
        }
        var seen: Set<String> = []
        return found.sorted().filter { seen.insert(URL(fileURLWithPath: $0).resolvingSymlinksInPath().path).inserted }
    }

    /// Loads and validates spec files or directories.
    ///
    /// - Parameter paths: files or directories (searched recursively for `*.yaml` and `*.yml`).
    /// - Returns: the validated fleet.
    /// - Throws: ``SpecError`` with every problem found.
    public func load(paths: [String]) throws -> Fleet {
        let files = try Self.specFiles(in: paths)
        var sources: [(String, String)] = []
        var problems: [Diagnostic] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                problems.append(
                    Diagnostic(
                        .unreadableFile,
                        at: SourceLocation(file: file, line: 1, column: 1),
                        path: "",
                        expected: "a readable file",
                        found: "it could not be read"
                    )
                )
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                problems.append(
                    Diagnostic(
                        .unreadableFile,
                        at: SourceLocation(file: file, line: 1, column: 1),
                        path: "",
                        expected: "UTF-8 text",
                        found: "bytes that are not UTF-8"
                    )
                )
                continue
            }
            sources.append((file, text))
        }
        do {
            let fleet = try load(sources: sources)
            if !problems.isEmpty { throw SpecError(problems) }
            return fleet
        } catch let error as SpecError {
            throw SpecError(problems + error.diagnostics)
        }
    }

    /// Loads and validates specs given as text; trace paths are resolved against each file's directory.
    ///
    /// - Parameter sources: `(file name, YAML text)` pairs.
    /// - Returns: the validated fleet.
    /// - Throws: ``SpecError`` with every problem found.
    public func load(sources: [(file: String, text: String)]) throws -> Fleet {
        try loadDeclared(sources: sources).fleet
    }

    /// Loads the fleet's own specs together with a submission from outside (an API request body), which
    /// may hold only documents of the given kinds.
    ///
    /// The submission's kinds are checked before anything in it or in the specs is decoded, so a submitted
    /// document can never make the loader touch the file system (only Sites name trace files), and a trace
    /// reference in the submission is refused without being opened.
    ///
    /// - Parameters:
    ///   - sources: the fleet's own `(file name, YAML text)` pairs, trusted to name trace files.
    ///   - submission: the submitted text and the name diagnostics give it (like `request body`).
    ///   - kinds: the kinds a submission may carry.
    /// - Returns: the fleet with the submitted documents in it.
    /// - Throws: ``SpecError`` with every problem found: first only the kinds refused, if any.
    public func load(
        sources: [(file: String, text: String)],
        submission: (file: String, text: String),
        kinds: Set<Kind>
    ) throws -> Fleet {
        let log = DiagnosticLog()
        let submitted = try Self.admitted(submission, kinds: kinds, log: log)
        let documents = Self.parseDocuments(sources, log: log) + submitted
        return try decode(documents, log: log, untrustedFiles: [submission.file])
    }

    /// Loads and validates the fleet's own specs, as ``load(sources:)``, with what they declare: what submitted
    /// workloads are checked against (``decodeSubmission(_:against:)``), from the same decode.
    ///
    /// - Parameter sources: the fleet's `(file name, YAML text)` pairs.
    /// - Throws: ``SpecError`` with every problem found.
    public func loadDeclared(
        sources: [(file: String, text: String)]
    ) throws -> (fleet: Fleet, declared: DeclaredFleet) {
        let log = DiagnosticLog()
        let decoder = FleetDecoder(log: log, progress: progress)
        let fleet = decoder.decode(Self.parseDocuments(sources, log: log))
        guard log.isEmpty, let fleet, let declared = decoder.declared else { throw SpecError(log.diagnostics) }
        return (fleet, declared)
    }

    /// Decodes a submission from outside (an API request body) that may hold only Workload documents, against
    /// what the fleet's own specs declare: every check and diagnostic ``load(sources:submission:kinds:)`` makes
    /// for a submitted Workload, without decoding the fleet's documents again, so its cost does not grow with
    /// the fleet. Its kinds are checked before anything in it is decoded.
    ///
    /// - Parameters:
    ///   - submission: the submitted text and the name diagnostics give it (like `request body`).
    ///   - fleet: the fleet's declarations, from ``loadDeclared(sources:)``.
    /// - Returns: the submitted workloads, in the order written.
    /// - Throws: ``SpecError`` with every problem found: first only the kinds refused, if any.
    /// - Complexity: O(the submission), independent of the fleet's sites, datasets and workloads.
    public static func decodeSubmission(
        _ submission: (file: String, text: String),
        against fleet: DeclaredFleet
    ) throws -> [Workload] {
        let log = DiagnosticLog()
        let documents = try admitted(submission, kinds: [.Workload], log: log)
        let decoder = FleetDecoder(log: log, untrustedFiles: [submission.file])
        guard let workloads = decoder.decodeSubmission(documents, against: fleet) else {
            throw SpecError(log.diagnostics)
        }
        return workloads
    }

    /// A submission's documents, parsed, once every one is of an admitted kind.
    ///
    /// - Throws: ``SpecError`` for text that is not YAML or a document of another kind.
    private static func admitted(
        _ submission: (file: String, text: String),
        kinds: Set<Kind>,
        log: DiagnosticLog
    ) throws -> [SpecDocument] {
        let submitted = parseDocuments([submission], log: log)
        for document in submitted { admit(document.root, kinds: kinds) }
        if !log.isEmpty { throw SpecError(log.diagnostics) }
        return submitted
    }

    private func decode(
        _ documents: [SpecDocument],
        log: DiagnosticLog,
        untrustedFiles: Set<String> = []
    ) throws
        -> Fleet
    {
        let decoder = FleetDecoder(
            log: log,
            progress: progress,
            untrustedFiles: untrustedFiles
        )
        let fleet = decoder.decode(documents)
        if !log.isEmpty { throw SpecError(log.diagnostics) }
        return fleet!
    }

    /// Reports a submitted document whose kind is not among `kinds`, reading nothing of it but `kind`.
    static func admit(_ root: SpecNode, kinds: Set<Kind>) {
        if root.isNull { return }  // an empty document between two `---`
        let names = kinds.map(\.rawValue).sorted().joined(separator: " or ")
        let expected = "a \(names) document (the fleet itself changes only in its spec files)"
        guard case .mapping(let mapping) = root.node else {
            root.report(.wrongType, expected: expected)
            return
        }
        guard let kindValue = mapping.first(where: { $0.key.scalar?.string == "kind" })?.value else {
            root.report(.missingField, expected: "\(expected) with its kind", found: "no kind")
            return
        }
        let kindNode = root.child(kindValue, key: "kind")
        guard let text = kindNode.scalarText, let kind = Kind(rawValue: text), kinds.contains(kind) else {
            kindNode.report(.unknownKind, expected: expected)
            return
        }
    }

    /// Splits a YAML stream into documents, reporting syntax errors with their position.
    static func parseDocuments(_ sources: [(file: String, text: String)], log: DiagnosticLog) -> [SpecDocument] {
        sources.flatMap { parseDocuments(file: $0.file, text: $0.text, log: log) }
    }

    static func parseDocuments(file: String, text: String, log: DiagnosticLog) -> [SpecDocument] {
        parseRoots(file: file, text: text, log: log).map {
            SpecDocument(root: SpecNode(node: $0, path: "", file: file, log: log))
        }
    }

    /// The YAML documents of one file, as parsed nodes.
    static func parseRoots(file: String, text: String, log: DiagnosticLog) -> [Node] {
        var documents: [Node] = []
        do {
            // Sovereign reads every scalar from its text, so no implicit tag resolution (regular expressions per scalar).
            let parser = try Parser(yaml: text, resolver: .basic)
            while let root = try parser.nextRoot() { documents.append(root) }
        } catch let error as YamlError {
            log.report(Self.diagnostic(for: error, file: file))
        } catch {
            log.report(
                .syntax,
                at: SourceLocation(file: file, line: 1, column: 1),
                path: "",
                expected: "YAML",
                found: "\(error)"
            )
        }
        return documents
    }

    static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let found = context.map { "\(problem) (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? problem
            return Diagnostic(.syntax, at: at(mark), path: "", expected: "valid YAML", found: found)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic(
                .syntax,
                at: at(context.mark),
                path: "",
                expected: "each field once per mapping",
                found: "repeated \(duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", "))"
            )
        case .reader(let problem, let offset, _, let yaml):
            var line = 1
            var column = 1
            if let offset {
                for byte in yaml.utf8.prefix(offset) {
                    if byte == 0x0A {
                        line += 1
                        column = 1
                    } else if byte & 0xC0 != 0x80 {
                        column += 1
                    }
                }
            }
            return Diagnostic(
                .syntax,
                at: SourceLocation(file: file, line: line, column: column),
                path: "",
                expected: "readable YAML text",
                found: problem
            )
        default:
            return Diagnostic(
                .syntax,
                at: SourceLocation(file: file, line: 1, column: 1),
                path: "",
                expected: "valid YAML",
                found: "\(error)"
            )
        }
    }
}

/// One YAML document of a spec file.
struct SpecDocument {
    let root: SpecNode
}
