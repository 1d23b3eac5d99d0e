/// A piece of software the fleet's AI stack depends on: what the sovereignty assessment's software layer
/// weighs (licence, origin, and who can change it under the operator's feet).
public struct SoftwareComponent: Sendable, Hashable {
    /// What part of the stack it is.
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        case orchestrator, scheduler, framework, runtime, compiler, library, driver, firmware
        case os = "operating-system"
        case monitoring, storage, network, other

        /// Roles without which the accelerators or the cluster stop: drivers and firmware run the hardware,
        /// orchestrators run the cluster. A closed component here, updated from abroad, is a hard lock-in.
        public var isCritical: Bool { self == .driver || self == .firmware || self == .orchestrator }
    }

    /// The component's name.
    public let name: String
    /// Its role.
    public let role: Role
    /// Its licence as an SPDX identifier or `proprietary`; `nil` when unknown.
    public let licence: String?
    /// ISO 3166-1 alpha-2 code of the country it is developed in; `nil` when unknown.
    public let origin: String?
    /// Who can ship updates to it (a vendor or a project), when known.
    public let updatedBy: String?
    /// ISO 3166-1 alpha-2 code of the jurisdiction the party that ships updates answers to; `nil` when unknown.
    public let updatesFrom: String?
    /// Sites that run it; empty means every site of the fleet.
    public let sites: [String]

    /// Makes a software component.
    public init(
        name: String,
        role: Role,
        licence: String?,
        origin: String?,
        updatedBy: String?,
        updatesFrom: String?,
        sites: [String]
    ) {
        self.name = name
        self.role = role
        self.licence = licence
        self.origin = origin
        self.updatedBy = updatedBy
        self.updatesFrom = updatesFrom
        self.sites = sites
    }

    /// Whether it runs at a site: scoped to it, or to every site.
    public func runs(at site: String) -> Bool { sites.isEmpty || sites.contains(site) }

    /// Whether its licence is an open-source licence Sovereign knows (OSI-approved; see ``Licences``).
    public var isOpenSource: Bool { licence.map(Licences.isOpenSource) ?? false }
}

/// A machine-learning model a workload trains, tunes or serves: where its weights came from and what they
/// were trained on, for the assessment's model layer.
public struct AIModel: Sendable, Hashable {
    /// Whether anyone may download and run the weights.
    public enum Weights: String, Sendable, Hashable, Codable, CaseIterable {
        /// Published weights the fleet holds a copy of.
        case open
        /// Weights only their owner holds (reachable through an API, or under a contract).
        case closed
    }

    /// The model's name.
    public let name: String
    /// Parameter count, when given.
    public let parameters: Double?
    /// Its licence as an SPDX identifier or a named model licence (`llama3.1`); `nil` when unknown.
    public let licence: String?
    /// Whether the weights are open; `nil` when unknown.
    public let weights: Weights?
    /// Who published (or owns) the weights, when known.
    public let publisher: String?
    /// ISO 3166-1 alpha-2 code of the publisher's jurisdiction; `nil` when unknown.
    public let origin: String?
    /// ISO 3166-1 alpha-2 code of the country it was (pre-)trained in; `nil` when unknown.
    public let trainedIn: String?
    /// Datasets of this fleet it was trained on.
    public let datasets: [String]
    /// Jurisdictions (codes) of training data from outside the fleet, e.g. `US` for a web crawl hosted there.
    public let externalDataFrom: [String]

    /// Makes a model record.
    public init(
        name: String,
        parameters: Double?,
        licence: String?,
        weights: Weights?,
        publisher: String?,
        origin: String?,
        trainedIn: String?,
        datasets: [String],
        externalDataFrom: [String]
    ) {
        self.name = name
        self.parameters = parameters
        self.licence = licence
        self.weights = weights
        self.publisher = publisher
        self.origin = origin
        self.trainedIn = trainedIn
        self.datasets = datasets
        self.externalDataFrom = externalDataFrom
    }
}

/// Which licences count as open. Data, not judgement: the OSI-approved licences most AI software uses, by
/// SPDX identifier (https://opensource.org/licenses, https://spdx.org/licenses), plus the Open Source AI
/// Definition's reading that a model licence is open only when it is one of these.
public enum Licences: Sendable {
    /// OSI-approved SPDX identifiers (case-insensitive; `-only`/`-or-later` suffixes included).
    public static let openSource: Set<String> = [
        "apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "isc", "zlib", "0bsd", "unlicense",
        "mpl-2.0", "epl-2.0", "epl-1.0", "cddl-1.0", "eupl-1.2", "eupl-1.1", "cecill-2.1", "artistic-2.0",
        "gpl-2.0", "gpl-2.0-only", "gpl-2.0-or-later", "gpl-3.0", "gpl-3.0-only", "gpl-3.0-or-later",
        "lgpl-2.1", "lgpl-2.1-only", "lgpl-2.1-or-later", "lgpl-3.0", "lgpl-3.0-only", "lgpl-3.0-or-later",
        "agpl-3.0", "agpl-3.0-only", "agpl-3.0-or-later", "bsl-1.0", "upl-1.0", "psf-2.0", "python-2.0",
        "openmdw-1.0",
    ]

    /// Whether `licence` is an OSI-approved open-source licence.
    public static func isOpenSource(_ licence: String) -> Bool {
        openSource.contains(licence.lowercased())
    }
}
