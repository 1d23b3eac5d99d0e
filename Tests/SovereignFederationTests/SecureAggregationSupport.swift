import SovereignBase

@testable import SovereignFederation

/// The seeded generator the secure-aggregation tests draw keys and inputs from; not for production keys.
typealias SecAggGenerator = SplitMix64

/// Everything the coordinator received in a round, in the order it arrived.
struct SecAggCoordinatorView {
    var keys: [SecureAggregation.AdvertiseKeys] = []
    var shares: [SecureAggregation.ShareKeys] = []
    var masked: [SecureAggregation.MaskedInput] = []
    var responses: [SecureAggregation.UnmaskResponse] = []
}

/// One secure-aggregation round in memory.
struct SecAggRound {
    var setup: SecureAggregation.Setup
    var clients: [String: SecureAggregationClient]
    var coordinator: SecureAggregationCoordinator
    var view = SecAggCoordinatorView()
    var generator: SecAggGenerator

    init(sites: [String], threshold: Int, vectorLength: Int, seed: UInt64, session: String = "test-round") throws {
        let setup = try SecureAggregation.Setup(
            session: session,
            sites: sites,
            threshold: threshold,
            vectorLength: vectorLength
        )
        self.setup = setup
        clients = try Dictionary(
            uniqueKeysWithValues: sites.map { ($0, try SecureAggregationClient(site: $0, setup: setup)) }
        )
        coordinator = try SecureAggregationCoordinator(setup: setup)
        generator = SecAggGenerator(seed: seed)
    }

    /// Runs the round. `drops[site] = p` makes the site silent from phase p on (0: sends no keys, 1: no
    /// shares, 2: no masked input, 3: no unmasking answer).
    mutating func run(inputs: [String: [UInt32]], drops: [String: Int] = [:]) throws -> SecureAggregation.Aggregate {
        func active(_ site: String, _ phase: Int) -> Bool { (drops[site] ?? 4) > phase }
        for site in setup.sites where active(site, 0) {
            let message = try clients[site]!.advertiseKeys(using: &generator)
            view.keys.append(message)
            try coordinator.receive(message)
        }
        let directory = try coordinator.keyDirectory()
        for entry in directory.keys where active(entry.site, 1) {
            let message = try clients[entry.site]!.shareKeys(directory, using: &generator)
            view.shares.append(message)
            try coordinator.receive(message)
        }
        let bundles = try coordinator.shareBundles()
        for (site, bundle) in bundles.sorted(by: { $0.key < $1.key }) where active(site, 2) {
            let message = try clients[site]!.maskedInput(bundle, input: inputs[site]!)
            view.masked.append(message)
            try coordinator.receive(message)
        }
        let request = try coordinator.unmaskRequest()
        for site in request.survivors where active(site, 3) {
            let message = try clients[site]!.unmask(request)
            view.responses.append(message)
            try coordinator.receive(message)
        }
        return try coordinator.aggregate()
    }
}

func secAggRandomWords(_ count: Int, using generator: inout SecAggGenerator) -> [UInt32] {
    (0..<count).map { _ in UInt32(truncatingIfNeeded: generator.next()) }
}

func secAggPlainSum(_ vectors: [[UInt32]], length: Int) -> [UInt32] {
    var sum = [UInt32](repeating: 0, count: length)
    for vector in vectors { for k in 0..<length { sum[k] &+= vector[k] } }
    return sum
}
