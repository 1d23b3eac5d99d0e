import Foundation

extension FleetDecoder {
    // MARK: Scenario

    /// The longest scenario Sovereign plans over: a century.
    static let maximumHorizon = TimeSpan.days(36_525)
    /// The most steps a scenario may have: a year at 5-second steps (6.3M) fits.
    static let maximumSteps = 10_000_000
    /// The most sites × steps a fleet may have (about 10 GB while planning): a year at 5-second steps for 7
    /// sites, a year at 10 minutes for 950, a week at 15 minutes for 70,000.
    static let maximumSiteSteps = 50_000_000

    func decodeScenario(name: String, _ spec: SpecNode) -> Scenario? {
        guard
            let f = spec.fields(
                "Scenario",
                allowed: ["start", "horizon", "step", "forecastError", "seed"]
            )
        else { return nil }
        let start = f.required("start", "a start time in ISO 8601 UTC")?.instant()
        let horizon = f.required("horizon", TimeSpan.expectation)?.quantity(TimeSpan.self, positive: true)
        let step = f.required("step", TimeSpan.expectation)?.quantity(TimeSpan.self, positive: true)
        let forecastError =
            f["forecastError"].map { $0.fraction(in: 0...1, expected: "a relative error in 0...1") } ?? 0
        let seed = f["seed"].map { $0.integer(in: 0...Int.max, expected: "a seed, a whole number ≥ 0") } ?? 1
        // Bounds written so that they also fail on NaN: a horizon of at most a century, a step of at least a
        // second, and at most a million steps keep every grid and every trace on it small.
        if let horizon, !(horizon.seconds <= Self.maximumHorizon.seconds), let node = f["horizon"] {
            node.report(.badValue, expected: "a horizon of at most \(Self.maximumHorizon)")
            return nil
        }
        if let step, !(step.seconds >= 1), let node = f["step"] {
            node.report(.badValue, expected: "a step of at least 1 s")
            return nil
        }
        if let horizon, let step, !(step <= horizon), let node = f["step"] {
            node.report(.badValue, expected: "a step no longer than the horizon (\(horizon))")
            return nil
        }
        if let horizon, let step, !(horizon.seconds / step.seconds <= Double(Self.maximumSteps)), let node = f["step"] {
            node.report(.badValue, expected: "at most 10,000,000 steps over the horizon (\(horizon))")
            return nil
        }
        guard let start, let horizon, let step, let forecastError, let seed else { return nil }
        return Scenario(
            name: name,
            start: start,
            horizon: horizon,
            step: step,
            forecastError: forecastError,
            seed: UInt64(seed)
        )
    }

    // MARK: JurisdictionGroup

    func decodeGroup(_ spec: SpecNode) -> GroupEntry {
        guard let f = spec.fields("JurisdictionGroup", allowed: ["members"]) else {
            return GroupEntry(members: [], membersNode: nil)
        }
        guard let membersNode = f.required("members", "a list of jurisdiction codes or group names") else {
            return GroupEntry(members: [], membersNode: nil)
        }
        let members = membersNode.strings(of: "jurisdiction codes or group names") ?? []
        return GroupEntry(members: members, membersNode: membersNode)
    }

    // MARK: Site

