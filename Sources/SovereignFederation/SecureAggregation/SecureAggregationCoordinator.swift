import Crypto
import Foundation
import SovereignBase

/// The coordinator's side of one secure-aggregation round: collects each phase's messages from the sites
/// (by site name), routes the encrypted shares, decides who survived and reconstructs the sum.
///
/// Per phase: ``receive(_:)-(SecureAggregation.AdvertiseKeys)`` for every site that answers, then the
/// closing call (``keyDirectory()``, ``shareBundles()``, ``unmaskRequest()``, ``aggregate()``), which fixes
/// who took part and answers the sites. A site that does not answer in time is simply not received; a
/// closing call with fewer than `threshold` answers throws and the round is over with no output.
public struct SecureAggregationCoordinator: Sendable {
    /// Where a round is.
    public enum Phase: String, Sendable, Hashable, Codable {
        /// Collecting ``SecureAggregation/AdvertiseKeys``.
        case advertiseKeys
        /// Collecting ``SecureAggregation/ShareKeys``.
        case shareKeys
        /// Collecting ``SecureAggregation/MaskedInput``.
        case maskedInput
        /// Collecting ``SecureAggregation/UnmaskResponse``.
        case unmasking
        /// The sum has been computed.
        case done
        /// A closing call failed; the round has no output.
        case failed
    }

    /// The round's parameters.
    public let setup: SecureAggregation.Setup
    /// Where the round is.
    public private(set) var phase = Phase.advertiseKeys

    private var keys: [String: SecureAggregation.AdvertiseKeys] = [:]
    private var shares: [String: SecureAggregation.ShareKeys] = [:]
    private var masked: [String: [UInt32]] = [:]
    private var responses: [String: SecureAggregation.UnmaskResponse] = [:]
    private var u1: [String] = []
    private var u2: [String] = []
    private var u3: [String] = []

    /// Makes the coordinator of the round `setup`.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if the setup is invalid.
    public init(setup: SecureAggregation.Setup) throws {
        try setup.validate()
        self.setup = setup
    }

    /// U1, U2, U3 so far: the sites that advertised keys, shared keys and sent masked inputs.
    public var participants: (advertised: [String], shared: [String], masked: [String]) { (u1, u2, u3) }

    private func error(_ phase: String, _ message: String) -> FederationError {
        FederationError(.secureAggregation, "secure aggregation \(setup.session): coordinator: \(phase): \(message)")
    }

    private func check(
        _ expected: Phase,
        session: String,
        site: String,
        among allowed: [String],
        _ name: String
    )
        throws
    {
        guard phase == expected else {
            throw error(name, "message from \(site) out of turn: the round is at \(phase.rawValue)")
        }
        guard session == setup.session else {
            throw error(name, "message from \(site): expected session \"\(setup.session)\", found \"\(session)\"")
        }
        guard allowed.contains(site) else {
            throw error(name, "message from \(site): expected one of \(allowed)")
        }
    }

    private mutating func close(_ name: String, _ answered: [String]) throws {
        guard answered.count >= setup.threshold else {
            phase = .failed
            throw error(
                name,
                "expected answers from at least \(setup.threshold) sites, found \(answered.count): \(answered)"
            )
        }
    }

    /// Phase 0: takes one site's public keys.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn, for another session, from an
    ///   uninvited site, a repeat, or keys that are not 32 bytes or repeat another site's.
    public mutating func receive(_ message: SecureAggregation.AdvertiseKeys) throws {
        let name = "advertise keys"
        try check(.advertiseKeys, session: message.session, site: message.site, among: setup.sites, name)
        guard keys[message.site] == nil else { throw error(name, "\(message.site) sent keys twice") }
        guard message.encryptionKey.count == 32, message.maskingKey.count == 32,
            message.encryptionKey != message.maskingKey
        else { throw error(name, "\(message.site): expected two different 32-byte X25519 public keys") }
        let used = Set(keys.values.flatMap { [$0.encryptionKey, $0.maskingKey] })
        guard !used.contains(message.encryptionKey), !used.contains(message.maskingKey) else {
            throw error(name, "\(message.site): a public key another site already advertised")
        }
        keys[message.site] = message
    }

