import Crypto
public import Foundation

/// One site's side of one secure-aggregation round: a state machine that answers each of the
/// coordinator's messages in turn and refuses anything out of turn, forged or inconsistent.
///
/// Calls, in order: ``advertiseKeys(using:)``, ``shareKeys(_:using:)``, ``maskedInput(_:input:)``,
/// ``unmask(_:)``. Each may be called once; any error leaves the client failed (every later call throws),
/// since a round that went wrong is abandoned rather than repaired.
public struct SecureAggregationClient: Sendable {
    /// The round's parameters.
    public let setup: SecureAggregation.Setup
    /// This site's name.
    public let site: String
    /// This site's 1-based index in `setup.sites`: its Shamir x-coordinate.
    public let index: Int

    private enum State: Sendable {
        case start
        case advertised(encryption: Curve25519.KeyAgreement.PrivateKey, masking: Curve25519.KeyAgreement.PrivateKey)
        case shared(Shared)
        case masked(Shared, received: [String: (maskingKey: Shamir.Share, selfMask: Shamir.Share)])
        case done
        case failed
    }

    private struct Shared: Sendable {
        var encryption: Curve25519.KeyAgreement.PrivateKey
        var masking: Curve25519.KeyAgreement.PrivateKey
        var selfMaskSeed: [UInt8]
        var directory:
            [String: (encryption: Curve25519.KeyAgreement.PublicKey, masking: Curve25519.KeyAgreement.PublicKey)]
        var ownShares: (maskingKey: Shamir.Share, selfMask: Shamir.Share)
    }

    private var state = State.start

    /// Makes the client for `site` in the round `setup`.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if the setup is invalid, `.secureAggregation`
    ///   if `site` is not one of its sites.
    public init(site: String, setup: SecureAggregation.Setup) throws {
        try setup.validate()
        guard let index = setup.index(of: site) else {
            throw FederationError(
                .secureAggregation,
                "secure aggregation \(setup.session): site \(site): expected one of the invited sites \(setup.sites)"
            )
        }
        self.setup = setup
        self.site = site
        self.index = index
    }

    private func error(_ phase: String, _ message: String) -> FederationError {
        FederationError(.secureAggregation, "secure aggregation \(setup.session): site \(site): \(phase): \(message)")
    }

    private func checkSession(_ session: String, _ phase: String) throws {
        guard session == setup.session else {
            throw error(phase, "expected session \"\(setup.session)\", found \"\(session)\"")
        }
    }

