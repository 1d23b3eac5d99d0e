/// Whether a foreign government's export rules govern the supply of an accelerator model.
///
/// What the sovereignty assessment counts as "export-controlled capacity": a part its maker may not ship,
/// service or replace without the licence of the government named here.
public enum ExportControl: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Not listed under any export-control regime Sovereign knows of (`none` in specs).
    case unlisted
    /// Listed under a regime: the jurisdiction that controls it (ISO 3166-1 alpha-2) and the listing, e.g.
    /// `US` and `EAR ECCN 3A090.a`.
    case controlled(jurisdiction: String, classification: String)

    /// `none` or `US EAR ECCN 3A090.a`.
    public var description: String {
        switch self {
        case .unlisted: return "none"
        case .controlled(let jurisdiction, let classification): return "\(jurisdiction) \(classification)"
        }
    }
}

/// An accelerator model: what one device can compute, hold and draw.
public struct AcceleratorModel: Sendable, Hashable, Codable {
    /// Where a model's figures come from.
    public enum Provenance: String, Sendable, Hashable, Codable {
        /// The vendor's datasheet.
        case datasheet
        /// Secondary sources only (press, benchmarks); treat with care.
        case secondary
        /// Declared by the user in an `AcceleratorModel` spec.
        case user
    }

    /// The identifier pools name, like `nvidia-a100-80gb`.
    public let id: String
    /// Who sells it: NVIDIA, AMD, Intel, Huawei, ...
    public let vendor: String
    /// The marketing name, like `A100 80GB SXM`.
    public let displayName: String
    /// Memory per device.
    public let memory: DataSize
    /// Dense BF16 (or FP16 where there is no BF16) throughput in TFLOPS; never the sparse headline figure.
    public let tflops: Double
    /// Memory bandwidth per device.
    public let bandwidth: Bandwidth
    /// Board power (TDP).
    public let power: Power
    /// Power drawn while allocated but idle.
    public let idlePower: Power
    /// ISO 3166-1 alpha-2 code of the country where it is designed.
    public let designedIn: String
    /// ISO 3166-1 alpha-2 code of the country where the die is fabricated, when known.
    public let fabricatedIn: String?
    /// Year of release, when known.
    public let year: Int?
    /// Where the figures come from.
    public let provenance: Provenance
    /// A note on the figures, e.g. which are estimates.
    public let note: String?
    /// The export-control regime that governs its supply; `nil` when unknown (the assessment counts unknown
    /// as controlled by a foreign regime, and says so).
    public var exportControl: ExportControl?

    /// Makes an accelerator model.
    public init(
        id: String,
        vendor: String,
        displayName: String,
        memory: DataSize,
        tflops: Double,
        bandwidth: Bandwidth,
        power: Power,
        idlePower: Power,
        designedIn: String,
        fabricatedIn: String?,
        year: Int?,
        provenance: Provenance,
        note: String?,
        exportControl: ExportControl? = nil
    ) {
        self.id = id
        self.vendor = vendor
        self.displayName = displayName
        self.memory = memory
        self.tflops = tflops
        self.bandwidth = bandwidth
        self.power = power
        self.idlePower = idlePower
        self.designedIn = designedIn
        self.fabricatedIn = fabricatedIn
        self.year = year
        self.provenance = provenance
        self.note = note
        self.exportControl = exportControl
    }

    /// Dense TFLOPS per watt of board power: the efficiency that energy scorers compare.
    public var tflopsPerWatt: Double { power.watts > 0 ? tflops / power.watts : 0 }
}