    func decodeSite(name: String, labels: [String: String], _ spec: SpecNode) -> SiteEntry {
        let empty = SiteEntry(
            name: name,
            jurisdiction: nil,
            operatorCountry: nil,
            pools: [],
            links: [],
            build: { _ in nil }
        )
        guard
            let f = spec.fields(
                "Site",
                allowed: ["jurisdiction", "operator", "power", "cooling", "storage", "pools", "links", "kubernetes"]
            )
        else { return empty }
        let jurisdiction = f.required("jurisdiction", "an ISO 3166-1 alpha-2 country code")
            .flatMap { country($0) }
        let siteOperator = f.required("operator", "an operator {name, jurisdiction}").flatMap { decodeOperator($0) }
        let power = f.required("power", "a power supply (grid, solar, battery)")
            .flatMap { decodePower($0, country: jurisdiction) }
        let cooling = f.required("cooling", "cooling {capacity, ambient, pue}").flatMap { decodeCooling($0) }
        let storage = f["storage"].flatMap { decodeStorage($0) }
        let kubernetes = f["kubernetes"].flatMap { decodeKubernetesTopology($0) }
        let pools = decodePools(f, kubernetes: kubernetes)
        let links = decodeLinks(f)
        let complete = jurisdiction != nil && siteOperator != nil && power != nil && cooling != nil
        let storageValue = storage ?? nil
        let poolValues = pools.map(\.0)
        let linkValues = links.map(\.0)
        return SiteEntry(
            name: name,
            jurisdiction: jurisdiction,
            operatorCountry: siteOperator.map { ($0.jurisdiction, $0.parentJurisdiction) },
            pools: pools.map { (pool: $0.0, accelerator: $0.1) },
            links: links.map { (to: $0.0.to, node: $0.1) },
            kubernetes: kubernetes,
            build: { traces in
                guard complete, let jurisdiction, let siteOperator, let power, let cooling else { return nil }
                var site = Site(
                    name: name,
                    labels: labels,
                    jurisdiction: jurisdiction,
                    operator: siteOperator,
                    power: power(traces),
                    cooling: cooling(traces),
                    storage: storageValue,
                    pools: poolValues,
                    links: linkValues
                )
                site.kubernetes = kubernetes?.topology
                return site
            }
        )
    }

    /// `storage: {bandwidth}`; `.some(nil)` when it does not decode.
    private func decodeStorage(_ node: SpecNode) -> Storage?? {
        guard let s = node.fields("storage", allowed: ["bandwidth"]) else { return .some(nil) }
        return s.required("bandwidth", Bandwidth.expectation)?.quantity(Bandwidth.self, positive: true)
            .map { Storage(bandwidth: $0) }
    }

    /// `pools: [...]`: at least one, each name once per site, each Kubernetes zone inside the site's topology.
    private func decodePools(
        _ f: SpecFields,
        kubernetes: (topology: KubernetesTopology, node: SpecNode)?
    )
        -> [(AcceleratorPool, SpecNode)]
    {
        var pools: [(AcceleratorPool, SpecNode)] = []
        var poolNames: [String: SpecNode] = [:]
        var poolZones: [String: String] = [:]
        guard let list = f.required("pools", "a list of accelerator pools")?.list(of: "accelerator pools") else {
            return pools
        }
        if list.isEmpty, let node = f["pools"] {
            node.report(.badValue, expected: "at least one accelerator pool", found: "none")
        }
        for item in list {
            guard let (pool, acceleratorNode, nameNode, zoneNode) = decodePool(item) else { continue }
            // A site topology that failed to decode is reported already; its pools' zones are not checked against it.
            if let zone = pool.kubernetesZone, let zoneNode, kubernetes != nil || f["kubernetes"] == nil {
                checkPoolZone(zone, pool: pool.name, at: zoneNode, site: kubernetes, taken: &poolZones)
            }
            if let earlier = poolNames[pool.name] {
                nameNode.report(
                    .duplicateName,
                    expected: "a pool name not used before at this site (\"\(pool.name)\" is at \(earlier.location))"
                )
                continue
            }
            poolNames[pool.name] = nameNode
            pools.append((pool, acceleratorNode))
        }
        return pools
    }

    /// `links: [{to, bandwidth}]`, with the node of each `to` for the cross-document check.
    private func decodeLinks(_ f: SpecFields) -> [(NetworkLink, SpecNode)] {
        var links: [(NetworkLink, SpecNode)] = []
        for item in f["links"]?.list(of: "network links") ?? [] {
            guard let l = item.fields("link", allowed: ["to", "bandwidth"]) else { continue }
            let toNode = l.required("to", "the name of a Site")
            let to = toNode?.name()
            let bandwidth = l.required("bandwidth", Bandwidth.expectation)?.quantity(Bandwidth.self, positive: true)
            if let to, let toNode, let bandwidth {
                links.append((NetworkLink(to: to, bandwidth: bandwidth), toNode))
            }
        }
        return links
    }

