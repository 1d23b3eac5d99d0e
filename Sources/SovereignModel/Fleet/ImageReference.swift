/// An OCI image reference as container runtimes and Kubernetes accept it: `[host[:port]/]path[:tag][@digest]`,
/// the grammar of the distribution project's `reference` package (what `docker pull` and containerd parse).
///
/// `registry.example:5000/team/train:1.4`, `python:3.12-slim`, `ghcr.io/org/job@sha256:<64 hex>`.
public enum ImageReference: Sendable {
    /// The longest repository name (host and path) the grammar allows.
    public static let maximumNameLength = 255

    /// What is wrong with `text` as an image reference, or `nil` when it is one.
    ///
    /// - Parameter text: The reference.
    /// - Returns: A short reason, like `the tag "v1!" has a character other than letters, digits, '_', '.', '-'`.
    public static func problem(in text: String) -> String? {
        var rest = Substring(text)
        if rest.isEmpty { return "it is empty" }
        if rest.contains(where: { $0.isWhitespace }) { return "it has a space" }
        if let at = rest.firstIndex(of: "@") {
            if let why = digestProblem(rest[rest.index(after: at)...]) { return why }
            rest = rest[..<at]
        }
        // A tag follows the last ':' that comes after the last '/' (a ':' before it is a registry's port).
        let lastSlash = rest.lastIndex(of: "/") ?? rest.startIndex
        if let colon = rest[lastSlash...].lastIndex(of: ":") {
            if let why = tagProblem(rest[rest.index(after: colon)...]) { return why }
            rest = rest[..<colon]
        }
        if rest.count > maximumNameLength { return "the name is longer than \(maximumNameLength) characters" }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, let first = components.first, isRegistryHost(first) {
            if let why = hostProblem(first) { return why }
            components.removeFirst()
        }
        for component in components {
            if let why = pathComponentProblem(component) { return why }
        }
        return nil
    }

    /// Whether a first component names a registry rather than a path: it has a '.' or a ':', is
    /// `localhost`, or has an uppercase letter (which a path may not), as the reference grammar decides.
    static func isRegistryHost(_ component: Substring) -> Bool {
        component.contains(".") || component.contains(":") || component == "localhost"
            || component.contains(where: \.isUppercase)
    }

    static func hostProblem(_ host: Substring) -> String? {
        let parts = host.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[1].isEmpty || !parts[1].allSatisfy(\.isASCIIDigit) {
            return "the registry port \"\(parts[1])\" is not a number"
        }
        for label in parts[0].split(separator: ".", omittingEmptySubsequences: false) {
            let ok =
                !label.isEmpty && label.allSatisfy { $0.isASCIIAlphanumeric || $0 == "-" }
                && label.first != "-" && label.last != "-"
            if !ok { return "the registry \"\(parts[0])\" is not a host name" }
        }
        return nil
    }

    /// `[a-z0-9]+` runs joined by `.`, `_`, `__` or a run of `-`.
    static func pathComponentProblem(_ component: Substring) -> String? {
        let why =
            "the path component \"\(component)\" is not lowercase letters and digits joined by '.', '_', '__' or '-'"
        guard let first = component.first, let last = component.last, isLowerAlphanumeric(first),
            isLowerAlphanumeric(last)
        else { return component.isEmpty ? "it has an empty path component" : why }
        var separator = ""
        for character in component {
            if isLowerAlphanumeric(character) {
                guard separator.isEmpty || [".", "_", "__"].contains(separator) || separator.allSatisfy({ $0 == "-" })
                else { return why }
                separator = ""
            } else if character == "." || character == "_" || character == "-" {
                separator.append(character)
            } else {
                return why
            }
        }
        return nil
    }

    /// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    static func tagProblem(_ tag: Substring) -> String? {
        guard let first = tag.first else { return "the tag after ':' is empty" }
        guard tag.count <= 128 else { return "the tag is longer than 128 characters" }
        let ok =
            (first.isASCIIAlphanumeric || first == "_")
            && tag.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" || $0 == "." || $0 == "-" }
        return ok ? nil : "the tag \"\(tag)\" is not letters, digits, '_', '.', '-' (not starting with '.' or '-')"
    }

    /// `ALGORITHM:HEX` with at least 32 hex digits (`sha256:` then 64).
    static func digestProblem(_ digest: Substring) -> String? {
        let parts = digest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let first = parts[0].first, first.isASCIILetter,
            parts[0].allSatisfy({ $0.isASCIIAlphanumeric || "+.-_".contains($0) })
        else { return "the digest \"\(digest)\" is not ALGORITHM:HEX" }
        let hex = parts[1]
        guard hex.count >= 32, hex.allSatisfy({ $0.isASCII && $0.isHexDigit }) else {
            return "the digest \"\(digest)\" has fewer than 32 hex digits after its algorithm"
        }
        if parts[0] == "sha256" && hex.count != 64 { return "the sha256 digest has \(hex.count) hex digits, not 64" }
        return nil
    }

    static func isLowerAlphanumeric(_ c: Character) -> Bool { c.isASCIIDigit || ("a"..."z").contains(c) }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    fileprivate var isASCIIAlphanumeric: Bool { isASCIIDigit || isASCIILetter }
}
