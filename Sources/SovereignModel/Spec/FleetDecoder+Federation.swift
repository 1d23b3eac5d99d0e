import Foundation

extension FleetDecoder {
    /// `federation: {coordinator, rounds, minSites, roundTimeout, retries, strategy, trainer,
    /// secureAggregation, privacy}`: how a federated workload trains across its `participants` datasets.
    ///
    /// - Returns: the federation (nil when something was reported) and the coordinator's node, which is
    ///   checked against the sites later.
    func decodeFederation(
        _ node: SpecNode,
        participants: Int
    ) -> (federation: Federation?, coordinator: (String, SpecNode)?) {
        guard
            let f = node.fields(
                "federation",
                allowed: [
                    "coordinator", "rounds", "minSites", "roundTimeout", "retries", "strategy", "trainer",
                    "secureAggregation", "privacy", "exampleBound",
                ]
            )
        else { return (nil, nil) }
        let coordinatorNode = f.required("coordinator", "the site whose server aggregates the updates")
        let coordinator = coordinatorNode?.name("the name of a Site")
        let rounds = f.required("rounds", "the number of rounds to train")?.integer(
            in: 1...100_000,
            expected: "1 to 100000 rounds"
        )
        let minSitesNode = f["minSites"]
        let minSites =
            minSitesNode.map {
                $0.integer(in: 1...max(1, participants), expected: "1 to \(participants) sites (one per dataset)")
            }
            ?? max(1, participants)
        let timeout =
            f["roundTimeout"].map { $0.quantity(TimeSpan.self, positive: true) } ?? Federation.defaultRoundTimeout
        let retries =
            f["retries"].map { $0.integer(in: 0...1000, expected: "0 to 1000 retries") } ?? Federation.defaultRetries
        let strategyNode = f["strategy"]
        let strategy = strategyNode.map { decodeStrategy($0, participants: participants) } ?? .fedAvg
        // Optional: a workload without a trainer is planned and simulated by rounds, not coordinated.
        let trainerNode = f["trainer"]
        let trainer = trainerNode.map { decodeTrainer($0) }
        let (secure, privacy) = decodeProtections(f, strategy: strategy ?? nil, participants: participants)
        let bound =
            f["exampleBound"].map { $0.integer(in: 1...1_000_000_000, expected: "1 to 1000000000 examples") }
            ?? Federation.defaultExampleBound
        if participants < 1 {
            node.report(.badValue, expected: "a federated workload with at least one dataset", found: "none")
            return (nil, nil)
        }
        let named = coordinator.flatMap { c in coordinatorNode.map { (c, $0) } }
        guard let coordinator, let coordinatorNode, let rounds, let minSites, let timeout, let retries,
            let strategy = strategy ?? nil, trainer != .some(nil), secure != .some(nil), privacy != .some(nil),
            let bound
        else { return (nil, named) }
        return (
            Federation(
                coordinator: coordinator,
                rounds: rounds,
                minSites: minSites,
                roundTimeout: timeout,
                retries: retries,
                strategy: strategy,
                trainer: trainer ?? nil,
                secureAggregation: secure ?? nil,
                privacy: privacy ?? nil,
                exampleBound: bound
            ),
            named
        )
    }

    /// `secureAggregation` and `privacy`, each `.some(nil)` when it does not decode or does not go with the strategy
    /// (secure aggregation and central noise need a strategy that sees only the sum).
    private func decodeProtections(
        _ f: SpecFields,
        strategy: Federation.Strategy?,
        participants: Int
    ) -> (secure: Federation.SecureAggregation??, privacy: Federation.Privacy??) {
        var secure: Federation.SecureAggregation?? = nil
        if let s = f["secureAggregation"] {
            secure = .some(decodeSecureAggregation(s, participants: participants))
            if let strategy, !strategy.needsOnlyTheSum {
                s.report(
                    .badValue,
                    expected:
                        "secure aggregation only with fedavg, fedprox, fedavgm or fedadam (they need only the sum)",
                    found: "strategy \(strategy.name), which must see each update"
                )
                secure = .some(nil)
            }
        }
        var privacy: Federation.Privacy?? = nil
        if let p = f["privacy"] {
            privacy = .some(decodePrivacy(p))
            if let strategy, !strategy.needsOnlyTheSum, privacy??.mode == .central {
                p.report(
                    .badValue,
                    expected: "local privacy with strategy \(strategy.name) (central noise needs a sum-based strategy)",
                    found: "mode central"
                )
                privacy = .some(nil)
            }
        }
        return (secure, privacy)
    }

