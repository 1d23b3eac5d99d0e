import Foundation
import SovereignBase
import Testing

@testable import SovereignFederation

struct SecureAggregationTests {
    static func sites(_ n: Int) -> [String] { (1...n).map { "site-\(String(format: "%02d", $0))" } }

    @Test(arguments: 3...10)
    func unmaskedSumEqualsPlainSumExactly(n: Int) throws {
        var generator = SecAggGenerator(seed: UInt64(n) * 7919)
        let length = 1000 + n
        let sites = Self.sites(n)
        let inputs = Dictionary(uniqueKeysWithValues: sites.map { ($0, secAggRandomWords(length, using: &generator)) })
        let threshold = 2 + Int(generator.next() % UInt64(n - 1))
        var round = try SecAggRound(sites: sites, threshold: threshold, vectorLength: length, seed: UInt64(n))
        let result = try round.run(inputs: inputs)
        #expect(result.sites == sites)
        #expect(result.sum == secAggPlainSum(sites.map { inputs[$0]! }, length: length))
        #expect(round.coordinator.phase == .done)
    }

    @Test func dequantisedSumIsTheFloatSumWithinTheBound() throws {
        let n = 6
        let sites = Self.sites(n)
        let quantisation = try Quantisation(clip: 2, sites: n)
        var generator = SecAggGenerator(seed: 11)
        let floats = sites.map { _ in (0..<500).map { _ in Float.random(in: -2.5...2.5, using: &generator) } }
        var inputs: [String: [UInt32]] = [:]
        for (site, values) in zip(sites, floats) { inputs[site] = quantisation.quantise(values) }
        var round = try SecAggRound(sites: sites, threshold: 4, vectorLength: 500, seed: 12)
        let sum = quantisation.dequantiseSumAsDouble(try round.run(inputs: inputs).sum)
        // Clipped to ±2, then each value is off by at most 1/(2·scale): n/(2·scale) for the sum.
        let bound = Double(n) / (2 * quantisation.scale)
        for k in 0..<500 {
            let exact = floats.reduce(0.0) { $0 + min(max(Double($1[k]), -2), 2) }
            #expect(abs(sum[k] - exact) <= bound)
        }
    }

    /// Drops (n − t) sites at one phase and checks the sum is that of exactly the sites whose masked inputs
    /// the coordinator used.
    @Test(arguments: [1, 2, 3])
    func dropoutsUpToNMinusTStillGiveTheSurvivorsSum(phase: Int) throws {
        for n in [3, 5, 8] {
            for threshold in 2...n {
                var generator = SecAggGenerator(seed: UInt64(100 * n + threshold + 1000 * phase))
                let sites = Self.sites(n)
                let inputs = Dictionary(
                    uniqueKeysWithValues: sites.map { ($0, secAggRandomWords(64, using: &generator)) }
                )
                var drops: [String: Int] = [:]
                for site in sites.shuffled(using: &generator).prefix(n - threshold) { drops[site] = phase }
                var round = try SecAggRound(
                    sites: sites,
                    threshold: threshold,
                    vectorLength: 64,
                    seed: generator.next()
                )
                let result = try round.run(inputs: inputs, drops: drops)
                let summed = sites.filter { (drops[$0] ?? 4) > 2 }
                #expect(result.sites == summed)
                #expect(result.sum == secAggPlainSum(summed.map { inputs[$0]! }, length: 64))
            }
        }
    }

    @Test func dropoutsSpreadOverEveryPhaseStillGiveTheSurvivorsSum() throws {
        let sites = Self.sites(10)
        var generator = SecAggGenerator(seed: 5)
        let inputs = Dictionary(uniqueKeysWithValues: sites.map { ($0, secAggRandomWords(300, using: &generator)) })
        // t = 5: one site silent from each of phases 0–3, plus one more after sharing.
        let drops = ["site-02": 0, "site-04": 1, "site-05": 2, "site-09": 2, "site-10": 3]
        var round = try SecAggRound(sites: sites, threshold: 5, vectorLength: 300, seed: 6)
        let result = try round.run(inputs: inputs, drops: drops)
        let summed = sites.filter { (drops[$0] ?? 4) > 2 }
        #expect(result.sites == summed)
        #expect(result.sum == secAggPlainSum(summed.map { inputs[$0]! }, length: 300))
    }

