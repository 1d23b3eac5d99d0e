/// One of the Cloud Sovereignty Framework's eight sovereignty objectives, as the five layers evidence it.
public struct ObjectiveAssessment: Sendable, Hashable {
    /// `SOV-5`.
    public let id: String
    /// `Supply chain sovereignty`.
    public let name: String
    /// Its weight in the framework's sovereignty score (0.2 for SOV-5).
    public let weight: Double
    /// The layers whose facts speak to it; empty when the layers hold none.
    public let layers: [Layer]
    /// The lowest level of those layers (the weakest-link rule again); `nil` when not assessed.
    public let level: SealLevel?
    /// The mean score of those layers; `nil` when not assessed.
    public let score: Double?
    /// What the objective covers in the framework, and which layers answer for it here.
    public let basis: String
}

/// The framework's objectives and weights (Cloud Sovereignty Framework 1.2.1, European Commission DG DIGIT,
/// October 2025), and which of Sovereign's layers answer for each.
public enum Objectives: Sendable {
    /// `(id, name, weight, layers, basis)` for SOV-1 … SOV-8.
    public static let table: [(id: String, name: String, weight: Double, layers: [Layer], basis: String)] = [
        (
            "SOV-1", "Strategic sovereignty", 0.15, [.operations],
            "ownership and governance anchored at home: the operators' and their parents' jurisdictions"
        ),
        (
            "SOV-2", "Legal & jurisdictional sovereignty", 0.10, [.operations, .data],
            "exposure to foreign law (CLOUD Act, FISA 702): who controls the operators that hold the data"
        ),
        (
            "SOV-3", "Data & AI sovereignty", 0.10, [.data, .models],
            "customer-held keys, processing at home, autonomy over AI models"
        ),
        (
            "SOV-4", "Operational sovereignty", 0.15, [.operations, .software],
            "running and changing the service without foreign parties: operators and who updates the stack"
        ),
        (
            "SOV-5", "Supply chain sovereignty", 0.20, [.compute, .software],
            "hardware origin, export controls and firmware/driver provenance"
        ),
        (
            "SOV-6", "Technology sovereignty", 0.15, [.software, .models],
            "open source, open standards and open weights"
        ),
        (
            "SOV-7", "Security & compliance sovereignty", 0.10, [.data, .operations],
            "keys and security operations under domestic control"
        ),
        (
            "SOV-8", "Environmental sustainability", 0.05, [],
            "energy efficiency and carbon: not a sovereignty layer here (see `sovereign simulate` for energy "
                + "and carbon); not assessed, and the weighted score is taken over the other 95%"
        ),
    ]

    /// Maps fleet-wide layer assessments onto the objectives.
    ///
    /// - Parameter layers: the fleet-wide assessment of each layer.
    /// - Returns: one assessment per objective, SOV-1 first.
    public static func map(_ layers: [LayerAssessment]) -> [ObjectiveAssessment] {
        let byLayer = Dictionary(layers.map { ($0.layer, $0) }, uniquingKeysWith: { first, _ in first })
        return table.map { row in
            let rated = row.layers.compactMap { byLayer[$0] }.filter { $0.level != nil }
            let level = rated.compactMap(\.level).min()
            let scores = rated.compactMap(\.score)
            return ObjectiveAssessment(
                id: row.id,
                name: row.name,
                weight: row.weight,
                layers: row.layers,
                level: level,
                score: scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count),
                basis: row.basis
            )
        }
    }

    /// The framework's weighted sovereignty score over the objectives assessed, renormalised to their weight,
    /// with the weight it covers.
    public static func weightedScore(_ objectives: [ObjectiveAssessment]) -> (score: Double, coverage: Double) {
        let assessed = objectives.filter { $0.score != nil }
        let weight = assessed.reduce(0) { $0 + $1.weight }
        guard weight > 0 else { return (0, 0) }
        return (assessed.reduce(0) { $0 + $1.weight * $1.score! } / weight, weight)
    }
}
