import Foundation
import SovereignBase
import Yams

/// A YAML node being decoded, with the field path and file that diagnostics need.
///
/// Every accessor reports what it could not accept to the shared log and returns `nil`, so that a decoder
/// keeps going and every problem in every document is reported in one run.
struct SpecNode {
    let node: Node
    let path: String
    let file: String
    let log: DiagnosticLog

    var location: SourceLocation {
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    func child(_ node: Node, key: String) -> SpecNode {
        SpecNode(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file, log: log)
    }

    func element(_ node: Node, index: Int) -> SpecNode {
        SpecNode(node: node, path: "\(path)[\(index)]", file: file, log: log)
    }

    /// How the node reads in a diagnostic's "found" part.
    var foundDescription: String {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return "nothing" }
            return "\"\(scalar.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func report(_ rule: Diagnostic.Rule, expected: String, found: String? = nil) {
        log.report(rule, at: location, path: path, expected: expected, found: found ?? foundDescription)
    }

    // MARK: Structure

    /// The node as a mapping whose keys must be among `fields`; unknown keys are reported.
    func fields(_ what: String, allowed fields: [String]) -> SpecFields? {
        guard case .mapping(let mapping) = node else {
            report(.wrongType, expected: "a mapping of \(what) fields")
            return nil
        }
        var values: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                log.report(
                    .wrongType,
                    at: SpecNode(node: key, path: path, file: file, log: log).location,
                    path: path,
                    expected: "a field name",
                    found: "a \(key.mapping != nil ? "mapping" : "list") as key"
                )
                continue
            }
            guard fields.contains(name) else {
                let keyNode = child(key, key: name)
                log.report(
                    .unknownField,
                    at: keyNode.location,
                    path: keyNode.path,
                    expected: "a field of \(what) (\(fields.joined(separator: ", ")))",
                    found: "unknown field \"\(name)\""
                )
                continue
            }
            values[name] = (key, value)
        }
        return SpecFields(owner: self, what: what, values: values)
    }

    /// The node as a list; a single scalar is not promoted to a list.
    func list(of what: String) -> [SpecNode]? {
        guard case .sequence(let sequence) = node else {
            report(.wrongType, expected: "a list of \(what)")
            return nil
        }
        return sequence.enumerated().map { element($1, index: $0) }
    }

    // MARK: Scalars

    var scalarText: String? {
        guard case .scalar(let scalar) = node else { return nil }
        return scalar.string
    }

    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// A non-empty string scalar.
    func string(_ expected: String = "a string") -> String? {
        guard let text = scalarText, !isNull, !text.isEmpty else {
            report(.wrongType, expected: expected)
            return nil
        }
        return text
    }

    /// A string from a closed set of choices.
    func choice<T: RawRepresentable>(_ type: T.Type) -> T? where T: CaseIterable, T.RawValue == String {
        guard let text = scalarText, let value = T(rawValue: text) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            report(.badValue, expected: "one of \(options)")
            return nil
        }
        return value
    }

    /// A name following Kubernetes' DNS-1123 subdomain rule, or `pattern` when given.
    func name(_ expected: String = "a lowercase name (letters, digits, '-', '.')") -> String? {
        guard let text = string(expected) else { return nil }
        guard SpecNames.isObjectName(text) else {
            report(.badValue, expected: expected)
            return nil
        }
        return text
    }

    func bool() -> Bool? {
        switch scalarText {
        case "true", "True", "TRUE", "yes", "Yes": return true
        case "false", "False", "FALSE", "no", "No": return false
        default:
            report(.wrongType, expected: "true or false")
            return nil
        }
    }

    /// A whole number, optionally bounded.
    func integer(in range: ClosedRange<Int> = Int.min...Int.max, expected: String? = nil) -> Int? {
        let expectation = expected ?? (range == Int.min...Int.max ? "a whole number" : "a whole number in \(range)")
        guard let text = scalarText, let value = Int(text.replacingUnderscores()) else {
            report(.wrongType, expected: expectation)
            return nil
        }
        guard range.contains(value) else {
            report(.badValue, expected: expectation)
            return nil
        }
        return value
    }

    /// A plain number, optionally bounded.
    func number(in range: ClosedRange<Double>? = nil, expected: String = "a number") -> Double? {
        guard let text = scalarText, let value = Double(text.replacingUnderscores()), value.isFinite else {
            report(.wrongType, expected: expected)
            return nil
        }
        if let range, !range.contains(value) {
            report(.badValue, expected: expected)
            return nil
        }
        return value
    }

    /// A fraction written as a plain number or a percentage, within `range`.
    func fraction(in range: ClosedRange<Double>, expected: String) -> Double? {
        guard let text = scalarText, let value = Fraction.parse(text)?.value else {
            report(.wrongType, expected: expected)
            return nil
        }
        guard range.contains(value) else {
            report(.badValue, expected: expected)
            return nil
        }
        return value
    }

    /// A quantity with units, e.g. `1.2 MW`; `positive` rejects zero and negatives.
    func quantity<Q: PhysicalQuantity>(_ type: Q.Type, positive: Bool = false) -> Q? {
        guard let text = scalarText, !isNull, let value = Q.parse(text) else {
            report(.badQuantity, expected: Q.expectation)
            return nil
        }
        if positive, !(value.baseValue > 0) {
            report(.badValue, expected: "\(Q.expectation) above zero")
            return nil
        }
        if !positive, value.baseValue < 0, Q.self != Temperature.self {
            report(.badValue, expected: "\(Q.expectation), not negative")
            return nil
        }
        return value
    }

    func temperature() -> Temperature? {
        guard let text = scalarText, !isNull, let value = Temperature.parse(text) else {
            report(.badQuantity, expected: Temperature.expectation)
            return nil
        }
        return value
    }

    /// A large count such as `7B` parameters or `2B` tokens, above zero.
    func count(_ expected: String) -> Double? {
        guard let text = scalarText, !isNull, let value = CountText.parse(text) else {
            report(.badQuantity, expected: expected)
            return nil
        }
        guard value > 0 else {
            report(.badValue, expected: "\(expected) above zero")
            return nil
        }
        return value
    }

    /// An instant in ISO 8601 UTC, like `2026-03-02T06:00:00Z`.
    func instant() -> Date? {
        guard let text = scalarText, let seconds = ISO8601.parseEpochSeconds(Array(text.utf8)[...]) else {
            report(.badValue, expected: "a time in ISO 8601 UTC like \"2026-03-02T06:00:00Z\"")
            return nil
        }
        return Date(timeIntervalSince1970: seconds)
    }

    /// A list of strings (a single string is not accepted as a list).
    func strings(of what: String) -> [(String, SpecNode)]? {
        guard let items = list(of: what) else { return nil }
        return items.compactMap { item in item.string(what).map { ($0, item) } }
    }
}

