public import SovereignFederation
public import SovereignLedger

// The values of the federation coordinator's events, and their fields.
extension LedgerEvent {
    /// A federated workload starting.
    public struct FederationStart: Sendable, Hashable {
        /// The workload.
        public let workload: String
        /// The site that aggregates.
        public let coordinator: String
        /// The participating sites, in the roster's order.
        public let sites: [String]
        /// Each participant's dataset, in the same order.
        public let datasets: [String]
        /// How many rounds it runs.
        public let rounds: Int
        /// The aggregation strategy's name.
        public let strategy: String
        /// Whether updates arrive masked.
        public let secureAggregation: Bool
        /// SHA-256 of the initial model, lowercase hex.
        public let modelSHA256: String

        var fields: [String: JSONValue] {
            [
                "workload": .string(workload), "coordinator": .string(coordinator), "sites": .strings(sites),
                "datasets": .strings(datasets), "rounds": .integer(rounds), "strategy": .string(strategy),
                "secureAggregation": .bool(secureAggregation), "modelSHA256": .string(modelSHA256),
            ]
        }
    }

    /// A round's global model going from the coordinator's jurisdiction to a site's.
    public struct ModelTransfer: Sendable, Hashable {
        /// The workload.
        public let workload: String
        /// The round, from 1.
        public let round: Int
        /// The site it goes to.
        public let site: String
        /// The site's jurisdiction.
        public let to: String
        /// The coordinator's jurisdiction.
        public let from: String
        /// The model's size, bytes.
        public let bytes: Int
        /// The model's SHA-256, lowercase hex.
        public let sha256: String

        var fields: [String: JSONValue] {
            [
                "workload": .string(workload), "round": .integer(round), "site": .string(site), "to": .string(to),
                "from": .string(from), "bytes": .integer(bytes), "sha256": .string(sha256),
            ]
        }
    }

    /// A site's update arriving at the coordinator, from the site's jurisdiction to the coordinator's.
    public struct UpdateArrival: Sendable, Hashable {
        /// The workload.
        public let workload: String
        /// The round, from 1.
        public let round: Int
        /// The round's attempt, from 1.
        public let attempt: Int
        /// The site it comes from.
        public let site: String
        /// The dataset it was trained on.
        public let dataset: String
        /// The site's jurisdiction.
        public let from: String
        /// The coordinator's jurisdiction.
        public let to: String
        /// The update's size, bytes.
        public let bytes: Int
        /// The update's SHA-256, lowercase hex.
        public let sha256: String
        /// Whether it arrives masked.
        public let secureAggregation: Bool
        /// The differential privacy it was clipped and noised under, if any.
        public let privacy: UpdatePrivacy?
        /// Examples the site trained on, when the update is not masked (the count travels inside a masked one).
        public let examples: Int?
        /// The update's L2 norm before clipping, when the site clipped it.
        public let preClipNorm: Double?

        var fields: [String: JSONValue] {
            var fields: [String: JSONValue] = [
                "workload": .string(workload), "round": .integer(round), "attempt": .integer(attempt),
                "site": .string(site), "dataset": .string(dataset), "from": .string(from), "to": .string(to),
                "bytes": .integer(bytes), "sha256": .string(sha256), "secureAggregation": .bool(secureAggregation),
            ]
            if let privacy {
                fields["clipNorm"] = .number(privacy.clipNorm)
                fields["noiseMultiplier"] = .number(privacy.noiseMultiplier)
                fields["privacy"] = .string(privacy.mode.rawValue)
            }
            if let examples { fields["examples"] = .integer(examples) }
            if let preClipNorm { fields["preClipNorm"] = .number(preClipNorm) }
            return fields
        }
    }

    /// The differential privacy an update was made under.
    public struct UpdatePrivacy: Sendable, Hashable {
        /// The clipping norm.
        public let clipNorm: Double
        /// The noise multiplier.
        public let noiseMultiplier: Double
        /// Where the noise is added.
        public let mode: DifferentialPrivacy.Mode
    }

    /// A finished round: who took part, who dropped out, the new model and the privacy spent so far.
    public struct RoundSummary: Sendable, Hashable {
        /// The workload.
        public let workload: String
        /// The round, from 1.
        public let round: Int
        /// The round's attempt, from 1.
        public let attempt: Int
        /// The sites whose updates were aggregated.
        public let sites: [String]
        /// The roster's sites that were not.
        public let dropped: [String]
        /// SHA-256 of the new global model, lowercase hex.
        public let modelSHA256: String
        /// The aggregation strategy's name.
        public let strategy: String
        /// Whether updates arrived masked.
        public let secureAggregation: Bool
        /// The privacy spent so far, under differential privacy.
        public let spent: PrivacySpent?

        var fields: [String: JSONValue] {
            var fields: [String: JSONValue] = [
                "workload": .string(workload), "round": .integer(round), "attempt": .integer(attempt),
                "sites": .strings(sites), "dropped": .strings(dropped), "modelSHA256": .string(modelSHA256),
                "strategy": .string(strategy), "secureAggregation": .bool(secureAggregation),
            ]
            if let spent {
                fields["epsilon"] = spent.epsilon.isFinite ? .number(spent.epsilon) : .string("infinity")
                fields["delta"] = .number(spent.delta)
                fields["privacy"] = .string(spent.mode.rawValue)
            }
            return fields
        }
    }

    /// The differential privacy spent by a workload so far.
    public struct PrivacySpent: Sendable, Hashable {
        /// ε so far (infinite when the accountant cannot bound it: recorded as `"infinity"`).
        public let epsilon: Double
        /// δ.
        public let delta: Double
        /// Where the noise is added.
        public let mode: DifferentialPrivacy.Mode
    }

    /// A federated workload whose rounds are all done.
    public struct FederationCompletion: Sendable, Hashable {
        /// The workload.
        public let workload: String
        /// How many rounds it ran.
        public let rounds: Int
        /// SHA-256 of the final model, lowercase hex.
        public let modelSHA256: String
        /// ε spent, under differential privacy.
        public let epsilon: Double?

        var fields: [String: JSONValue] {
            var fields: [String: JSONValue] = [
                "workload": .string(workload), "rounds": .integer(rounds), "modelSHA256": .string(modelSHA256),
            ]
            if let epsilon { fields["epsilon"] = .number(epsilon) }
            return fields
        }
    }

    static func missed(_ workload: String, _ round: Int, _ attempt: Int, _ reason: String) -> [String: JSONValue] {
        [
            "workload": .string(workload), "round": .integer(round), "attempt": .integer(attempt),
            "reason": .string(reason),
        ]
    }
}