    @Test(arguments: [0, 1, 2, 3])
    func moreDropoutsThanAllowedFailWithNoOutput(phase: Int) throws {
        let sites = Self.sites(6)
        var generator = SecAggGenerator(seed: 77)
        let inputs = Dictionary(uniqueKeysWithValues: sites.map { ($0, secAggRandomWords(16, using: &generator)) })
        let drops = Dictionary(uniqueKeysWithValues: sites.prefix(3).map { ($0, phase) })
        var round = try SecAggRound(sites: sites, threshold: 4, vectorLength: 16, seed: 78)
        let error = #expect(throws: FederationError.self) { try round.run(inputs: inputs, drops: drops) }
        #expect(error?.code == .secureAggregation)
        #expect(error?.message.contains("expected answers from at least 4 sites, found 3") == true)
        #expect(round.coordinator.phase == .failed)
        #expect(throws: FederationError.self) { try round.coordinator.aggregate() }
    }

    @Test func coordinatorsViewRevealsNoSingleInput() throws {
        let n = 5
        let sites = Self.sites(n)
        let length = 4096
        var generator = SecAggGenerator(seed: 2024)
        // Small, structured inputs: easy to spot if they leaked.
        let inputs = Dictionary(
            uniqueKeysWithValues: sites.enumerated().map { i, site in (site, (0..<length).map { UInt32(($0 + i) % 7) })
            }
        )
        var round = try SecAggRound(sites: sites, threshold: 3, vectorLength: length, seed: generator.next())
        let drops = ["site-03": 2]  // one site drops after sharing, so some masking keys are revealed too
        let result = try round.run(inputs: inputs, drops: drops)
        let view = round.view
        // Masked vectors differ from the inputs almost everywhere (a random word equals a given one 1 in 2^32).
        for message in view.masked {
            let x = inputs[message.site]!
            let equal = zip(message.maskedVector, x).filter { $0 == $1 }.count
            #expect(equal <= 2, "site \(message.site): \(equal) of \(length) words unmasked")
        }
        // No site ever had both its self-mask seed and its masking key revealed.
        for site in sites {
            let bShares = view.responses.filter { $0.selfMaskShares[site] != nil }.count
            let sShares = view.responses.filter { $0.maskingKeyShares[site] != nil }.count
            #expect(bShares == 0 || sShares == 0, "site \(site): \(bShares) b shares and \(sShares) s shares")
        }
        // With everything it has, the coordinator can remove a survivor's self mask, but what is left still
        // carries the pairwise masks: it is not the input.
        let victim = "site-01"
        let seed = try Shamir.reconstruct(view.responses.map { $0.selfMaskShares[victim]! })
        var stripped = view.masked.first { $0.site == victim }!.maskedVector
        try MaskGenerator.apply(seed: seed, to: &stripped, subtract: true)
        #expect(zip(stripped, inputs[victim]!).filter { $0 == $1 }.count <= 2)
        // Only the dropped site's masking key was revealed, and removing the self mask and the dropped
        // site's pairwise mask from a survivor's vector still leaves the other survivors' pairwise masks.
        #expect(Set(view.responses.flatMap { $0.maskingKeyShares.keys }) == ["site-03"])
        #expect(result.sum == secAggPlainSum(sites.filter { $0 != "site-03" }.map { inputs[$0]! }, length: length))
    }