/// The fields of one mapping, read by name; remembers nothing about unknown keys (already reported).
struct SpecFields {
    let owner: SpecNode
    let what: String
    let values: [String: (key: Node, value: Node)]

    /// The field if present (a `null` value counts as absent).
    subscript(_ name: String) -> SpecNode? {
        guard let entry = values[name] else { return nil }
        let child = owner.child(entry.value, key: name)
        return child.isNull ? nil : child
    }

    /// The field, reporting it as missing when absent.
    func required(_ name: String, _ expected: String) -> SpecNode? {
        if let node = self[name] { return node }
        owner.log.report(
            .missingField,
            at: owner.location,
            path: owner.path.isEmpty ? name : "\(owner.path).\(name)",
            expected: expected,
            found: "nothing"
        )
        return nil
    }

    func has(_ name: String) -> Bool { self[name] != nil }

    /// The names of the fields present, sorted.
    var keys: [String] { values.keys.sorted() }
}

/// Naming rules for objects.
package enum SpecNames {
    /// Kubernetes' DNS-1123 subdomain: at most 253 bytes of dot-separated labels, each of lowercase
    /// alphanumerics and '-', starting and ending alphanumeric (`[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.…)*`).
    /// So no name is empty, `.`, `..`, holds `/`, or has an empty label (`a..b`): every one is safe as a
    /// single path component.
    package static func isObjectName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        return bytes.split(separator: 0x2E, omittingEmptySubsequences: false).allSatisfy(isLabel)
    }

    /// One label of a DNS-1123 subdomain.
    private static func isLabel(_ label: ArraySlice<UInt8>) -> Bool {
        func alnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        guard let first = label.first, let last = label.last, alnum(first), alnum(last) else { return false }
        return label.allSatisfy { alnum($0) || $0 == 0x2D }
    }

    /// A Kubernetes label value: at most 63 of `[A-Za-z0-9_.-]`, alphanumeric at both ends.
    static func isLabelValue(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        func alnum(_ b: UInt8) -> Bool {
            (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
        }
        guard alnum(bytes.first!), alnum(bytes.last!) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == 0x2D || $0 == 0x2E || $0 == 0x5F }
    }

    /// A jurisdiction group: uppercase letters, digits and '-', at least 2 characters.
    static func isGroupName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.count <= 63, bytes.first! >= 0x41, bytes.first! <= 0x5A else { return false }
        return bytes.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}