    /// `kubernetes: {region, zones}`: the topology labels of the site's nodes.
    private func decodeKubernetesTopology(_ node: SpecNode) -> (topology: KubernetesTopology, node: SpecNode)? {
        guard let f = node.fields("kubernetes", allowed: ["region", "zones"]) else { return nil }
        let regionNode = f.required("region", "the nodes' topology.kubernetes.io/region label value")
        let region = regionNode.flatMap { labelValue($0) }
        let zones = f["zones"]?.strings(of: "topology.kubernetes.io/zone label values") ?? []
        var seen = Set<String>()
        for (zone, zoneNode) in zones where labelValue(zoneNode) != nil && !seen.insert(zone).inserted {
            zoneNode.report(.duplicateName, expected: "a zone not listed before")
        }
        guard let region, let regionNode else { return nil }
        return (KubernetesTopology(region: region, zones: zones.map(\.0)), regionNode)
    }

    /// A Kubernetes label value: at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric at both ends.
    private func labelValue(_ node: SpecNode) -> String? {
        let expected = "a Kubernetes label value (≤ 63 letters, digits, '-', '_', '.'; alphanumeric ends)"
        guard let text = node.string(expected) else { return nil }
        guard SpecNames.isLabelValue(text) else {
            node.report(.badValue, expected: expected)
            return nil
        }
        return text
    }

    /// A pool's zone must be one of its site's and used by no other pool of the site.
    private func checkPoolZone(
        _ zone: String,
        pool: String,
        at node: SpecNode,
        site: (topology: KubernetesTopology, node: SpecNode)?,
        taken: inout [String: String]
    ) {
        let zoneNode = node
        guard let site else {
            zoneNode.report(
                .badValue,
                expected: "a pool zone only on a site with kubernetes.region",
                found: "\"\(zone)\""
            )
            return
        }
        if !site.topology.zones.isEmpty, !site.topology.zones.contains(zone) {
            zoneNode.report(
                .badValue,
                expected: "one of the site's zones [\(site.topology.zones.joined(separator: ", "))]",
                found: "\"\(zone)\""
            )
        } else if let other = taken[zone] {
            zoneNode.report(
                .badValue,
                expected: "a zone no other pool of the site has (nodes must belong to one pool)",
                found: "\"\(zone)\", also pool \(other)'s"
            )
        } else {
            taken[zone] = pool
        }
    }

    private func decodeOperator(_ node: SpecNode) -> Operator? {
        guard let f = node.fields("operator", allowed: ["name", "jurisdiction", "parentJurisdiction"]) else {
            return nil
        }
        let name = f.required("name", "the operator's name")?.string()
        let home = f.required("jurisdiction", "the operator's home country code").flatMap { country($0) }
        let parent = f["parentJurisdiction"].map { country($0) }
        guard let name, let home, parent != .some(nil) else { return nil }
        return Operator(name: name, jurisdiction: home, parentJurisdiction: parent ?? nil)
    }

    private func decodePower(_ node: SpecNode, country: String?) -> ((ResolvedTraces) -> PowerSupply)? {
        guard let f = node.fields("power", allowed: ["grid", "solar", "battery"]) else { return nil }
        if !f.has("grid"), !f.has("solar") {
            node.report(.missingField, expected: "a grid or solar supply (or both)", found: "neither")
            return nil
        }
        var ok = true
        var grid: ((ResolvedTraces) -> GridSupply)?
        if let g = f["grid"] {
            grid = decodeGrid(g, country: country)
            ok = ok && grid != nil
        }
        var solar: ((ResolvedTraces) -> SolarSupply)?
        if let s = f["solar"] {
            solar = decodeSolar(s)
            ok = ok && solar != nil
        }
        var battery: Battery?
        if let b = f["battery"] {
            battery = decodeBattery(b)
            ok = ok && battery != nil
        }
        guard ok else { return nil }
        return { traces in PowerSupply(grid: grid?(traces), solar: solar?(traces), battery: battery) }
    }

