public import Foundation

/// Secure aggregation after Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine
/// Learning" (CCS 2017), in its semi-honest form: the coordinator learns only the sum of the surviving
/// sites' vectors mod 2^32, even if up to n − t sites drop out on the way.
///
/// The namespace holds the round's ``Setup`` and every message, in protocol order:
/// 0. ``AdvertiseKeys`` (site → coordinator), answered by ``KeyDirectory``;
/// 1. ``ShareKeys`` (site → coordinator), answered by one ``ShareBundle`` per site;
/// 2. ``MaskedInput`` (site → coordinator), answered by ``UnmaskRequest``;
/// 3. ``UnmaskResponse`` (site → coordinator), after which the coordinator has the ``Aggregate``.
///
/// Sites run a ``SecureAggregationClient`` and the coordinator a ``SecureAggregationCoordinator``. Every
/// message is plain `Codable` (JSON; `Data` as base64) and names its session, so a message of another
/// round is refused.
public enum SecureAggregation: Sendable {
    /// The round's public parameters, sent by the coordinator to every invited site before phase 0.
    public struct Setup: Sendable, Hashable, Codable {
        /// A name unique to this round (like `fedavg-7-round-12`); every key derivation and encryption
        /// is bound to it.
        public var session: String
        /// The invited sites, sorted and distinct; site `sites[i]` has index i + 1, which is its Shamir
        /// x-coordinate and orders the pairwise masks.
        public var sites: [String]
        /// How many sites must survive to the end (and how many shares reconstruct a secret):
        /// 2 ≤ threshold ≤ sites.count.
        public var threshold: Int
        /// The number of 32-bit words every site's input has.
        public var vectorLength: Int

        /// Makes and checks a setup.
        /// - Parameters:
        ///   - session: A name unique to this round; not empty.
        ///   - sites: The invited sites; distinct, non-empty names; 2…255 of them. They are sorted.
        ///   - threshold: 2 ≤ threshold ≤ sites.count.
        ///   - vectorLength: At least 1.
        /// - Throws: ``FederationError`` `.invalidConfiguration` naming the bad field.
        public init(session: String, sites: [String], threshold: Int, vectorLength: Int) throws {
            self.session = session
            self.sites = sites.sorted()
            self.threshold = threshold
            self.vectorLength = vectorLength
            try validate()
        }

        /// Checks the fields (a decoded setup has not been checked yet).
        /// - Throws: ``FederationError`` `.invalidConfiguration` naming the bad field.
        public func validate() throws {
            func fail(_ message: String) -> FederationError {
                FederationError(.invalidConfiguration, "secure aggregation setup: \(message)")
            }
            guard !session.isEmpty else { throw fail("session: expected a non-empty name, found \"\"") }
            guard (2...255).contains(sites.count) else {
                throw fail("sites: expected 2…255 sites, found \(sites.count)")
            }
            guard sites == sites.sorted(), Set(sites).count == sites.count, !sites.contains("") else {
                throw fail("sites: expected distinct non-empty names in sorted order, found \(sites)")
            }
            guard (2...sites.count).contains(threshold) else {
                throw fail("threshold: expected 2…\(sites.count) (the number of sites), found \(threshold)")
            }
            guard vectorLength >= 1 else { throw fail("vectorLength: expected at least 1, found \(vectorLength)") }
        }

        /// The 1-based index of `site`, or nil if it is not invited.
        public func index(of site: String) -> Int? {
            sites.firstIndex(of: site).map { $0 + 1 }
        }
    }

    /// Phase 0, site → coordinator: the site's two fresh X25519 public keys for this round.
    public struct AdvertiseKeys: Sendable, Hashable, Codable {
        /// The round's session.
        public var session: String
        /// The sending site.
        public var site: String
        /// c_u: the raw 32-byte public key that encrypts shares sent to this site.
        public var encryptionKey: Data
        /// s_u: the raw 32-byte public key of the pairwise masks.
        public var maskingKey: Data

        /// Makes the message.
        public init(session: String, site: String, encryptionKey: Data, maskingKey: Data) {
            self.session = session
            self.site = site
            self.encryptionKey = encryptionKey
            self.maskingKey = maskingKey
        }
    }

    /// Phase 0 result, coordinator → each site in U1: the keys of every site that advertised them.
    public struct KeyDirectory: Sendable, Hashable, Codable {
        /// The round's session.
        public var session: String
        /// The keys of U1, sorted by site.
        public var keys: [AdvertiseKeys]

