import SovereignBase
import SovereignModel
import SovereignTesting
import Testing

/// Random mutations of a valid spec never crash the decoder: they load, or fail with located diagnostics.
struct DecoderRobustnessTests {
    static let fragments = [
        "", " ", "-", ":", "{", "}", "[", "]", ",", "---\n", "\n", "&a", "*a", "!!str", "~", "null", "0", "-1",
        "1e400", "99999999999999999999", "nan", "7B", "1.2 MW", "KE", "EAC", "\"", "'", "#", "\t", "é", "🙂",
        "kind: Site", "spec:", "  - x", "{file: x.csv, column: y}", "2026-03-02T00:00:00Z", "<<: *a",
    ]

    static func mutate(_ text: String, _ rng: inout SplitMix64) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = Int.random(in: 0...bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes.removeSubrange(
                    min(position, bytes.count - 1)..<min(bytes.count, position + Int.random(in: 1...20, using: &rng))
                )
            case 1:
                bytes.insert(contentsOf: Array(fragments.randomElement(using: &rng)!.utf8), at: position)
            case 2 where !bytes.isEmpty:
                bytes[min(position, bytes.count - 1)] = UInt8.random(in: 0x20...0x7E, using: &rng)
            default:
                // Swap two lines.
                var lines = String(decoding: bytes, as: UTF8.self).split(
                    separator: "\n",
                    omittingEmptySubsequences: false
                )
                if lines.count > 2 {
                    let a = Int.random(in: 0..<lines.count, using: &rng)
                    let b = Int.random(in: 0..<lines.count, using: &rng)
                    lines.swapAt(a, b)
                }
                bytes = Array(lines.joined(separator: "\n").utf8)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(arguments: 0..<8)
    func randomMutationsNeverCrash(block: Int) {
        var failures = 0
        var loaded = 0
        for seed in UInt64(block * 250)..<UInt64(block * 250 + 250) {
            var rng = SplitMix64(seed: seed)
            let text = Self.mutate(Fixtures.constantFleet, &rng)
            do {
                _ = try Fixtures.load(text)
                loaded += 1
            } catch let error as SpecError {
                failures += 1
                // Every diagnostic points into the file with a real position and says what was found.
                for d in error.diagnostics {
                    #expect(d.location.file == "fleet.yaml", "seed \(seed)")
                    #expect(d.location.line >= 1 && d.location.column >= 1, "seed \(seed)")
                    #expect(!d.expected.isEmpty && !d.found.isEmpty, "seed \(seed)")
                }
                #expect(!error.diagnostics.isEmpty, "seed \(seed)")
            } catch {
                Issue.record("seed \(seed): unexpected error \(error)")
            }
        }
        #expect(failures + loaded == 250)
        #expect(failures > 0)
    }

    @Test func hostileInputsAreRejectedCleanly() {
        let inputs = [
            "", "---", "- a\n- b", "42", "a: [",
            "apiVersion: sovereign.dev/v1\nkind: Site\nmetadata: {name: s}\nspec: *x",
            String(repeating: "[", count: 5000), "a: &a [*a]", "\u{0}\u{1}\u{2}",
            "apiVersion: sovereign.dev/v1\nkind: Workload\nmetadata: {name: w}\nspec: {type: training, model: {parameters: 1e400}}",
        ]
        for input in inputs {
            let result = Result { try Fixtures.load(input) }
            switch result {
            case .success(let fleet): #expect(fleet.sites.isEmpty)
            case .failure(let error): #expect(error is SpecError, "\(input.prefix(40)): \(error)")
            }
        }
    }
}
