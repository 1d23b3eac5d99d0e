public import Crypto
public import Foundation

/// An offer signed by the source agent's identity key, as it travels through the relay.
///
/// The signature covers the offer's exact JSON bytes after a context line, so the relay (or anyone else
/// holding the destination's public key) cannot make a destination accept a checkpoint of its own: the
/// destination checks the signature against the source's key, which the control plane vouches for, before
/// it reads the offer.
public struct SignedOffer: Sendable, Hashable, Codable {
    /// The offer's JSON, as signed.
    public let offer: Data
    /// Ed25519 over ``context`` followed by ``offer``.
    public let signature: Data

    /// What the signature covers before the offer, so it cannot be taken for a signature over anything else.
    public static let context = Data("sovereign-checkpoint-offer/1\n".utf8)

    /// Most bytes of an offer's JSON (a manifest of many thousand files fits).
    public static let maximumSize = 8 << 20

    /// Signs `offer` with the source agent's identity key.
    ///
    /// - Throws: when the offer cannot be encoded or signed.
    public init(_ offer: CheckpointOffer, key: Curve25519.Signing.PrivateKey) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = try encoder.encode(offer)
        self.offer = bytes
        self.signature = try key.signature(for: Self.context + bytes)
    }

    /// The offer, once its signature is checked against `sender`'s key.
    ///
    /// - Throws: ``CheckpointError`` of kind `unauthentic` for a signature that does not verify, or
    ///   `invalidOffer` for bytes that are not an offer.
    public func verified(by sender: Curve25519.Signing.PublicKey) throws(CheckpointError) -> CheckpointOffer {
        guard sender.isValidSignature(signature, for: Self.context + offer) else {
            throw CheckpointError(
                .unauthentic,
                expected: "an offer signed by the source agent's key",
                found: "a signature that does not verify (another signer, or altered bytes)"
            )
        }
        return try unverified()
    }

    /// The offer without checking who signed it: for the relay, which only needs its layout.
    ///
    /// - Throws: ``CheckpointError`` of kind `invalidOffer`.
    public func unverified() throws(CheckpointError) -> CheckpointOffer {
        guard offer.count <= Self.maximumSize else {
            throw CheckpointError(
                .invalidOffer,
                expected: "an offer of at most \(Self.maximumSize) bytes",
                found: "\(offer.count)"
            )
        }
        do {
            return try JSONDecoder().decode(CheckpointOffer.self, from: offer)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError(.invalidOffer, expected: "a checkpoint offer (JSON)", found: "\(error)")
        }
    }
}
