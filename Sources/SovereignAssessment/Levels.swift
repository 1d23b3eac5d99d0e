/// The five layers of AI sovereignty Sovereign assesses, bottom of the stack first.
public enum Layer: String, Sendable, Hashable, Codable, CaseIterable {
    /// Who designs and makes the accelerators, how concentrated the vendors are, what export rules bind them.
    case compute
    /// Where datasets are held and processed, under whose control, and where their keys are.
    case data
    /// Whether the software stack is open, where it comes from and who can update it.
    case software
    /// Whether the models are open, under what licence, trained where and on what.
    case models
    /// Who runs the sites and whom those operators answer to.
    case operations
}

/// A Sovereignty Effectiveness Assurance Level (SEAL) of the European Commission's Cloud Sovereignty
/// Framework (DG DIGIT, version 1.2.1, October 2025), read with "domestic" where the framework says "EU".
///
/// The framework rates each of its eight objectives on this ordinal scale; a tender sets a minimum level
/// and any objective below it fails. Sovereign rates each layer the same way, by the weakest-link rule:
/// every factor that shows a material weakness caps the layer at a level, and the layer gets the lowest cap.
public enum SealLevel: Int, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    /// SEAL-0, no sovereignty: technology, operations and control are exclusively in foreign hands, under
    /// foreign jurisdiction.
    case noSovereignty = 0
    /// SEAL-1, jurisdictional sovereignty: domestic law applies formally but is hard to enforce in practice;
    /// control stays with foreign parties.
    case jurisdictional = 1
    /// SEAL-2, data sovereignty: domestic law applies and is enforceable, but material foreign dependencies
    /// remain (foreign parties control indirectly).
    case data = 2
    /// SEAL-3, digital resilience: foreign parties have only marginal influence.
    case resilience = 3
    /// SEAL-4, full digital sovereignty: under complete domestic control, no critical foreign dependency.
    case full = 4

    /// The framework's name for the level.
    public var name: String {
        switch self {
        case .noSovereignty: return "no sovereignty"
        case .jurisdictional: return "jurisdictional sovereignty"
        case .data: return "data sovereignty"
        case .resilience: return "digital resilience"
        case .full: return "full digital sovereignty"
        }
    }

    /// `SEAL-2`.
    public var description: String { "SEAL-\(rawValue)" }

    public static func < (lhs: SealLevel, rhs: SealLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What one layer's assessment found for one scope (a site, or the whole fleet).
public struct LayerAssessment: Sendable, Hashable {
    /// The layer.
    public let layer: Layer
    /// Its level; `nil` when the layer does not apply (no dataset held or processed at a site, no model
    /// running there).
    public let level: SealLevel?
    /// A continuous score in 0...1 (1: fully domestic), capacity-weighted, to rank scopes within a level.
    public let score: Double?
    /// The facts that set the level: every cap at the final level ("capped at 1: 88% of accelerator
    /// capacity designed in US"), or, at level 4, why nothing capped it.
    public let reasons: [String]
    /// Further facts behind the score, weaker caps included, for the curious.
    public let facts: [String]
}

/// Gathers the caps and facts of one layer and settles its level by the weakest-link rule.
struct Finding {
    let layer: Layer
    private(set) var caps: [(level: SealLevel, text: String)] = []
    private(set) var facts: [String] = []

    init(_ layer: Layer) { self.layer = layer }

    /// A material weakness: the layer can be at most `level`.
    mutating func cap(_ level: SealLevel, _ text: String) { caps.append((level, text)) }

    /// A fact that informs the score without capping the level.
    mutating func note(_ text: String) { facts.append(text) }

    /// Reasons and facts listed in full up to this many; a fleet of thousands of workloads says how many more.
    static let listed = 6

    /// The lowest cap wins; every cap at that level is a reason; weaker caps become facts.
    func result(score: Double, whenNothingCaps: String) -> LayerAssessment {
        let level = caps.map(\.level).min() ?? .full
        func limited(_ items: [String], _ what: String) -> [String] {
            guard items.count > Self.listed else { return items }
            return Array(items.prefix(Self.listed)) + ["… and \(items.count - Self.listed) more \(what)"]
        }
        let reasons = limited(
            caps.filter { $0.level == level }.map { "capped at \(level.rawValue): \($0.text)" },
            "at level \(level.rawValue)"
        )
        let weaker = limited(
            caps.filter { $0.level != level }.sorted { $0.level < $1.level }
                .map { "would cap at \($0.level.rawValue): \($0.text)" },
            "weaker caps"
        )
        return LayerAssessment(
            layer: layer,
            level: level,
            score: min(1, max(0, score)),
            reasons: reasons.isEmpty ? [whenNothingCaps] : reasons,
            facts: weaker + facts
        )
    }

    /// The layer does not apply to this scope.
    static func notApplicable(_ layer: Layer, _ why: String) -> LayerAssessment {
        LayerAssessment(layer: layer, level: nil, score: nil, reasons: [why], facts: [])
    }
}

/// Formatting shared by facts, text and reports.
enum Format {
    /// `88%`, rounded half up; shares between 0 and 1% print as `<1%` so that a small share never reads as none.
    static func percent(_ share: Double) -> String {
        if share > 0, share < 0.005 { return "<1%" }
        if share < 1, share > 0.995 { return ">99%" }
        return "\(Int((share * 100).rounded()))%"
    }

    /// A number with `digits` decimals, without a trailing `.0`.
    static func number(_ value: Double, _ digits: Int = 2) -> String {
        let scale = [1.0, 10, 100, 1000][min(max(digits, 0), 3)]
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int(rounded)) }
        return String(rounded)
    }

    /// A score with exactly two decimals, `0.40`, `1.00`.
    static func fixed(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = abs(hundredths) % 100
        return "\(hundredths < 0 ? "-" : "")\(abs(hundredths) / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Names joined for a sentence, the first `limit` only: `a, b, c and 4 more`.
    static func list(_ items: [String], limit: Int = 4) -> String {
        guard items.count > limit else { return items.joined(separator: ", ") }
        return items.prefix(limit).joined(separator: ", ") + " and \(items.count - limit) more"
    }
}