    /// Phase 0: makes this round's two X25519 key pairs and returns their public keys.
    /// - Parameter generator: The source of the private keys' 32 random bytes; a CSPRNG
    ///   (`SystemRandomNumberGenerator`) in production, a seeded generator in tests.
    /// - Returns: The message for the coordinator.
    /// - Throws: ``FederationError`` `.secureAggregation` if called out of turn.
    public mutating func advertiseKeys(
        using generator: inout some RandomNumberGenerator
    ) throws
        -> SecureAggregation.AdvertiseKeys
    {
        guard case .start = state else {
            state = .failed
            throw error("advertise keys", "called out of turn")
        }
        let encryption = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: randomBytes(32, using: &generator))
        let masking = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: randomBytes(32, using: &generator))
        state = .advertised(encryption: encryption, masking: masking)
        return SecureAggregation.AdvertiseKeys(
            session: setup.session,
            site: site,
            encryptionKey: encryption.publicKey.rawRepresentation,
            maskingKey: masking.publicKey.rawRepresentation
        )
    }

    /// Phase 1: checks the key directory, makes the self-mask seed b_u, splits b_u and the masking
    /// private key into `threshold`-of-|U1| shares and encrypts each site's pair of shares for it.
    /// - Parameters:
    ///   - directory: The coordinator's key directory (U1).
    ///   - generator: The source of b_u, the polynomial coefficients and the AES-GCM nonces.
    /// - Returns: The message for the coordinator.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn, for another session, with
    ///   uninvited or repeated sites, repeated or invalid public keys, without this site's own keys, or with
    ///   fewer than `threshold` sites.
    public mutating func shareKeys(
        _ directory: SecureAggregation.KeyDirectory,
        using generator: inout some RandomNumberGenerator
    ) throws -> SecureAggregation.ShareKeys {
        guard case .advertised(let encryption, let masking) = state else {
            state = .failed
            throw error("share keys", "called out of turn")
        }
        state = .failed
        let phase = "share keys"
        try checkSession(directory.session, phase)
        var keys:
            [String: (encryption: Curve25519.KeyAgreement.PublicKey, masking: Curve25519.KeyAgreement.PublicKey)] = [:]
        var seenKeys = Set<Data>()
        for entry in directory.keys {
            try checkSession(entry.session, phase)
            guard setup.index(of: entry.site) != nil else {
                throw error(phase, "key directory: expected invited sites, found \"\(entry.site)\"")
            }
            guard keys[entry.site] == nil else {
                throw error(phase, "key directory: site \(entry.site) appears twice")
            }
            guard seenKeys.insert(entry.encryptionKey).inserted, seenKeys.insert(entry.maskingKey).inserted else {
                throw error(phase, "key directory: site \(entry.site): a public key that appears twice")
            }
            do {
                keys[entry.site] = (
                    try Curve25519.KeyAgreement.PublicKey(rawRepresentation: entry.encryptionKey),
                    try Curve25519.KeyAgreement.PublicKey(rawRepresentation: entry.maskingKey)
                )
            } catch {
                throw self.error(phase, "key directory: site \(entry.site): expected 32-byte X25519 public keys")
            }
        }
        guard let own = keys[site], own.encryption.rawRepresentation == encryption.publicKey.rawRepresentation,
            own.masking.rawRepresentation == masking.publicKey.rawRepresentation
        else {
            throw error(phase, "key directory: expected this site's own advertised keys, found other or none")
        }
        guard keys.count >= setup.threshold else {
            throw error(phase, "key directory: expected at least \(setup.threshold) sites, found \(keys.count)")
        }
        let selfMaskSeed = randomBytes(32, using: &generator)
        let n = setup.sites.count
        let maskingShares = try Shamir.split(
            Array(masking.rawRepresentation),
            threshold: setup.threshold,
            count: n,
            using: &generator
        )
        let selfMaskShares = try Shamir.split(selfMaskSeed, threshold: setup.threshold, count: n, using: &generator)
        var out = [SecureAggregation.EncryptedShare]()
        for other in keys.keys.sorted() where other != site {
            let otherIndex = setup.index(of: other)!
            let key = try SecureAggregationKeys.shareKey(encryption, keys[other]!.encryption, session: setup.session)
            let plaintext =
                [UInt8(index), UInt8(otherIndex)] + maskingShares[otherIndex - 1].y + selfMaskShares[otherIndex - 1].y
            let nonce = try AES.GCM.Nonce(data: randomBytes(12, using: &generator))
            let box = try AES.GCM.seal(
                plaintext,
                using: key,
                nonce: nonce,
                authenticating: SecureAggregationKeys.shareAssociatedData(session: setup.session, from: site, to: other)
            )
            out.append(.init(from: site, to: other, ciphertext: box.combined!))
        }
        state = .shared(
            Shared(
                encryption: encryption,
                masking: masking,
                selfMaskSeed: selfMaskSeed,
                directory: keys,
                ownShares: (maskingShares[index - 1], selfMaskShares[index - 1])
            )
        )
        return SecureAggregation.ShareKeys(session: setup.session, site: site, shares: out)
    }

    /// Phase 2: decrypts and checks the shares from the other sites of U2, then masks `input` with the
    /// self mask and the pairwise masks of U2.
    /// - Parameters:
    ///   - bundle: The shares addressed to this site.
    ///   - input: x_u: `vectorLength` words (``Quantisation`` makes them from floats). Masked in place
    ///     when the caller passes its only reference.
    /// - Returns: The message for the coordinator.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn, for another session, with
    ///   shares for another site, from unknown or repeated senders, that fail authentication or carry the
    ///   wrong indices, from fewer than `threshold − 1` other sites, or an input of the wrong length.
    /// - Complexity: O(|U2| × vectorLength) AES-CTR words.
    public mutating func maskedInput(
        _ bundle: SecureAggregation.ShareBundle,
        input: consuming [UInt32]
    ) throws
        -> SecureAggregation.MaskedInput
    {
        guard case .shared(let shared) = state else {
            state = .failed
            throw error("masked input", "called out of turn")
        }
        state = .failed
        let phase = "masked input"
        try checkSession(bundle.session, phase)
        guard input.count == setup.vectorLength else {
            throw error(phase, "input: expected \(setup.vectorLength) words, found \(input.count)")
        }
        var received: [String: (maskingKey: Shamir.Share, selfMask: Shamir.Share)] = [:]
        for share in bundle.shares {
            guard share.to == site else {
                throw error(phase, "share from \(share.from): expected it addressed to \(site), found \(share.to)")
            }
            guard share.from != site, let keys = shared.directory[share.from],
                let fromIndex = setup.index(of: share.from)
            else {
                throw error(
                    phase,
                    "share from \(share.from): expected a sender in the key directory other than this site"
                )
            }
            guard received[share.from] == nil else { throw error(phase, "share from \(share.from): appears twice") }
            let plaintext: Data
            do {
                let key = try SecureAggregationKeys.shareKey(shared.encryption, keys.encryption, session: setup.session)
                plaintext = try AES.GCM.open(
                    AES.GCM.SealedBox(combined: share.ciphertext),
                    using: key,
                    authenticating: SecureAggregationKeys.shareAssociatedData(
                        session: setup.session,
                        from: share.from,
                        to: site
                    )
                )
            } catch {
                throw self.error(phase, "share from \(share.from): failed authentication (AES-GCM)")
            }
            let bytes = [UInt8](plaintext)
            guard bytes.count == 66, bytes[0] == UInt8(fromIndex), bytes[1] == UInt8(index) else {
                throw error(phase, "share from \(share.from): expected 66 bytes for indices \(fromIndex)→\(index)")
            }
            received[share.from] = (
                Shamir.Share(x: index, y: Array(bytes[2..<34])), Shamir.Share(x: index, y: Array(bytes[34..<66]))
            )
        }
        guard received.count + 1 >= setup.threshold else {
            throw error(
                phase,
                "expected shares from at least \(setup.threshold - 1) other sites, found \(received.count)"
            )
        }
        var masks = [MaskGenerator.Mask(key: SymmetricKey(data: shared.selfMaskSeed), subtract: false)]
        for other in received.keys.sorted() {
            let seed = try SecureAggregationKeys.pairwiseSeed(
                shared.masking,
                shared.directory[other]!.masking,
                session: setup.session
            )
            masks.append(MaskGenerator.Mask(key: seed, subtract: setup.index(of: other)! < index))
        }
        var vector = input
        MaskGenerator.apply(masks, to: &vector)
        state = .masked(shared, received: received)
        return SecureAggregation.MaskedInput(session: setup.session, site: site, maskedVector: vector)
    }

    /// Phase 3: reveals the shares that unmask the sum: of b_v for every survivor v and of s_v's private key
    /// for every dropped v — after checking that survivors and dropped sites are disjoint and together
    /// exactly the sites that shared keys with this site (U2), so no site ever has both revealed.
    /// - Parameter request: The coordinator's list of survivors and dropped sites.
    /// - Returns: The message for the coordinator.
    /// - Throws: ``FederationError`` `.secureAggregation` if out of turn (including a second request), for
    ///   another session, with a site both surviving and dropped, sites outside U2 or missing from the
    ///   request, this site not a survivor, or fewer than `threshold` survivors.
    public mutating func unmask(
        _ request: SecureAggregation.UnmaskRequest
    ) throws
        -> SecureAggregation.UnmaskResponse
    {
        guard case .masked(let shared, let received) = state else {
            state = .failed
            throw error("unmask", "called out of turn")
        }
        state = .failed
        let phase = "unmask"
        try checkSession(request.session, phase)
        let survivors = Set(request.survivors)
        let dropped = Set(request.dropped)
        guard survivors.count == request.survivors.count, dropped.count == request.dropped.count else {
            throw error(
                phase,
                "expected each site listed once, found survivors \(request.survivors), dropped \(request.dropped)"
            )
        }
        guard survivors.isDisjoint(with: dropped) else {
            throw error(
                phase,
                "refusing to reveal both shares of \(survivors.intersection(dropped).sorted()): listed as survivor and dropped"
            )
        }
        let sharedWith = Set(received.keys).union([site])
        guard survivors.union(dropped) == sharedWith else {
            throw error(
                phase,
                "expected survivors and dropped to be exactly the sites that shared keys \(sharedWith.sorted()), found \((survivors.union(dropped)).sorted())"
            )
        }
        guard survivors.contains(site) else { throw error(phase, "expected this site among the survivors") }
        guard survivors.count >= setup.threshold else {
            throw error(phase, "expected at least \(setup.threshold) survivors, found \(survivors.count)")
        }
        var selfMaskShares: [String: Shamir.Share] = [:]
        var maskingKeyShares: [String: Shamir.Share] = [:]
        for v in survivors { selfMaskShares[v] = v == site ? shared.ownShares.selfMask : received[v]!.selfMask }
        for v in dropped { maskingKeyShares[v] = received[v]!.maskingKey }
        state = .done
        return SecureAggregation.UnmaskResponse(
            session: setup.session,
            site: site,
            selfMaskShares: selfMaskShares,
            maskingKeyShares: maskingKeyShares
        )
    }
}