    private func decodeGrid(_ node: SpecNode, country: String?) -> ((ResolvedTraces) -> GridSupply)? {
        guard let f = node.fields("grid", allowed: ["capacity", "availability", "carbonIntensity"]) else { return nil }
        let capacity = f.required("capacity", Power.expectation)?.quantity(Power.self, positive: true)
        let availability: SignalDraft<Fraction>? =
            f["availability"].map { signal($0, as: .availability) } ?? .constant(Fraction(baseValue: 1))
        var carbon: SignalDraft<CarbonIntensity>?
        if let c = f["carbonIntensity"] {
            carbon = signal(c, as: .carbonIntensity)
        } else if let country, let figure = Country.named(country)?.gridCarbonIntensity {
            carbon = .constant(.gramsPerKilowattHour(figure))
        } else if country != nil {
            _ = f.required(
                "carbonIntensity",
                "\(CarbonIntensity.expectation) (no national figure is known for \(country!))"
            )
        }
        guard let capacity, let availability, let carbon else { return nil }
        return { traces in
            GridSupply(
                capacity: capacity,
                availability: availability.resolve(traces),
                carbonIntensity: carbon.resolve(traces)
            )
        }
    }

    private func decodeSolar(_ node: SpecNode) -> ((ResolvedTraces) -> SolarSupply)? {
        guard let f = node.fields("solar", allowed: ["peak", "irradiance", "performanceRatio"]) else { return nil }
        let peak = f.required("peak", Power.expectation)?.quantity(Power.self, positive: true)
        let irradiance: SignalDraft<Irradiance>? = f.required("irradiance", "an irradiance trace {file, column}")
            .flatMap { signal($0, as: .irradiance) }
        let ratio =
            f["performanceRatio"].map { $0.fraction(in: 0.01...1, expected: "a performance ratio in 0.01...1") } ?? 0.8
        guard let peak, let irradiance, let ratio else { return nil }
        return { traces in SolarSupply(peak: peak, irradiance: irradiance.resolve(traces), performanceRatio: ratio) }
    }

    private func decodeBattery(_ node: SpecNode) -> Battery? {
        guard
            let f = node.fields(
                "battery",
                allowed: ["capacity", "power", "initialCharge", "roundTripEfficiency"]
            )
        else { return nil }
        let capacity = f.required("capacity", Energy.expectation)?.quantity(Energy.self, positive: true)
        let power = f.required("power", Power.expectation)?.quantity(Power.self, positive: true)
        let initial = f["initialCharge"].map { $0.fraction(in: 0...1, expected: "a state of charge in 0...1") } ?? 1
        let efficiency =
            f["roundTripEfficiency"].map { $0.fraction(in: 0.01...1, expected: "an efficiency in 0.01...1") } ?? 0.9
        guard let capacity, let power, let initial, let efficiency else { return nil }
        return Battery(capacity: capacity, power: power, initialCharge: initial, roundTripEfficiency: efficiency)
    }

    private func decodeCooling(_ node: SpecNode) -> ((ResolvedTraces) -> Cooling)? {
        guard
            let f = node.fields(
                "cooling",
                allowed: ["capacity", "designAmbient", "ambient", "pue", "derating"]
            )
        else { return nil }
        let capacity = f.required("capacity", Power.expectation)?.quantity(Power.self, positive: true)
        let designAmbient = f["designAmbient"].map { $0.temperature() } ?? .celsius(35)
        let ambient: SignalDraft<Temperature>? = f.required(
            "ambient",
            "\(Temperature.expectation) or a trace {file, column}"
        ).flatMap { signal($0, as: .temperature) }
        let derating =
            f["derating"].map { $0.fraction(in: 0...1, expected: "a capacity loss per degree in 0...1, like 0.02") }
            ?? 0.02
        var pue: PUEModel?
        if let p = f.required("pue", "a PUE model {base, reference, perDegree}"),
            let pf = p.fields("pue", allowed: ["base", "reference", "perDegree"])
        {
            let base = pf.required("base", "a PUE of at least 1, like 1.35")?.number(
                in: 1...5,
                expected: "a PUE in 1...5, like 1.35"
            )
            let reference = pf["reference"].map { $0.temperature() } ?? .celsius(20)
            let perDegree =
                pf["perDegree"].map {
                    $0.number(in: 0...1, expected: "a PUE rise per degree in 0...1, like 0.015")
                } ?? 0
            if let base, let reference, let perDegree {
                pue = PUEModel(base: base, reference: reference, perDegree: perDegree)
            }
        }
        guard let capacity, let designAmbient, let ambient, let derating, let pue else { return nil }
        return { traces in
            Cooling(
                capacity: capacity,
                designAmbient: designAmbient,
                ambient: ambient.resolve(traces),
                pue: pue,
                deratingPerDegree: derating
            )
        }
    }