        /// Makes the message.
        public init(session: String, keys: [AdvertiseKeys]) {
            self.session = session
            self.keys = keys
        }
    }

    /// One site's Shamir shares for another site, encrypted so only that site can read them.
    public struct EncryptedShare: Sendable, Hashable, Codable {
        /// The site whose secrets are shared.
        public var from: String
        /// The site that holds the shares.
        public var to: String
        /// AES-256-GCM combined form (12-byte nonce, ciphertext, 16-byte tag) of the share of s_from's
        /// private key and of b_from, keyed by HKDF(X25519(c_from, c_to)).
        public var ciphertext: Data

        /// Makes the message part.
        public init(from: String, to: String, ciphertext: Data) {
            self.from = from
            self.to = to
            self.ciphertext = ciphertext
        }
    }

    /// Phase 1, site → coordinator: encrypted shares for every other site in U1.
    public struct ShareKeys: Sendable, Hashable, Codable {
        /// The round's session.
        public var session: String
        /// The sending site.
        public var site: String
        /// One share per other site in U1, sorted by recipient.
        public var shares: [EncryptedShare]

        /// Makes the message.
        public init(session: String, site: String, shares: [EncryptedShare]) {
            self.session = session
            self.site = site
            self.shares = shares
        }
    }

    /// Phase 1 result, coordinator → one site v in U2: the shares addressed to v by the other sites of U2.
    public struct ShareBundle: Sendable, Hashable, Codable {
        /// The round's session.
        public var session: String
        /// The shares, all with `to == v`, sorted by sender.
        public var shares: [EncryptedShare]

        /// Makes the message.
        public init(session: String, shares: [EncryptedShare]) {
            self.session = session
            self.shares = shares
        }
    }

    /// Phase 2, site → coordinator: the site's input with its self mask and pairwise masks added.
    public struct MaskedInput: Sendable, Hashable, Codable {
        /// The round's session.
        public var session: String
        /// The sending site.
        public var site: String
        /// y_u = x_u + PRG(b_u) + Σ_{v>u} PRG(s_uv) − Σ_{v<u} PRG(s_uv) mod 2^32; `vectorLength` words.
        public var maskedVector: [UInt32]

        /// Makes the message.
        public init(session: String, site: String, maskedVector: [UInt32]) {
            self.session = session
            self.site = site
            self.maskedVector = maskedVector
        }
    }

    /// Phase 2 result, coordinator → each site in U3: who survived and who dropped after sharing keys.
    public struct UnmaskRequest: Sendable, Hashable, Codable {
        /// The round's session.
        public var session: String
        /// U3: the sites whose masked inputs are in the sum, sorted.
        public var survivors: [String]
        /// U2 ∖ U3: the sites that shared keys but sent no masked input, sorted.
        public var dropped: [String]

        /// Makes the message.
        public init(session: String, survivors: [String], dropped: [String]) {
            self.session = session
            self.survivors = survivors
            self.dropped = dropped
        }
    }

    /// Phase 3, site → coordinator: the site's shares that remove the masks — of b_v for each survivor v,
    /// of s_v's private key for each dropped v, never both for one site.
    public struct UnmaskResponse: Sendable, Hashable, Codable {
        /// The round's session.
        public var session: String
        /// The sending site.
        public var site: String
        /// The share of b_v, by survivor v (including the sender itself).
        public var selfMaskShares: [String: Shamir.Share]
        /// The share of s_v's private key, by dropped site v.
        public var maskingKeyShares: [String: Shamir.Share]

        /// Makes the message.
        public init(
            session: String,
            site: String,
            selfMaskShares: [String: Shamir.Share],
            maskingKeyShares: [String: Shamir.Share]
        ) {
            self.session = session
            self.site = site
            self.selfMaskShares = selfMaskShares
            self.maskingKeyShares = maskingKeyShares
        }
    }

    /// The outcome of a round: the sum of the survivors' inputs and who they were.
    public struct Aggregate: Sendable, Hashable, Codable {
        /// Σ_{u∈U3} x_u mod 2^32, `vectorLength` words.
        public var sum: [UInt32]
        /// U3, sorted: the sites whose inputs are in `sum`.
        public var sites: [String]

        /// Makes the outcome.
        public init(sum: [UInt32], sites: [String]) {
            self.sum = sum
            self.sites = sites
        }
    }
}
