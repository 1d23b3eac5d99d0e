/// How a derived dataset is made from its source: what happens to each column, and the k-anonymity (and
/// optionally ℓ-diversity) the quasi-identifiers are generalised to. Columns the method does not name are
/// copied as they are.
public struct Anonymisation: Sendable, Hashable {
    /// A quasi-identifier: a column that, joined with outside data, could single a person out.
    public struct QuasiIdentifier: Sendable, Hashable {
        /// How a quasi-identifier is generalised.
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            /// Numbers, generalised to ranges (`30..39`).
            case numeric
            /// Labels, generalised to the set of labels in a class (`no-hs|hs|college`).
            case categorical
        }

        /// The column's header name.
        public let column: String
        /// How it is generalised.
        public let kind: Kind

        /// Makes a quasi-identifier.
        public init(column: String, kind: Kind) {
            self.column = column
            self.kind = kind
        }
    }

    /// How finely a date column is kept.
    public enum DateGranularity: String, Sendable, Hashable, CaseIterable {
        /// `2024-03-17` becomes `2024`.
        case year
        /// `2024-03-17` becomes `2024-03`.
        case month
    }

    /// A date column kept at a coarser granularity.
    public struct DateColumn: Sendable, Hashable {
        /// The column's header name.
        public let column: String
        /// How finely it is kept.
        public let granularity: DateGranularity

        /// Makes one.
        public init(column: String, granularity: DateGranularity) {
            self.column = column
            self.granularity = granularity
        }
    }

    /// A numeric column to which Laplace noise of a scale is added.
    public struct NoiseColumn: Sendable, Hashable {
        /// The column's header name.
        public let column: String
        /// The Laplace distribution's scale b (its standard deviation is b·√2).
        public let scale: Double

        /// Makes one.
        public init(column: String, scale: Double) {
            self.column = column
            self.scale = scale
        }
    }

    /// Distinct ℓ-diversity: every equivalence class holds at least `l` distinct values of `column`.
    public struct Diversity: Sendable, Hashable {
        /// The sensitive column.
        public let column: String
        /// The fewest distinct sensitive values a class may hold (at least 2).
        public let l: Int

        /// Makes a requirement.
        public init(column: String, l: Int) {
            self.column = column
            self.l = l
        }
    }

    /// Direct identifiers, removed from the output.
    public var drop: [String]
    /// Columns copied as they are. A derivative whose residency is wider than its source's must name every
    /// column of its input (here or in another method), so no column travels unless someone said it may.
    public var keep: [String]
    /// Columns replaced by keyed pseudonyms (HMAC-SHA-256 under the source's key).
    public var pseudonymise: [String]
    /// Date columns and how finely each is kept, in the order written.
    public var coarsenDates: [DateColumn]
    /// Numeric columns and the scale of the Laplace noise added to each, in the order written.
    public var noise: [NoiseColumn]
    /// The quasi-identifiers, generalised together to k-anonymity.
    public var quasiIdentifiers: [QuasiIdentifier]
    /// The smallest equivalence class over the quasi-identifiers (at least 2).
    public var k: Int
    /// The ℓ-diversity required on a sensitive column, if any.
    public var diversity: Diversity?

    /// Makes a method.
    public init(
        drop: [String] = [],
        keep: [String] = [],
        pseudonymise: [String] = [],
        coarsenDates: [DateColumn] = [],
        noise: [NoiseColumn] = [],
        quasiIdentifiers: [QuasiIdentifier],
        k: Int,
        diversity: Diversity? = nil
    ) {
        self.drop = drop
        self.keep = keep
        self.pseudonymise = pseudonymise
        self.coarsenDates = coarsenDates
        self.noise = noise
        self.quasiIdentifiers = quasiIdentifiers
        self.k = k
        self.diversity = diversity
    }

    /// Every column the method names, each once per mention (a column named twice appears twice).
    public var namedColumns: [String] {
        drop + keep + pseudonymise + coarsenDates.map(\.column) + noise.map(\.column)
            + quasiIdentifiers.map(\.column)
    }
}

/// Where a derived dataset comes from: its source and the anonymisation that makes it, run at the source's
/// site inside the source's residency.
public struct Derivation: Sendable, Hashable {
    /// The source dataset's name.
    public let source: String
    /// The method.
    public let anonymisation: Anonymisation

    /// Makes a derivation.
    public init(source: String, anonymisation: Anonymisation) {
        self.source = source
        self.anonymisation = anonymisation
    }
}

/// What a policy lets anonymised data do: a derived dataset whose method reaches `minK` may be processed
/// in these jurisdictions as well as its source's.
public struct AnonymisedDataRule: Sendable, Hashable {
    /// The smallest k a method must reach.
    public let minK: Int
    /// Jurisdictions as written.
    public let mayBeProcessedIn: [String]
    /// Every country in ``mayBeProcessedIn``, groups expanded.
    public let countries: Set<String>

    /// Makes a rule.
    public init(minK: Int, mayBeProcessedIn: [String], countries: Set<String>) {
        self.minK = minK
        self.mayBeProcessedIn = mayBeProcessedIn
        self.countries = countries
    }
}

extension Dataset {
    /// The k an anonymisation run making this derived dataset must reach: its method's, and every policy's
    /// `anonymised.minK` when it may be processed beyond its source's residency.
    ///
    /// - Parameters:
    ///   - source: the dataset it is made from.
    ///   - policies: the fleet's policies.
    /// - Returns: The k; 2 for a dataset that is not derived.
    public func requiredK(source: Dataset?, policies: [Policy]) -> Int {
        let k = derivedFrom?.anonymisation.k ?? 2
        guard let source, !residencyCountries.isSubset(of: source.residencyCountries) else { return k }
        return policies.compactMap { $0.anonymised?.minK }.reduce(k, max)
    }
}