    private func decodePool(_ node: SpecNode) -> (AcceleratorPool, SpecNode, SpecNode, SpecNode?)? {
        guard let f = node.fields("pool", allowed: ["name", "accelerator", "count", "perNode", "kubernetes"]) else {
            return nil
        }
        let zoneNode = f["kubernetes"].flatMap { k -> SpecNode? in
            k.fields("pool kubernetes", allowed: ["zone"])?
                .required("zone", "the pool's nodes' topology.kubernetes.io/zone label value")
        }
        // A `kubernetes` mapping that failed to decode is an error already reported: the pool is not built.
        let zone: String?? = f["kubernetes"] == nil ? .some(nil) : zoneNode.flatMap { labelValue($0) }.map { .some($0) }
        let nameNode = f.required("name", "a pool name")
        let name = nameNode?.name()
        let acceleratorNode = f.required("accelerator", "an accelerator model id like \"nvidia-a100-80gb\"")
        let accelerator = acceleratorNode?.string()
        let count = f.required("count", "a number of accelerators")?.integer(
            in: 1...10_000_000,
            expected: "a number of accelerators, at least 1"
        )
        let perNode = f["perNode"].map { $0.integer(in: 1...1024, expected: "accelerators per node in 1...1024") }
        if let count, let perNode = perNode ?? nil, count % perNode != 0, let node = f["count"] {
            node.report(.badValue, expected: "a multiple of perNode (\(perNode))")
            return nil
        }
        guard let name, let nameNode, let acceleratorNode, let accelerator, let count, perNode != .some(nil),
            let zone
        else {
            return nil
        }
        var pool = AcceleratorPool(name: name, accelerator: accelerator, count: count, perNode: perNode ?? nil)
        pool.kubernetesZone = zone
        return (pool, acceleratorNode, nameNode, zoneNode)
    }

    // MARK: Dataset

    func decodeDataset(name: String, _ spec: SpecNode) -> DatasetEntry {
        let allowed = ["size", "site", "residency", "classification", "keys", "derivedFrom"]
        guard let f = spec.fields("Dataset", allowed: allowed) else {
            return DatasetEntry(siteNode: nil, residency: [], make: { _ in nil })
        }
        let size = f.required("size", DataSize.expectation)?.quantity(DataSize.self)
        let siteNode = f.required("site", "the name of the Site that holds it")
        let site = siteNode?.name()
        let residencyNode = f.required("residency", "a list of jurisdictions it may be processed in")
        let residency = residencyNode.flatMap { jurisdictions($0, what: "jurisdictions") } ?? []
        if let residencyNode, residency.isEmpty, residencyNode.list(of: "jurisdictions")?.isEmpty == true {
            residencyNode.report(.badValue, expected: "at least one jurisdiction", found: "none")
        }
        let classification = f.required("classification", "public, internal, personal or sensitive")?
            .choice(Classification.self)
        // Where the encryption keys are held: `keys: {jurisdiction: KE}`; unknown when absent.
        var keys: String?? = .some(nil)
        if let k = f["keys"], let kf = k.fields("keys", allowed: ["jurisdiction"]) {
            keys = kf.required("jurisdiction", "the code of the country where the keys are held").map { country($0) }
        } else if f.has("keys") {
            keys = nil
        }
        let derivedNode = f["derivedFrom"]
        let derived = derivedNode.flatMap { decodeDerivation($0) }
        var entry = DatasetEntry(
            siteNode: site == nil ? nil : siteNode,
            residency: residency,
            make: { countries in
                guard let size, let site, let classification, !residency.isEmpty, let keys else { return nil }
                guard derivedNode == nil || derived != nil else { return nil }
                var dataset = Dataset(
                    name: name,
                    size: size,
                    site: site,
                    residency: residency.map(\.0),
                    residencyCountries: countries,
                    classification: classification
                )
                dataset.keysHeldIn = keys
                return dataset
            }
        )
        entry.residencyNode = residencyNode
        entry.derived = derived
        return entry
    }

