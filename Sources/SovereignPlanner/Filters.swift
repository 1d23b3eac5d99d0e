public import SovereignModel

/// Every dataset the workload reads may be processed in the site's country: a hard constraint.
public struct ResidencyFilter: Filter {
    public let name = "residency"
    public init() {}

    public func prepare(_ workload: Workload, in fleet: Fleet) -> (Candidate) -> Bool {
        guard !workload.datasets.isEmpty else { return { _ in true } }
        var allowed: Set<String>?
        for name in workload.datasets {
            guard let dataset = fleet.dataset(named: name) else { return { _ in false } }
            allowed = allowed.map { $0.intersection(dataset.residencyCountries) } ?? dataset.residencyCountries
        }
        let countries = allowed ?? []
        return { countries.contains($0.site.jurisdiction) }
    }

    public func allows(_ workload: Workload, on candidate: Candidate, in fleet: Fleet) -> Bool {
        for name in workload.datasets {
            guard let dataset = fleet.dataset(named: name), dataset.mayBeProcessed(in: candidate.site.jurisdiction)
            else { return false }
        }
        return true
    }

    public func filter(_ workload: Workload, on candidate: Candidate, in fleet: Fleet) -> Rejection? {
        for name in workload.datasets {
            guard let dataset = fleet.dataset(named: name) else {
                return Rejection(filter: self.name, reason: "dataset \(name) unknown")
            }
            if !dataset.mayBeProcessed(in: candidate.site.jurisdiction) {
                let residency = dataset.residency.joined(separator: ",")
                return Rejection(filter: self.name, reason: "outside residency \(residency) (dataset \(name))")
            }
        }
        return nil
    }
}

/// Classifications a policy reserves for domestic operators run only on sites whose operator, and its
/// parent, are at home in the site's country.
public struct DomesticOperatorFilter: Filter {
    public let name = "domestic-operator"
    public init() {}

    public func allows(_ workload: Workload, on candidate: Candidate, in fleet: Fleet) -> Bool {
        let site = candidate.site
        if site.operator.isDomestic(to: site.jurisdiction)
            || (workload.datasets.isEmpty && workload.classification == nil)
        {
            return true
        }
        return filter(workload, on: candidate, in: fleet) == nil
    }

    public func prepare(_ workload: Workload, in fleet: Fleet) -> (Candidate) -> Bool {
        let reserved = fleet.policies.reduce(into: Set<Classification>()) { $0.formUnion($1.domesticOperatorFor) }
        let restricted =
            workload.classification.map(reserved.contains) == true
            || workload.datasets.contains { name in
                fleet.dataset(named: name).map { reserved.contains($0.classification) } ?? false
            }
        guard restricted else { return { _ in true } }
        return { $0.site.operator.isDomestic(to: $0.site.jurisdiction) }
    }

    public func filter(_ workload: Workload, on candidate: Candidate, in fleet: Fleet) -> Rejection? {
        let site = candidate.site
        guard !site.operator.isDomestic(to: site.jurisdiction) else { return nil }
        let classifications =
            (workload.classification.map { [$0] } ?? [])
            + workload.datasets.compactMap { fleet.dataset(named: $0)?.classification }
        for classification in classifications {
            for policy in fleet.policies where policy.domesticOperatorFor.contains(classification) {
                let foreign = site.operator.parentJurisdiction ?? site.operator.jurisdiction
                return Rejection(
                    filter: self.name,
                    reason: "\(classification.rawValue) data needs a domestic operator "
                        + "(\(policy.name); \(site.operator.name) answers to \(foreign))"
                )
            }
        }
        return nil
    }
}

/// The workload's memory fits `max` accelerators of the pool; inference takes the highest precision that fits.
public struct HardwareFitFilter: Filter {
    public let name = "hardware-fit"
    public init() {}

    /// The precision (for inference) and the accelerator counts the workload would use on a pool, or `nil`.
    public static func fit(_ w: Workload, on candidate: Candidate) -> (precision: Precision?, min: Int, max: Int)? {
        let upper = min(w.accelerators?.max ?? candidate.pool.count, candidate.pool.count)
        let precisions: [Precision?] = w.type.trains ? [nil] : w.acceptedPrecisions.map { $0 }
        for precision in precisions {
            let needed = max(
                w.accelerators?.min ?? 1,
                PhysicalModel.minimumCount(w, model: candidate.model, precision: precision)
            )
            if needed <= upper { return (precision, needed, upper) }
        }
        return nil
    }

    public func allows(_ workload: Workload, on candidate: Candidate, in fleet: Fleet) -> Bool {
        Self.fit(workload, on: candidate) != nil
    }

    public func filter(_ workload: Workload, on candidate: Candidate, in fleet: Fleet) -> Rejection? {
        guard Self.fit(workload, on: candidate) == nil else { return nil }
        let upper = min(workload.accelerators?.max ?? candidate.pool.count, candidate.pool.count)
        let lowest = workload.acceptedPrecisions.min { $0.bytesPerParameter < $1.bytesPerParameter }
        let need = workload.memoryDemand(at: workload.type.trains ? nil : lowest)
        if let minimum = workload.accelerators?.min, minimum > candidate.pool.count {
            return Rejection(filter: name, reason: "pool too small (needs ≥ \(minimum) accelerators)")
        }
        return Rejection(
            filter: name,
            reason: "insufficient memory (needs \(need) over ≤ \(upper) accelerators; "
                + "\(candidate.model.id) has \(candidate.model.memory) each)"
        )
    }
}
