import Foundation
import SovereignModel

/// A directory with one entry per fleet object (a federated workload's models, a workload's checkpoints and
/// attempts), which no name can leave: the name must be a DNS-1123 name (so never empty, `.`, `..`, or
/// holding `/`), and the resolved path must still lie under the root.
struct NamedDirectory: Sendable {
    let root: URL

    /// The entry for `name` under the root.
    ///
    /// - Throws: ``ControlError`` (`invalidName`) when `name` is not a DNS-1123 name or would resolve outside the root.
    func child(_ name: String, field: String = "name") throws -> URL {
        guard SpecNames.isObjectName(name) else {
            throw ControlError(
                .invalidName,
                "expected a lowercase DNS-1123 name like \"nairobi-1\", found \"\(name.prefix(80))\"",
                field: field
            )
        }
        let base = root.standardizedFileURL.path
        let child = root.appendingPathComponent(name, isDirectory: true).standardizedFileURL
        guard child.path.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
            throw ControlError(
                .invalidName,
                "expected a name that stays inside its directory, found \"\(name)\"",
                field: field
            )
        }
        return child
    }
}