    /// Closes phase 0: U1 is every site whose keys arrived; send the directory to each of them.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn or fewer than `threshold` sites answered.
    public mutating func keyDirectory() throws -> SecureAggregation.KeyDirectory {
        guard phase == .advertiseKeys else { throw error("key directory", "out of turn: the round is at \(phase)") }
        u1 = keys.keys.sorted()
        try close("key directory", u1)
        phase = .shareKeys
        return SecureAggregation.KeyDirectory(session: setup.session, keys: u1.map { keys[$0]! })
    }

    /// Phase 1: takes one site's encrypted shares, which must be exactly one for every other site of U1.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn, for another session, from a site
    ///   outside U1, a repeat, or shares from another sender or not exactly for U1 minus the sender.
    public mutating func receive(_ message: SecureAggregation.ShareKeys) throws {
        let name = "share keys"
        try check(.shareKeys, session: message.session, site: message.site, among: u1, name)
        guard shares[message.site] == nil else { throw error(name, "\(message.site) sent shares twice") }
        let recipients = message.shares.map(\.to)
        guard message.shares.allSatisfy({ $0.from == message.site }),
            recipients.sorted() == u1.filter({ $0 != message.site })
        else {
            throw error(
                name,
                "\(message.site): expected one share from it for each of \(u1.filter { $0 != message.site }), found \(recipients)"
            )
        }
        shares[message.site] = message
    }

    /// Closes phase 1: U2 is every site whose shares arrived; send `bundles[v]` to each site v of U2.
    /// - Returns: For each site of U2, the shares addressed to it by the other sites of U2.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn or fewer than `threshold` sites answered.
    public mutating func shareBundles() throws -> [String: SecureAggregation.ShareBundle] {
        guard phase == .shareKeys else { throw error("share bundles", "out of turn: the round is at \(phase)") }
        u2 = shares.keys.sorted()
        try close("share bundles", u2)
        var bundles: [String: SecureAggregation.ShareBundle] = [:]
        for v in u2 {
            let addressed = u2.filter { $0 != v }.compactMap { u in shares[u]!.shares.first { $0.to == v } }
            bundles[v] = SecureAggregation.ShareBundle(session: setup.session, shares: addressed)
        }
        phase = .maskedInput
        return bundles
    }

    /// Phase 2: takes one site's masked input.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn, for another session, from a site
    ///   outside U2, a repeat, or a vector of the wrong length.
    public mutating func receive(_ message: SecureAggregation.MaskedInput) throws {
        let name = "masked input"
        try check(.maskedInput, session: message.session, site: message.site, among: u2, name)
        guard masked[message.site] == nil else { throw error(name, "\(message.site) sent its masked input twice") }
        guard message.maskedVector.count == setup.vectorLength else {
            throw error(
                name,
                "\(message.site): expected \(setup.vectorLength) words, found \(message.maskedVector.count)"
            )
        }
        masked[message.site] = message.maskedVector
    }

    /// Closes phase 2: U3 is every site whose masked input arrived; send the request to each of them.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn or fewer than `threshold` sites answered.
    public mutating func unmaskRequest() throws -> SecureAggregation.UnmaskRequest {
        guard phase == .maskedInput else { throw error("unmask request", "out of turn: the round is at \(phase)") }
        u3 = masked.keys.sorted()
        try close("unmask request", u3)
        phase = .unmasking
        return SecureAggregation.UnmaskRequest(
            session: setup.session,
            survivors: u3,
            dropped: u2.filter { masked[$0] == nil }
        )
    }