    // MARK: Policy

    /// `domesticOperatorFor`, `updatesMayCross`, `checkpointsMayCross` and `checkpointTransit`; `nil` when any
    /// field is wrong (each reported where it is).
    func decodePolicy(_ spec: SpecNode) -> PolicyEntry? {
        let allowed = [
            "domesticOperatorFor", "updatesMayCross", "checkpointsMayCross", "checkpointTransit", "anonymised",
        ]
        guard let f = spec.fields("Policy", allowed: allowed) else { return nil }
        var domestic = Set<Classification>()
        var ok = true
        if let list = f["domesticOperatorFor"]?.list(of: "classifications") {
            for item in list {
                if let c = item.choice(Classification.self) { domestic.insert(c) } else { ok = false }
            }
        }
        let updates = f["updatesMayCross"].flatMap { jurisdictions($0, what: "jurisdictions") } ?? []
        let checkpoints = f["checkpointsMayCross"].flatMap { jurisdictions($0, what: "jurisdictions") } ?? []
        let transit = f["checkpointTransit"].map { $0.choice(CheckpointTransit.self) } ?? .relay
        let anonymised = f["anonymised"].map { decodeAnonymisedRule($0) }
        if case .some(.none) = anonymised { return nil }
        guard ok, let transit else { return nil }
        var entry = PolicyEntry(
            domesticOperatorFor: domestic,
            updatesMayCross: updates.map(\.0),
            checkpointsMayCross: checkpoints.map(\.0),
            checkpointTransit: transit
        )
        entry.anonymised = anonymised ?? nil
        return entry
    }

    // MARK: AcceleratorModel

    func decodeAcceleratorModel(name: String, _ spec: SpecNode) -> AcceleratorModel? {
        guard
            let f = spec.fields(
                "AcceleratorModel",
                allowed: [
                    "vendor", "displayName", "memory", "tflops", "bandwidth", "power", "idlePower", "origin",
                    "fabricatedIn", "year", "note", "exportControl",
                ]
            )
        else { return nil }
        let vendor = f.required("vendor", "the vendor's name")?.string()
        let memory = f.required("memory", DataSize.expectation)?.quantity(DataSize.self, positive: true)
        let tflops = f.required("tflops", "dense BF16/FP16 TFLOPS")?.number(
            in: 0.001...1_000_000,
            expected: "dense BF16/FP16 TFLOPS above zero"
        )
        let bandwidth = f.required("bandwidth", Bandwidth.expectation)?.quantity(Bandwidth.self, positive: true)
        let power = f.required("power", Power.expectation)?.quantity(Power.self, positive: true)
        let idlePower = f["idlePower"].map { $0.quantity(Power.self) } ?? power.map { $0 * 0.15 }
        let origin = f.required("origin", "the country code where it is designed").flatMap { country($0) }
        let fabricatedIn = f["fabricatedIn"].map { country($0) }
        let year = f["year"].map { $0.integer(in: 1950...2100, expected: "a year in 1950...2100") }
        let displayName = f["displayName"].map { $0.string() }
        let note = f["note"].map { $0.string() }
        let exportControl = f["exportControl"].map { decodeExportControl($0) }
        if let power, let idle = idlePower ?? nil, idle > power, let node = f["idlePower"] {
            node.report(.badValue, expected: "an idle power at most the board power (\(power))")
            return nil
        }
        guard let vendor, let memory, let tflops, let bandwidth, let power, let idle = idlePower ?? nil, let origin,
            fabricatedIn != .some(nil), year != .some(nil), displayName != .some(nil), note != .some(nil),
            exportControl != .some(nil)
        else { return nil }
        return AcceleratorModel(
            id: name,
            vendor: vendor,
            displayName: (displayName ?? nil) ?? name,
            memory: memory,
            tflops: tflops,
            bandwidth: bandwidth,
            power: power,
            idlePower: idle,
            designedIn: origin,
            fabricatedIn: fabricatedIn ?? nil,
            year: year ?? nil,
            provenance: .user,
            note: note ?? nil,
            exportControl: exportControl ?? nil
        )
    }
}