    /// `strategy: fedavg` or `strategy: {name: fedprox, mu: 0.01}`.
    private func decodeStrategy(_ node: SpecNode, participants: Int) -> Federation.Strategy? {
        let names = "fedavg, fedprox, fedavgm, fedadam, fedmedian, trimmed-mean, krum"
        if let text = node.scalarText {
            switch text {
            case "fedavg": return .fedAvg
            case "fedmedian": return .fedMedian
            case "fedprox", "fedavgm", "fedadam", "trimmed-mean", "krum":
                return decodeStrategyFields(node, name: text, fields: nil, participants: participants)
            default:
                node.report(.badValue, expected: "one of \(names)")
                return nil
            }
        }
        guard
            let f = node.fields(
                "strategy",
                allowed: [
                    "name", "mu", "serverLearningRate", "momentum", "beta1", "beta2", "tau", "beta", "byzantine",
                    "keep",
                ]
            )
        else {
            return nil
        }
        guard let nameNode = f.required("name", "a strategy name (\(names))"), let name = nameNode.string() else {
            return nil
        }
        return decodeStrategyFields(nameNode, name: name, fields: f, participants: participants)
    }

    private func decodeStrategyFields(
        _ nameNode: SpecNode,
        name: String,
        fields f: SpecFields?,
        participants: Int
    ) -> Federation.Strategy? {
        let allowedByName: [String: [String]] = [
            "fedavg": [], "fedmedian": [], "fedprox": ["mu"], "fedavgm": ["serverLearningRate", "momentum"],
            "fedadam": ["serverLearningRate", "beta1", "beta2", "tau"], "trimmed-mean": ["beta"],
            "krum": ["byzantine", "keep"],
        ]
        guard let allowed = allowedByName[name] else {
            nameNode.report(
                .badValue,
                expected: "one of fedavg, fedprox, fedavgm, fedadam, fedmedian, trimmed-mean, krum"
            )
            return nil
        }
        var ok = true
        for key in f?.keys ?? [] where key != "name" && !allowed.contains(key) {
            f?[key]?.report(
                .unknownField,
                expected: allowed.isEmpty
                    ? "no parameters for \(name)" : "parameters of \(name): \(allowed.joined(separator: ", "))",
                found: "\"\(key)\""
            )
            ok = false
        }
        func value(_ key: String, _ range: ClosedRange<Double>, _ expected: String, default d: Double) -> Double? {
            guard let node = f?[key] else { return d }
            return node.number(in: range, expected: expected)
        }
        let result: Federation.Strategy?
        switch name {
        case "fedavg": result = .fedAvg
        case "fedmedian": result = .fedMedian
        case "fedprox":
            result = value("mu", 0...1e6, "a proximal μ ≥ 0", default: 0.01).map { .fedProx(mu: $0) }
        case "fedavgm":
            let lr = value("serverLearningRate", 1e-9...1e6, "a server learning rate above 0", default: 1)
            let m = value("momentum", 0...0.999_999, "a momentum in [0, 1)", default: 0.9)
            result = lr.flatMap { lr in m.map { .fedAvgM(serverLearningRate: lr, momentum: $0) } }
        case "fedadam":
            let lr = value("serverLearningRate", 1e-9...1e6, "a server learning rate above 0", default: 0.1)
            let b1 = value("beta1", 0...0.999_999, "β1 in [0, 1)", default: 0.9)
            let b2 = value("beta2", 0...0.999_999_999, "β2 in [0, 1)", default: 0.99)
            let tau = value("tau", 1e-12...1e6, "τ above 0", default: 1e-3)
            if let lr, let b1, let b2, let tau {
                result = .fedAdam(serverLearningRate: lr, beta1: b1, beta2: b2, tau: tau)
            } else {
                result = nil
            }
        case "trimmed-mean":
            result = value("beta", 0...0.499_999, "a trimmed fraction β in [0, 0.5)", default: 0.1).map {
                .trimmedMean(beta: $0)
            }
        default:  // krum
            let byzantineNode = f?["byzantine"]
            let byzantine = byzantineNode.map { $0.integer(in: 0...10_000, expected: "0 or more Byzantine sites") } ?? 0
            let keep = f?["keep"].map { $0.integer(in: 1...10_000, expected: "at least 1 update kept") } ?? 1
            if let byzantine, participants <= 2 * byzantine + 2 {
                (byzantineNode ?? nameNode).report(
                    .badValue,
                    expected: "Krum with more than 2·byzantine + 2 sites (\(2 * byzantine + 2))",
                    found: "\(participants) sites"
                )
                result = nil
            } else if let byzantine, let keep, keep > participants - byzantine {
                f?["keep"]?.report(
                    .badValue,
                    expected: "at most sites − byzantine (\(participants - byzantine)) updates kept",
                    found: "\(keep)"
                )
                result = nil
            } else {
                result = byzantine.flatMap { b in keep.map { .krum(byzantine: b, keep: $0) } }
            }
        }
        return ok ? result : nil
    }

