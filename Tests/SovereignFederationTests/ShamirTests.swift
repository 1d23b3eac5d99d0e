import SovereignBase
import Testing

@testable import SovereignFederation

struct ShamirTests {
    @Test func anyThresholdSubsetReconstructsAndFewerDoNot() throws {
        var generator = SecAggGenerator(seed: 42)
        for trial in 0..<200 {
            let n = 2 + Int(generator.next() % 12)
            let t = 2 + Int(generator.next() % UInt64(n - 1))
            let secret = randomBytes(32, using: &generator)
            let shares = try Shamir.split(secret, threshold: t, count: n, using: &generator)
            #expect(shares.map(\.x) == Array(1...n))
            let subset = Array(shares.shuffled(using: &generator).prefix(t))
            #expect(try Shamir.reconstruct(subset) == secret, "trial \(trial): n \(n) t \(t)")
            #expect(try Shamir.reconstruct(shares) == secret)
            // t − 1 shares interpolate a lower-degree polynomial: its value at 0 is unrelated to the secret.
            #expect(try Shamir.reconstruct(Array(subset.dropLast())) != secret, "trial \(trial): n \(n) t \(t)")
        }
    }

    @Test func fewerThanThresholdSharesGiveUniformlyUnrelatedBytes() throws {
        // For a fixed secret and fixed t − 1 shares' positions, the interpolated byte at 0 should be
        // uniform over fresh splits: count how often it hits the true byte (expected 1/256).
        var generator = SecAggGenerator(seed: 7)
        var hits = 0
        let secret = [UInt8](repeating: 0xA5, count: 64)
        for _ in 0..<100 {
            let shares = try Shamir.split(secret, threshold: 3, count: 5, using: &generator)
            let guess = try Shamir.reconstruct([shares[0], shares[3]])
            hits += zip(guess, secret).filter { $0 == $1 }.count
        }
        // 6400 bytes, 25 hits expected; far below anything a leak would give.
        #expect(hits < 60)
    }

    @Test func parametersAndSharesAreValidated() throws {
        var generator = SecAggGenerator(seed: 1)
        for (t, n) in [(1, 3), (4, 3), (2, 256), (2, 1)] {
            let error = #expect(throws: FederationError.self) {
                try Shamir.split([1, 2, 3], threshold: t, count: n, using: &generator)
            }
            #expect(error?.code == .invalidConfiguration)
        }
        let shares = try Shamir.split([9, 8, 7], threshold: 2, count: 3, using: &generator)
        #expect(throws: FederationError.self) { try Shamir.reconstruct([]) }
        #expect(throws: FederationError.self) { try Shamir.reconstruct([shares[0], shares[0]]) }
        #expect(throws: FederationError.self) { try Shamir.reconstruct([shares[0], .init(x: 2, y: [1])]) }
        #expect(throws: FederationError.self) { try Shamir.reconstruct([shares[0], .init(x: 0, y: [1, 2, 3])]) }
        #expect(try Shamir.reconstruct([shares[2], shares[1]]) == [9, 8, 7])
    }

    @Test func fieldArithmeticIsAField() {
        // Every nonzero element has an inverse, and multiplication by 3 walks all 255 nonzero elements.
        for a in 1...255 {
            #expect(GF256.multiply(UInt8(a), GF256.divide(1, UInt8(a))) == 1)
        }
        #expect(Set(GF256.tables.exp.prefix(255)).count == 255)
        // A known product in the AES field: 0x57 · 0x83 = 0xc1 (FIPS-197 §4.2).
        #expect(GF256.multiply(0x57, 0x83) == 0xC1)
    }
}
