/// A data centre or machine room: where it is, who runs it, what powers and cools it, what it holds.
public struct Site: Sendable {
    /// The site's name.
    public let name: String
    /// Free-form labels, as on Kubernetes objects.
    public let labels: [String: String]
    /// ISO 3166-1 alpha-2 code of the country the site is in.
    public let jurisdiction: String
    /// Who runs the site.
    public let `operator`: Operator
    /// Where the site's power comes from.
    public let power: PowerSupply
    /// How the site rejects heat.
    public let cooling: Cooling
    /// Checkpoint storage bandwidth, when declared.
    public let storage: Storage?
    /// The accelerator pools at the site.
    public internal(set) var pools: [AcceleratorPool]
    /// Network links to other sites.
    public internal(set) var links: [NetworkLink]
    /// Which Kubernetes nodes belong to the site by their topology labels, for nodes that carry no
    /// `sovereign.dev/site` label.
    public var kubernetes: KubernetesTopology? = nil

    /// Total accelerators at the site.
    public var acceleratorCount: Int { pools.reduce(0) { $0 + $1.count } }
}

/// The organisation that runs a site.
public struct Operator: Sendable, Hashable {
    /// Its name.
    public let name: String
    /// ISO 3166-1 alpha-2 code of its home jurisdiction.
    public let jurisdiction: String
    /// ISO 3166-1 alpha-2 code of its ultimate parent's jurisdiction, when it has a foreign parent.
    public let parentJurisdiction: String?

    /// Whether the operator and its parent are both at home in `country`.
    public func isDomestic(to country: String) -> Bool {
        jurisdiction == country && (parentJurisdiction ?? jurisdiction) == country
    }
}

/// A site's power sources.
public struct PowerSupply: Sendable {
    /// The grid connection, if any.
    public let grid: GridSupply?
    /// On-site solar, if any.
    public let solar: SolarSupply?
    /// A battery, if any.
    public let battery: Battery?
}

/// A grid connection.
public struct GridSupply: Sendable {
    /// The contracted import capacity.
    public let capacity: Power
    /// The fraction of capacity available over time (1 when the grid is always there; lower under load-shedding).
    public let availability: Signal<Fraction>
    /// The grid's carbon intensity over time.
    public let carbonIntensity: Signal<CarbonIntensity>
}

/// An on-site photovoltaic plant.
public struct SolarSupply: Sendable {
    /// Peak (nameplate, DC at 1,000 W/m²) power.
    public let peak: Power
    /// Global horizontal irradiance over time.
    public let irradiance: Signal<Irradiance>
    /// The ratio of delivered to nameplate energy under the given irradiance (≈ 0.8).
    public let performanceRatio: Double

    /// Output during grid step `index`: `peak × GHI / 1000 × performance ratio`.
    public func output(at index: Int) -> Power {
        output(irradiance: irradiance.value(at: index).wattsPerSquareMetre)
    }

    /// Output under a global horizontal irradiance in W/m² (the one place the formula lives).
    public func output(irradiance ghi: Double) -> Power {
        peak * (ghi / 1000 * performanceRatio)
    }
}

/// A stationary battery.
public struct Battery: Sendable, Hashable {
    /// Usable energy.
    public let capacity: Energy
    /// Maximum charge and discharge power.
    public let power: Power
    /// State of charge at the scenario's start, as a fraction of capacity.
    public let initialCharge: Double
    /// Round-trip efficiency (energy out per energy in).
    public let roundTripEfficiency: Double
}

/// How a site rejects heat, and what that costs in power.
public struct Cooling: Sendable {
    /// The IT heat the site can reject at or below its design ambient temperature.
    public let capacity: Power
    /// The ambient temperature up to which the full capacity holds.
    public let designAmbient: Temperature
    /// Ambient temperature over time.
    public let ambient: Signal<Temperature>
    /// Power usage effectiveness as a function of ambient temperature.
    public let pue: PUEModel
    /// Fraction of capacity lost per degree above the design ambient temperature.
    public let deratingPerDegree: Double

    /// The IT heat the site can reject at ambient temperature `t`.
    public func capacity(at t: Temperature) -> Power {
        let excess = max(0, t.celsius - designAmbient.celsius)
        return capacity * max(0, 1 - deratingPerDegree * excess)
    }
}

/// `PUE = base + perDegree × max(0, T − reference)`.
public struct PUEModel: Sendable, Hashable {
    /// PUE at or below the reference temperature.
    public let base: Double
    /// The temperature above which PUE rises.
    public let reference: Temperature
    /// PUE increase per degree above the reference.
    public let perDegree: Double

    /// PUE at ambient temperature `t`.
    public func value(at t: Temperature) -> Double {
        base + perDegree * max(0, t.celsius - reference.celsius)
    }
}

/// Checkpoint storage at a site.
public struct Storage: Sendable, Hashable {
    /// Read/write bandwidth for checkpoints.
    public let bandwidth: Bandwidth
}

/// `count` accelerators of one model at a site.
public struct AcceleratorPool: Sendable, Hashable {
    /// The pool's name, unique within its site.
    public let name: String
    /// The accelerator model's id in the catalog.
    public let accelerator: String
    /// How many accelerators the pool holds.
    public let count: Int
    /// Accelerators per node, when the pool is grouped in nodes.
    public let perNode: Int?
    /// The `topology.kubernetes.io/zone` of the pool's nodes, for nodes that carry no `sovereign.dev/pool` label.
    public var kubernetesZone: String? = nil
}

/// The Kubernetes topology labels (`topology.kubernetes.io/region` and `zone`) of a site's nodes.
public struct KubernetesTopology: Sendable, Hashable {
    /// The nodes' region label.
    public let region: String
    /// The nodes' zone labels, when only some zones of the region are this site (empty: every zone).
    public let zones: [String]

    /// Makes a topology.
    public init(region: String, zones: [String]) {
        self.region = region
        self.zones = zones
    }

    /// Whether a node with these labels belongs to the site.
    public func contains(region: String, zone: String?) -> Bool {
        region == self.region && (zones.isEmpty || zone.map(zones.contains) == true)
    }
}

/// A network link from one site to another.
public struct NetworkLink: Sendable, Hashable {
    /// The other site's name.
    public let to: String
    /// The link's bandwidth.
    public let bandwidth: Bandwidth
}