    /// `trainer: {model: mlp, hidden: 32, features: 64, classes: 10, epochs, batchSize, learningRate,
    /// momentum, featureScale}`.
    private func decodeTrainer(_ node: SpecNode) -> Federation.Trainer? {
        guard
            let f = node.fields(
                "trainer",
                allowed: [
                    "model", "hidden", "features", "classes", "epochs", "batchSize", "learningRate", "momentum",
                    "featureScale",
                ]
            )
        else { return nil }
        let modelNode = f.required("model", "logistic-regression or mlp")
        var model: Federation.TrainerModel?
        switch modelNode?.scalarText {
        case "logistic-regression":
            model = .logisticRegression
            if let hidden = f["hidden"] {
                hidden.report(.badValue, expected: "hidden only with model mlp", found: "it with logistic-regression")
                model = nil
            }
        case "mlp":
            model = (f["hidden"].map { $0.integer(in: 1...65_536, expected: "1 to 65536 hidden units") } ?? 64).map {
                .mlp(hidden: $0)
            }
        default:
            modelNode?.report(.badValue, expected: "logistic-regression or mlp")
        }
        let features = f.required("features", "the number of input features")?.integer(
            in: 1...10_000_000,
            expected: "1 to 10000000 features"
        )
        let classes = f.required("classes", "the number of classes")?.integer(
            in: 2...100_000,
            expected: "2 to 100000 classes"
        )
        let epochs = f["epochs"].map { $0.integer(in: 1...10_000, expected: "1 to 10000 epochs") } ?? 1
        let batch = f["batchSize"].map { $0.integer(in: 1...1_000_000, expected: "1 to 1000000 examples") } ?? 32
        let rate = f["learningRate"].map { $0.number(in: 1e-12...1e3, expected: "a learning rate above 0") } ?? 0.05
        let momentum = f["momentum"].map { $0.number(in: 0...0.999_999, expected: "a momentum in [0, 1)") } ?? 0
        let scale = f["featureScale"].map { $0.number(in: 1e-12...1e12, expected: "a feature scale above 0") } ?? 1
        guard let model, let features, let classes, let epochs, let batch, let rate, let momentum, let scale else {
            return nil
        }
        return Federation.Trainer(
            model: model,
            features: features,
            classes: classes,
            epochs: epochs,
            batchSize: batch,
            learningRate: rate,
            momentum: momentum,
            featureScale: scale
        )
    }

    /// `secureAggregation: {threshold: 2, clip: 1.0}`.
    private func decodeSecureAggregation(_ node: SpecNode, participants: Int) -> Federation.SecureAggregation? {
        guard let f = node.fields("secureAggregation", allowed: ["threshold", "clip"]) else { return nil }
        guard participants >= 2 else {
            node.report(.badValue, expected: "secure aggregation over at least 2 sites", found: "\(participants)")
            return nil
        }
        let threshold =
            f["threshold"].map {
                $0.integer(in: 2...max(2, participants), expected: "a threshold from 2 to \(participants) (the sites)")
            } ?? max(2, participants / 2 + 1)
        let clip = f["clip"].map { $0.number(in: 1e-9...1e9, expected: "a clip bound above 0") } ?? 1
        guard let threshold, let clip else { return nil }
        return Federation.SecureAggregation(threshold: threshold, clip: clip)
    }

    /// `privacy: {mode: central, clipNorm: 1.0, noiseMultiplier: 1.1, delta: 1e-5}`.
    private func decodePrivacy(_ node: SpecNode) -> Federation.Privacy? {
        guard let f = node.fields("privacy", allowed: ["mode", "clipNorm", "noiseMultiplier", "delta"]) else {
            return nil
        }
        let mode = f["mode"].map { $0.choice(Federation.Privacy.Mode.self) } ?? .central
        let clip = f.required("clipNorm", "the L2 norm each update is clipped to")?.number(
            in: 1e-12...1e12,
            expected: "a clip norm above 0"
        )
        let sigma = f.required("noiseMultiplier", "the noise multiplier σ")?.number(
            in: 0...1e6,
            expected: "a noise multiplier ≥ 0"
        )
        let delta = f["delta"].map { $0.number(in: 1e-300...0.999_999, expected: "a δ in (0, 1)") } ?? 1e-5
        guard let mode, let clip, let sigma, let delta else { return nil }
        return Federation.Privacy(mode: mode, clipNorm: clip, noiseMultiplier: sigma, delta: delta)
    }
}