    /// Phase 3: takes one survivor's shares, which must be exactly of b_v for U3 and of s_v for U2 ∖ U3, all
    /// at the sender's x-coordinate.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn, for another session, from a site
    ///   outside U3, a repeat, or shares for the wrong sites, at the wrong x or of the wrong length.
    public mutating func receive(_ message: SecureAggregation.UnmaskResponse) throws {
        let name = "unmask"
        try check(.unmasking, session: message.session, site: message.site, among: u3, name)
        guard responses[message.site] == nil else { throw error(name, "\(message.site) sent its shares twice") }
        let dropped = u2.filter { masked[$0] == nil }
        guard message.selfMaskShares.keys.sorted() == u3, message.maskingKeyShares.keys.sorted() == dropped else {
            throw error(
                name,
                "\(message.site): expected self-mask shares for \(u3) and masking-key shares for \(dropped), found \(message.selfMaskShares.keys.sorted()) and \(message.maskingKeyShares.keys.sorted())"
            )
        }
        let x = setup.index(of: message.site)!
        for share in Array(message.selfMaskShares.values) + Array(message.maskingKeyShares.values) {
            guard share.x == x, share.y.count == 32 else {
                throw error(
                    name,
                    "\(message.site): expected 32-byte shares at x = \(x), found x = \(share.x), \(share.y.count) bytes"
                )
            }
        }
        responses[message.site] = message
    }

    /// Closes phase 3: reconstructs every survivor's self-mask seed and every dropped site's masking key from
    /// `threshold` shares each, removes all masks and returns the sum of the survivors' inputs.
    /// - Returns: Σ_{u∈U3} x_u mod 2^32 and U3.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn, fewer than `threshold` survivors
    ///   answered, or a reconstructed masking key does not match the public key its site advertised (a
    ///   forged share).
    /// - Complexity: O((|U3| + |U3| × |U2 ∖ U3|) × vectorLength) AES-CTR words.
    public mutating func aggregate() throws -> SecureAggregation.Aggregate {
        let name = "aggregate"
        guard phase == .unmasking else { throw error(name, "out of turn: the round is at \(phase)") }
        let responders = responses.keys.sorted()
        try close(name, responders)
        phase = .failed
        let used = Array(responders.prefix(setup.threshold))
        var masks: [MaskGenerator.Mask] = []
        for u in u3 {
            let seed = try Shamir.reconstruct(used.map { responses[$0]!.selfMaskShares[u]! })
            masks.append(MaskGenerator.Mask(key: SymmetricKey(data: seed), subtract: true))
        }
        for v in u2 where masked[v] == nil {
            let raw = try Shamir.reconstruct(used.map { responses[$0]!.maskingKeyShares[v]! })
            let privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw)
            guard privateKey.publicKey.rawRepresentation == keys[v]!.maskingKey else {
                throw error(
                    name,
                    "the masking key of dropped site \(v) reconstructed from \(used) does not match its public key"
                )
            }
            let vIndex = setup.index(of: v)!
            for u in u3 {
                let publicKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: keys[u]!.maskingKey)
                let seed = try SecureAggregationKeys.pairwiseSeed(privateKey, publicKey, session: setup.session)
                // u added PRG(s_uv) if v > u and subtracted it if v < u; undo that.
                masks.append(MaskGenerator.Mask(key: seed, subtract: vIndex > setup.index(of: u)!))
            }
        }
        var sum = maskedSum()
        MaskGenerator.apply(masks, to: &sum)
        phase = .done
        masked = [:]
        return SecureAggregation.Aggregate(sum: sum, sites: u3)
    }

    /// Σ_{u∈U3} y_u mod 2^32, the survivors' masked vectors summed on all cores.
    private func maskedSum() -> [UInt32] {
        let inputs = u3.map { masked[$0]! }
        var sum = [UInt32](repeating: 0, count: setup.vectorLength)
        sum.withUnsafeMutableBufferPointer { buffer in
            // Each worker writes its own disjoint range of the buffer.
            nonisolated(unsafe) let out = buffer
            Parallel.forEachRange(count: out.count, grain: 1 << 18) { range in
                // Block by block, so each block of the sum stays in cache while every input is added in.
                for block in stride(from: range.lowerBound, to: range.upperBound, by: 1 << 14) {
                    let end = min(range.upperBound, block + 1 << 14)
                    for input in inputs {
                        input.withUnsafeBufferPointer { y in
                            for k in block..<end { out[k] &+= y[k] }
                        }
                    }
                }
            }
        }
        return sum
    }
}
