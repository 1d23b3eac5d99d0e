public import SovereignModel

/// One thing a stress test takes away: a vendor, a designing or fabricating country, the operators that
/// answer to a country, a site, or a whole jurisdiction. Written on the command line as `KIND=VALUE`.
public struct Cut: Sendable, Hashable, CustomStringConvertible {
    /// What a cut names.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Every pool of accelerators this vendor sells (`NVIDIA`; case-insensitive).
        case vendor
        /// Every pool of accelerators designed in this country (`US`).
        case designer
        /// Every pool of accelerators fabricated in this country (`TW`); unknown fabs are not cut, and said so.
        case fabricator
        /// Every site whose operator is at home in this country or whose ultimate parent is.
        case operatorJurisdiction = "operator-jurisdiction"
        /// One site, by name.
        case site
        /// Every site in this country, or in any country of this JurisdictionGroup.
        case jurisdiction

        /// What the value must look like, for error messages.
        var expectation: String {
            switch self {
            case .vendor: return "a vendor name like NVIDIA"
            case .designer, .fabricator, .operatorJurisdiction: return "an ISO 3166-1 alpha-2 country code like US"
            case .site: return "a site name like nairobi-1"
            case .jurisdiction: return "a country code like KE or a JurisdictionGroup name like EAC"
            }
        }
    }

    /// What it names.
    public let kind: Kind
    /// The vendor, country, site or jurisdiction.
    public let value: String

    /// Makes a cut.
    public init(_ kind: Kind, _ value: String) {
        self.kind = kind
        self.value = value
    }

    /// `vendor=NVIDIA`.
    public var description: String { "\(kind.rawValue)=\(value)" }

    /// Parses `KIND=VALUE`.
    ///
    /// - Throws: ``CutError`` saying what was expected and what was found.
    public static func parse(_ text: String) throws(CutError) -> Cut {
        let kinds = Kind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let equals = text.firstIndex(of: "=") else {
            throw CutError("--cut: expected KIND=VALUE with KIND one of \(kinds), found \"\(text)\"")
        }
        let key = String(text[..<equals])
        let value = String(text[text.index(after: equals)...])
        guard let kind = Kind(rawValue: key) else {
            throw CutError("--cut: expected KIND=VALUE with KIND one of \(kinds), found \"\(key)\" in \"\(text)\"")
        }
        guard !value.isEmpty else {
            throw CutError("--cut \(key)=: expected \(kind.expectation), found nothing")
        }
        switch kind {
        case .designer, .fabricator, .operatorJurisdiction:
            guard value.count == 2, value == value.uppercased(), Country.named(value) != nil else {
                throw CutError("--cut \(key)=: expected \(kind.expectation), found \"\(value)\"")
            }
        case .jurisdiction:
            let country = value.count == 2 && value == value.uppercased() && Country.named(value) != nil
            let group = value.allSatisfy { ($0.isUppercase && $0.isASCII) || $0.isNumber || $0 == "-" }
            guard country || group else {
                throw CutError("--cut \(key)=: expected \(kind.expectation), found \"\(value)\"")
            }
        case .site:
            let ok = value.allSatisfy { ($0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "-" || $0 == "." }
            guard ok else { throw CutError("--cut \(key)=: expected \(kind.expectation), found \"\(value)\"") }
        case .vendor:
            break
        }
        return Cut(kind, value)
    }

    /// Checks what only the fleet can tell: a jurisdiction that is not a country must be one of its groups.
    ///
    /// - Throws: ``CutError`` naming the groups the fleet has.
    public func check(against fleet: Fleet) throws(CutError) {
        guard kind == .jurisdiction, Country.named(value) == nil || value.count != 2 else { return }
        guard fleet.group(named: value) != nil else {
            let groups = fleet.groups.map(\.name)
            throw CutError(
                "--cut jurisdiction=: expected a country code or one of this fleet's JurisdictionGroups "
                    + "(\(groups.isEmpty ? "it declares none" : groups.joined(separator: ", "))), found \"\(value)\""
            )
        }
    }

    /// Whether the cut takes away this whole site.
    func removes(_ site: Site, in fleet: Fleet) -> Bool {
        switch kind {
        case .site: return site.name == value
        case .jurisdiction: return fleet.countries(of: value).contains(site.jurisdiction)
        case .operatorJurisdiction:
            return site.operator.jurisdiction == value || site.operator.parentJurisdiction == value
        case .vendor, .designer, .fabricator: return false
        }
    }

    /// Whether the cut takes away this pool (its site stays unless every pool goes).
    func removes(_ pool: AcceleratorPool, in fleet: Fleet) -> Bool {
        guard let model = fleet.catalog[pool.accelerator] else { return false }
        switch kind {
        case .vendor: return model.vendor.lowercased() == value.lowercased()
        case .designer: return model.designedIn == value
        case .fabricator: return model.fabricatedIn == value
        case .site, .jurisdiction, .operatorJurisdiction: return false
        }
    }

    /// Why the cut takes nothing away: what the fleet has instead.
    func namesNothing(in fleet: Fleet) -> String {
        func present(_ values: [String]) -> String { Array(Set(values)).sorted().joined(separator: ", ") }
        let models = fleet.sites.flatMap(\.pools).compactMap { fleet.catalog[$0.accelerator] }
        switch kind {
        case .vendor:
            return "no accelerator in this fleet is sold by \(value) (vendors: \(present(models.map(\.vendor))))"
        case .designer:
            return
                "no accelerator in this fleet is designed in \(value) (designers: \(present(models.map(\.designedIn))))"
        case .fabricator:
            let unknown = models.contains { $0.fabricatedIn == nil } ? "; some fabs unknown" : ""
            return "no accelerator in this fleet is known to be fabricated in \(value) "
                + "(fabricators: \(present(models.compactMap(\.fabricatedIn)))\(unknown))"
        case .operatorJurisdiction:
            let ops = fleet.sites.flatMap {
                [$0.operator.jurisdiction] + ($0.operator.parentJurisdiction.map { [$0] } ?? [])
            }
            return "no operator in this fleet is at home in \(value) or has its parent there "
                + "(operators answer to \(present(ops)))"
        case .site:
            return "this fleet has no site \(value) (sites: \(Format.list(fleet.sites.map(\.name).sorted(), limit: 8)))"
        case .jurisdiction:
            return "no site of this fleet is in \(value) (sites are in \(present(fleet.sites.map(\.jurisdiction))))"
        }
    }
}

/// A `--cut` that cannot be read.
public struct CutError: Error, Sendable, CustomStringConvertible {
    /// What was expected and what was found, naming the flag.
    public let description: String

    init(_ description: String) { self.description = description }
}
