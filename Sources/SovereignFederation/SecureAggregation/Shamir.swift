/// Shamir secret sharing over GF(2^8), byte by byte (the AES field, x^8 + x^4 + x^3 + x + 1): a secret of
/// any length is split into `n` shares so that any `threshold` of them give it back and fewer reveal
/// nothing about it (each byte's polynomial has `threshold − 1` uniformly random coefficients).
///
/// Share x-coordinates are 1…255, so at most 255 shares. Secure aggregation gives site number i (its
/// 1-based position in ``SecureAggregation/Setup/sites``) the share with x = i.
public enum Shamir: Sendable {
    /// One share: the x-coordinate and the polynomial values at x, one byte per secret byte.
    public struct Share: Sendable, Hashable, Codable {
        /// The x-coordinate, 1…255.
        public var x: Int
        /// The value of each byte's polynomial at `x`.
        public var y: [UInt8]

        /// Makes a share.
        public init(x: Int, y: [UInt8]) {
            self.x = x
            self.y = y
        }
    }

    /// Splits `secret` into shares for x = 1…`count`, any `threshold` of which reconstruct it.
    /// - Parameters:
    ///   - secret: The bytes to share (may be empty).
    ///   - threshold: How many shares reconstruct the secret; 2 ≤ threshold ≤ count.
    ///   - count: How many shares to make; at most 255.
    ///   - generator: The source of the random polynomial coefficients; a CSPRNG in production.
    /// - Returns: `count` shares, share i having x = i + 1.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if threshold or count are out of range.
    /// - Complexity: O(count × threshold × secret.count).
    public static func split(
        _ secret: [UInt8],
        threshold: Int,
        count: Int,
        using generator: inout some RandomNumberGenerator
    ) throws -> [Share] {
        guard (2...255).contains(count), (2...count).contains(threshold) else {
            throw FederationError(
                .invalidConfiguration,
                "Shamir.split: expected 2 ≤ threshold ≤ count ≤ 255, found threshold \(threshold), count \(count)"
            )
        }
        // coefficients[k][j] is the coefficient of x^(k+1) for secret byte j.
        var coefficients = [[UInt8]]()
        coefficients.reserveCapacity(threshold - 1)
        for _ in 1..<threshold {
            coefficients.append(randomBytes(secret.count, using: &generator))
        }
        return (1...count).map { x in
            let xByte = UInt8(x)
            var y = [UInt8](repeating: 0, count: secret.count)
            for j in 0..<secret.count {
                // Horner's rule from the highest coefficient down to the secret itself.
                var value: UInt8 = 0
                for k in stride(from: threshold - 2, through: 0, by: -1) {
                    value = GF256.multiply(value, xByte) ^ coefficients[k][j]
                }
                y[j] = GF256.multiply(value, xByte) ^ secret[j]
            }
            return Share(x: x, y: y)
        }
    }

    /// Interpolates the secret from shares: with at least the threshold's number of shares of one split
    /// this is the secret; with fewer it is a value unrelated to the secret.
    /// - Parameter shares: Shares with distinct x-coordinates in 1…255 and equal lengths; at least one.
    /// - Returns: The polynomial values at x = 0.
    /// - Throws: ``FederationError`` `.secureAggregation` for no shares, a repeated or out-of-range x, or
    ///   shares of different lengths.
    /// - Complexity: O(shares.count² + shares.count × secret length).
    public static func reconstruct(_ shares: [Share]) throws -> [UInt8] {
        guard let length = shares.first?.y.count else {
            throw FederationError(.secureAggregation, "Shamir.reconstruct: expected at least one share, found none")
        }
        var seen = Set<Int>()
        for share in shares {
            guard (1...255).contains(share.x), seen.insert(share.x).inserted else {
                throw FederationError(
                    .secureAggregation,
                    "Shamir.reconstruct: expected distinct x-coordinates in 1…255, found \(shares.map(\.x))"
                )
            }
            guard share.y.count == length else {
                throw FederationError(
                    .secureAggregation,
                    "Shamir.reconstruct: share x=\(share.x): expected \(length) bytes, found \(share.y.count)"
                )
            }
        }
        var secret = [UInt8](repeating: 0, count: length)
        for (i, share) in shares.enumerated() {
            // Lagrange basis at 0: Π_{j≠i} x_j / (x_j − x_i); subtraction is xor in GF(2^8).
            var basis: UInt8 = 1
            let xi = UInt8(share.x)
            for (j, other) in shares.enumerated() where j != i {
                let xj = UInt8(other.x)
                basis = GF256.multiply(basis, GF256.divide(xj, xj ^ xi))
            }
            for k in 0..<length {
                secret[k] ^= GF256.multiply(share.y[k], basis)
            }
        }
        return secret
    }
}

/// `count` bytes from `generator`, eight at a time.
func randomBytes(_ count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
    var bytes = [UInt8]()
    bytes.reserveCapacity(count)
    while bytes.count < count {
        var word = generator.next()
        for _ in 0..<min(8, count - bytes.count) {
            bytes.append(UInt8(truncatingIfNeeded: word))
            word >>= 8
        }
    }
    return bytes
}

/// Arithmetic in GF(2^8) with the AES polynomial, through log and exp tables for the generator 3.
enum GF256 {
    static let tables: (log: [UInt8], exp: [UInt8]) = {
        var log = [UInt8](repeating: 0, count: 256)
        var exp = [UInt8](repeating: 0, count: 510)
        var value: UInt8 = 1
        for power in 0..<255 {
            exp[power] = value
            exp[power + 255] = value
            log[Int(value)] = UInt8(power)
            // Multiply by 3: value·2 (xtime) xor value.
            let doubled = (value << 1) ^ (value & 0x80 != 0 ? 0x1B : 0)
            value = doubled ^ value
        }
        return (log, exp)
    }()

    @inline(__always)
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        if a == 0 || b == 0 { return 0 }
        return tables.exp[Int(tables.log[Int(a)]) + Int(tables.log[Int(b)])]
    }

    /// a / b for b ≠ 0.
    @inline(__always)
    static func divide(_ a: UInt8, _ b: UInt8) -> UInt8 {
        if a == 0 { return 0 }
        return tables.exp[Int(tables.log[Int(a)]) + 255 - Int(tables.log[Int(b)])]
    }
}