    @Test func aClientRefusesToRevealBothSharesOfOneSite() throws {
        var round = try SecAggRound(sites: Self.sites(4), threshold: 3, vectorLength: 8, seed: 9)
        var generator = SecAggGenerator(seed: 10)
        let inputs = Dictionary(
            uniqueKeysWithValues: round.setup.sites.map { ($0, secAggRandomWords(8, using: &generator)) }
        )
        // Run to the end of phase 2 by hand.
        for site in round.setup.sites {
            try round.coordinator.receive(try round.clients[site]!.advertiseKeys(using: &generator))
        }
        let directory = try round.coordinator.keyDirectory()
        for site in round.setup.sites {
            try round.coordinator.receive(try round.clients[site]!.shareKeys(directory, using: &generator))
        }
        let bundles = try round.coordinator.shareBundles()
        for site in round.setup.sites {
            try round.coordinator.receive(try round.clients[site]!.maskedInput(bundles[site]!, input: inputs[site]!))
        }
        let honest = try round.coordinator.unmaskRequest()
        let sites = round.setup.sites
        let forged: [(SecureAggregation.UnmaskRequest, String)] = [
            (.init(session: honest.session, survivors: sites, dropped: ["site-02"]), "refusing to reveal both"),
            (
                .init(session: honest.session, survivors: Array(sites.prefix(3)), dropped: []),
                "exactly the sites that shared"
            ),
            (
                .init(session: honest.session, survivors: Array(sites.dropFirst()), dropped: ["site-01"]),
                "among the survivors"
            ),
            (.init(session: "other", survivors: sites, dropped: []), "expected session"),
            (
                .init(session: honest.session, survivors: ["site-01", "site-02"], dropped: ["site-03", "site-04"]),
                "at least 3 survivors"
            ),
        ]
        for (request, text) in forged {
            var client = round.clients["site-01"]!
            let error = #expect(throws: FederationError.self) { try client.unmask(request) }
            #expect(error?.message.contains(text) == true, "\(error?.message ?? "")")
        }
        // The honest request is answered once; a second request (say, now listing sites as dropped) is refused.
        var client = round.clients["site-01"]!
        _ = try client.unmask(honest)
        #expect(throws: FederationError.self) {
            try client.unmask(
                .init(session: honest.session, survivors: ["site-01", "site-02", "site-03"], dropped: ["site-04"])
            )
        }
    }

    @Test func tamperedOrMisaddressedSharesFailAuthentication() throws {
        var round = try SecAggRound(sites: Self.sites(3), threshold: 2, vectorLength: 4, seed: 31)
        var generator = SecAggGenerator(seed: 32)
        for site in round.setup.sites {
            try round.coordinator.receive(try round.clients[site]!.advertiseKeys(using: &generator))
        }
        let directory = try round.coordinator.keyDirectory()
        for site in round.setup.sites {
            try round.coordinator.receive(try round.clients[site]!.shareKeys(directory, using: &generator))
        }
        let bundles = try round.coordinator.shareBundles()
        let bundle = bundles["site-01"]!
        // One flipped bit anywhere in the ciphertext.
        for position in [0, 20, bundle.shares[0].ciphertext.count - 1] {
            var tampered = bundle
            tampered.shares[0].ciphertext[position] ^= 0x01
            var client = round.clients["site-01"]!
            let error = #expect(throws: FederationError.self) { try client.maskedInput(tampered, input: [0, 0, 0, 0]) }
            #expect(error?.message.contains("failed authentication") == true)
        }
        // A share relabelled as coming from another site fails too (the sender is authenticated data).
        var relabelled = bundle
        relabelled.shares[0].from = bundle.shares[1].from
        relabelled.shares[1].from = bundle.shares[0].from
        var client = round.clients["site-01"]!
        #expect(throws: FederationError.self) { try client.maskedInput(relabelled, input: [0, 0, 0, 0]) }
        // The untouched bundle is accepted.
        client = round.clients["site-01"]!
        #expect(try client.maskedInput(bundle, input: [0, 0, 0, 0]).maskedVector.count == 4)
    }

    @Test func clientsRefuseOutOfTurnAndInconsistentDirectories() throws {
        let setup = try SecureAggregation.Setup(session: "s", sites: ["a", "b", "c"], threshold: 2, vectorLength: 2)
        var generator = SecAggGenerator(seed: 1)
        #expect(throws: FederationError.self) { try SecureAggregationClient(site: "z", setup: setup) }
        var early = try SecureAggregationClient(site: "a", setup: setup)
        #expect(throws: FederationError.self) {
            try early.maskedInput(.init(session: "s", shares: []), input: [1, 2])
        }
        var clients = try ["a", "b", "c"].map { try SecureAggregationClient(site: $0, setup: setup) }
        let keys = try clients.indices.map { try clients[$0].advertiseKeys(using: &generator) }
        #expect(throws: FederationError.self) { try clients[0].advertiseKeys(using: &generator) }
        clients[0] = try SecureAggregationClient(site: "a", setup: setup)
        let aKeys = try clients[0].advertiseKeys(using: &generator)
        let good = [aKeys, keys[1], keys[2]]
        var duplicateKey = keys[2]
        duplicateKey.maskingKey = keys[1].maskingKey
        var uninvited = keys[2]
        uninvited.site = "mallory"
        var forgedOwn = aKeys
        forgedOwn.encryptionKey = keys[1].encryptionKey
        forgedOwn.maskingKey = keys[1].encryptionKey
        let cases: [([SecureAggregation.AdvertiseKeys], String)] = [
            ([aKeys, keys[1], duplicateKey], "appears twice"),
            ([aKeys, keys[1], keys[1]], "appears twice"),
            ([aKeys, keys[1], uninvited], "expected invited sites"),
            ([keys[1], keys[2]], "own advertised keys"),
            ([aKeys], "at least 2 sites"),
            ([forgedOwn, keys[2]], "appears twice"),
        ]
        for (list, text) in cases {
            var client = clients[0]
            let error = #expect(throws: FederationError.self) {
                try client.shareKeys(.init(session: "s", keys: list), using: &generator)
            }
            #expect(error?.message.contains(text) == true, "\(error?.message ?? "")")
        }
        var client = clients[0]
        #expect(try client.shareKeys(.init(session: "s", keys: good), using: &generator).shares.count == 2)
    }

    @Test func coordinatorRefusesDuplicatesStrangersAndBadLengths() throws {
        var round = try SecAggRound(sites: ["a", "b", "c"], threshold: 2, vectorLength: 3, seed: 3)
        var generator = SecAggGenerator(seed: 4)
        let a = try round.clients["a"]!.advertiseKeys(using: &generator)
        try round.coordinator.receive(a)
        #expect(throws: FederationError.self) { try round.coordinator.receive(a) }
        var stranger = a
        stranger.site = "mallory"
        #expect(throws: FederationError.self) { try round.coordinator.receive(stranger) }
        var copycat = try round.clients["b"]!.advertiseKeys(using: &generator)
        let b = copycat
        copycat.maskingKey = a.maskingKey
        #expect(throws: FederationError.self) { try round.coordinator.receive(copycat) }
        try round.coordinator.receive(b)
        #expect(throws: FederationError.self) { try round.coordinator.shareBundles() }
        let directory = try round.coordinator.keyDirectory()
        #expect(directory.keys.map(\.site) == ["a", "b"])
        // "c" missed phase 0, so it cannot join later.
        var lateKeys = try round.clients["c"]!.advertiseKeys(using: &generator)
        lateKeys.session = round.setup.session
        #expect(throws: FederationError.self) { try round.coordinator.receive(lateKeys) }
        for site in ["a", "b"] {
            try round.coordinator.receive(try round.clients[site]!.shareKeys(directory, using: &generator))
        }
        let bundles = try round.coordinator.shareBundles()
        let masked = try round.clients["a"]!.maskedInput(bundles["a"]!, input: [1, 2, 3])
        var short = masked
        short.maskedVector.removeLast()
        #expect(throws: FederationError.self) { try round.coordinator.receive(short) }
        try round.coordinator.receive(masked)
        #expect(throws: FederationError.self) { try round.coordinator.receive(masked) }
    }

    @Test func aForgedShareIsCaughtWhenTheMaskingKeyIsRebuilt() throws {
        let sites = Self.sites(4)
        var round = try SecAggRound(sites: sites, threshold: 3, vectorLength: 8, seed: 55)
        var generator = SecAggGenerator(seed: 56)
        for site in sites { try round.coordinator.receive(try round.clients[site]!.advertiseKeys(using: &generator)) }
        let directory = try round.coordinator.keyDirectory()
        for site in sites {
            try round.coordinator.receive(try round.clients[site]!.shareKeys(directory, using: &generator))
        }
        let bundles = try round.coordinator.shareBundles()
        for site in sites.dropLast() {
            try round.coordinator.receive(
                try round.clients[site]!.maskedInput(bundles[site]!, input: [UInt32](repeating: 1, count: 8))
            )
        }
        let request = try round.coordinator.unmaskRequest()
        #expect(request.dropped == ["site-04"])
        for (i, site) in request.survivors.enumerated() {
            var response = try round.clients[site]!.unmask(request)
            if i == 0 { response.maskingKeyShares["site-04"]!.y[5] ^= 0x80 }
            try round.coordinator.receive(response)
        }
        let error = #expect(throws: FederationError.self) { try round.coordinator.aggregate() }
        #expect(error?.message.contains("does not match its public key") == true)
    }

    @Test func messagesRoundTripThroughJSON() throws {
        var round = try SecAggRound(sites: Self.sites(3), threshold: 2, vectorLength: 5, seed: 8)
        var generator = SecAggGenerator(seed: 9)
        _ = try round.run(
            inputs: Dictionary(
                uniqueKeysWithValues: round.setup.sites.map { ($0, secAggRandomWords(5, using: &generator)) }
            )
        )
        func roundTrip<T: Codable & Equatable>(_ value: T) throws {
            #expect(try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value)) == value)
        }
        try roundTrip(round.setup)
        for m in round.view.keys { try roundTrip(m) }
        for m in round.view.shares { try roundTrip(m) }
        for m in round.view.masked { try roundTrip(m) }
        for m in round.view.responses { try roundTrip(m) }
    }

    @Test func setupIsValidated() {
        let bad: [(String, [String], Int, Int, String)] = [
            ("", ["a", "b"], 2, 1, "session"),
            ("s", ["a"], 2, 1, "sites"),
            ("s", ["a", "a"], 2, 1, "sites"),
            ("s", ["a", "b", "c"], 1, 1, "threshold"),
            ("s", ["a", "b", "c"], 4, 1, "threshold"),
            ("s", ["a", "b"], 2, 0, "vectorLength"),
        ]
        for (session, sites, threshold, length, field) in bad {
            let error = #expect(throws: FederationError.self) {
                try SecureAggregation.Setup(session: session, sites: sites, threshold: threshold, vectorLength: length)
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains(field) == true)
        }
    }

    /// AES-256-CTR with key 00 01 … 1f and a zero counter block, as computed independently with Python's
    /// `cryptography` (Cipher(algorithms.AES(bytes(range(32))), modes.CTR(bytes(16))) encrypting zeros,
    /// read as little-endian 32-bit words). Word 16384 is the first of the second 64 KiB piece.
    @Test func maskStreamMatchesAFixedTestVector() throws {
        let seed = (0..<32).map { UInt8($0) }
        let words = try MaskGenerator.words(seed: seed, count: 65600)
        #expect(
            Array(words.prefix(6)) == [0xb600_90f2, 0xd09f_492a, 0x6a9a_f3a9, 0x8077_2edd, 0xae76_5df0, 0xe59f_b94a]
        )
        #expect(Array(words[16384..<16388]) == [0x6a79_c177, 0x5fb2_a758, 0xac85_b5e9, 0x7e99_bdf5])
        #expect(words.reduce(0, &+) == 0xeb71_0589)
        var vector = words
        try MaskGenerator.apply(seed: seed, to: &vector, subtract: true)
        #expect(vector.allSatisfy { $0 == 0 })
        #expect(throws: FederationError.self) { try MaskGenerator.words(seed: [1, 2, 3], count: 4) }
    }

    /// A stream long enough to be split across the cores (1,048,577 words: 64 pieces and one word) matches
    /// Python's `cryptography` far from the start (word 786,432 opens the 49th piece) and in its total, so the
    /// counter block of every worker's first piece is right.
    @Test func aStreamSplitAcrossWorkersMatchesTheReference() throws {
        let words = try MaskGenerator.words(seed: (0..<32).map { UInt8($0) }, count: 1_048_577)
        #expect(Array(words[786_432..<786_436]) == [0xdb2e_daf6, 0x6cea_42bc, 0xdeb2_9a56, 0xa135_348f])
        #expect(words.reduce(0, &+) == 0x0946_85c4)
    }

    /// Many masks applied in one pass give what applying them one by one gives, added and subtracted.
    @Test func masksInOnePassEqualMasksOneByOne() throws {
        var generator = SplitMix64(seed: 41)
        let seeds = (0..<4).map { _ in (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let input = (0..<600_001).map { _ in UInt32.random(in: 0...UInt32.max, using: &generator) }
        var oneByOne = input
        for (index, seed) in seeds.enumerated() {
            try MaskGenerator.apply(seed: seed, to: &oneByOne, subtract: index % 2 == 1)
        }
        var onePass = input
        MaskGenerator.apply(
            try seeds.enumerated().map { try MaskGenerator.Mask(seed: $0.element, subtract: $0.offset % 2 == 1) },
            to: &onePass
        )
        #expect(onePass == oneByOne)
        #expect(onePass != input)
        MaskGenerator.apply(try seeds.map { try MaskGenerator.Mask(seed: $0) }, to: &oneByOne)
        MaskGenerator.apply(try seeds.map { try MaskGenerator.Mask(seed: $0, subtract: true) }, to: &oneByOne)
        #expect(oneByOne == onePass)
    }
}
