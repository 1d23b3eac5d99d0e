import Foundation
import SovereignFederation

/// libFuzzer entry point: the input bytes are one CSV file of training examples.
///
/// `TrainingData.parse(csv:name:options:)`, with at most 2²⁰ values so a large input fails fast, must
/// either return examples or throw ``FederationError`` (its signature admits nothing else). Examples it
/// returns must be consistent: one label per row, `featureCount` finite features per row, every label
/// below `classCount`. An input that starts with the gzip magic (`1f 8b`) is also written to a temporary file
/// and read with `TrainingData.load(contentsOf:options:)`, which decompresses it with zlib. Any crash
/// (trap, sanitizer report, timeout, out-of-memory) is a bug in SovereignFederation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let options = TrainingData.LoadOptions(maximumValueCount: 1 << 20)
    do {
        check(try TrainingData.parse(csv: bytes, name: "fuzz.csv", options: options))
    } catch {
        // Expected: the text was rejected with a FederationError (the only error `parse` can throw).
    }
    if size >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("training-fuzz-\(ProcessInfo.processInfo.processIdentifier).csv.gz")
        guard FileManager.default.createFile(atPath: url.path, contents: Data(bytes)) else {
            fatalError("cannot write \(url.path)")
        }
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            check(try TrainingData.load(contentsOf: url, options: options))
        } catch {
            // Expected: a corrupt stream or bad CSV was rejected with a FederationError.
        }
    }
    return 0
}

/// Checks the invariants of examples that were accepted.
private func check(_ examples: TrainingData) {
    precondition(examples.count > 0, "accepted a file without examples")
    precondition(examples.featureCount >= 1, "accepted \(examples.featureCount) features per example")
    precondition(
        examples.features.count == examples.count * examples.featureCount,
        "\(examples.features.count) features for \(examples.count) examples of \(examples.featureCount)"
    )
    if let index = examples.features.firstIndex(where: { !$0.isFinite }) {
        preconditionFailure("accepted a feature that is not finite: \(examples.features[index]) at \(index)")
    }
    precondition(examples.classCount >= 1, "accepted a class count of \(examples.classCount)")
    precondition(
        examples.labels.allSatisfy { $0 >= 0 && Int($0) < examples.classCount },
        "a label outside 0..<\(examples.classCount)"
    )
    precondition(examples.features.count + examples.labels.count <= 1 << 20, "more values than the maximum")
}
