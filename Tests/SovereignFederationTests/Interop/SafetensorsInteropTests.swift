import Foundation
import SovereignBase
import SovereignFederation
import Testing

/// Whether `python3` with `safetensors` and `numpy` is available (CI installs them; elsewhere these tests skip).
private let pythonHasSafetensors: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import safetensors, numpy"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

private let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "safetensors_interop.py"
).path

/// Runs the interop script and returns its exit status and output.
private func runScript(_ mode: String, _ directory: String) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script, mode, directory]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// A manifest line per tensor: name, dtype, shape, hex bytes (tab separated); "@meta" lines for metadata.
private func manifest(_ tensors: [SafetensorsTensor], metadata: [String: String]) -> String {
    var lines = metadata.sorted { $0.key < $1.key }.map { "@meta\t\($0.key)\t\($0.value)" }
    for tensor in tensors {
        let hex = tensor.data.map { String(format: "%02x", $0) }.joined()
        lines.append(
            "\(tensor.name)\t\(tensor.dtype.rawValue)\t\(tensor.shape.map(String.init).joined(separator: ","))\t\(hex)"
        )
    }
    return lines.joined(separator: "\n") + "\n"
}

@Suite(.enabled(if: pythonHasSafetensors, "needs python3 with safetensors and numpy"))
struct SafetensorsInteropTests {
    /// Sovereign writes every dtype; Python's `safetensors.numpy.load_file` reads back the same values, and for
    /// files in the reference order `safetensors.numpy.save` produces the very same bytes.
    @Test func pythonReadsWhatSovereignWrites() throws {
        var rng = SeededGenerator(seed: 11)
        try withTemporaryDirectory { directory in
            for dtype in SafetensorsDType.allCases {
                var tensors: [SafetensorsTensor] = []
                for (i, shape) in [[2, 3], [], [0, 5], [17]].enumerated() {
                    let count = shape.reduce(1, *) * dtype.byteSize
                    var data = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    if dtype == .bool { data = data.map { $0 & 1 } }
                    if dtype == .f16 || dtype == .f32 || dtype == .f64 {
                        // Keep floats finite so that NaN payloads cannot differ; exact bytes are compared.
                        let size = dtype.byteSize
                        for e in 0..<(count / size) { data[e * size + size - 1] &= 0x3F }
                    }
                    tensors.append(
                        try SafetensorsTensor(
                            name: "\(dtype.rawValue.lowercased()).\(i)",
                            dtype: dtype,
                            shape: shape,
                            data: data
                        )
                    )
                }
                let metadata = ["dtype": dtype.rawValue]
                let base = "\(directory)/reference_\(dtype.rawValue)"
                try Safetensors.write(tensors, metadata: metadata, to: base + ".safetensors")
                try manifest(tensors, metadata: metadata).write(
                    toFile: base + ".manifest",
                    atomically: true,
                    encoding: .utf8
                )
            }
            // Mixed dtypes in the reference order, and a model written in its own order with several metadata keys.
            let mixed = [
                try SafetensorsTensor(name: "z", dtype: .u8, shape: [3], data: [1, 2, 3]),
                try SafetensorsTensor(name: "a", shape: [2], floats: [1.5, -2]),
                try SafetensorsTensor(name: "m", shape: [2], uint32: [7, .max]),
                try SafetensorsTensor(
                    name: "d",
                    dtype: .f64,
                    shape: [1],
                    data: withUnsafeBytes(of: Double.pi.bitPattern.littleEndian) { Array($0) }
                ),
            ]
            try Safetensors.write(mixed, metadata: ["format": "pt"], to: "\(directory)/reference_mixed.safetensors")
            try manifest(mixed, metadata: ["format": "pt"]).write(
                toFile: "\(directory)/reference_mixed.manifest",
                atomically: true,
                encoding: .utf8
            )
            let model = randomWeights([("z.weight", [3, 2]), ("a.bias", [2])], using: &rng)
            try Safetensors.write(model, metadata: ["round": "4", "site": "dar"], to: "\(directory)/model.safetensors")
            let modelTensors = try model.tensors.map {
                try SafetensorsTensor(name: $0.name, shape: $0.shape, floats: $0.values)
            }
            try manifest(modelTensors, metadata: ["round": "4", "site": "dar"]).write(
                toFile: "\(directory)/model.manifest",
                atomically: true,
                encoding: .utf8
            )

            let (status, output) = try runScript("check", directory)
            #expect(status == 0, "\(output)")
            #expect(output.contains("checked \(SafetensorsDType.allCases.count + 2) files"), "\(output)")
        }
    }

    /// Python writes every numpy dtype (with NaN, infinities, subnormals, a scalar, an empty tensor, a unicode
    /// name and metadata) and a hand-laid BF16 file; Sovereign reads back exactly the same bytes.
    @Test func sovereignReadsWhatPythonWrites() throws {
        try withTemporaryDirectory { directory in
            let (status, output) = try runScript("write", directory)
            try #require(status == 0, "\(output)")
            for name in ["py_all", "py_bf16"] {
                let file = try SafetensorsFile(path: "\(directory)/\(name).safetensors")
                let lines = try String(contentsOfFile: "\(directory)/\(name).manifest", encoding: .utf8).split(
                    separator: "\n"
                )
                var metadata: [String: String] = [:]
                var names: Set<String> = []
                for line in lines {
                    let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                    if fields[0] == "@meta" {
                        metadata[fields[1]] = fields[2]
                        continue
                    }
                    let info = try #require(file[fields[0]], "\(name): \(fields[0])")
                    names.insert(fields[0])
                    #expect(info.dtype.rawValue == fields[1])
                    #expect(info.shape == (fields[2].isEmpty ? [] : fields[2].split(separator: ",").map { Int($0)! }))
                    let hex = try file.withBytes(of: fields[0]) { $0.map { String(format: "%02x", $0) }.joined() }
                    #expect(hex == fields[3], "\(name): \(fields[0])")
                }
                #expect(Set(file.tensors.map(\.name)) == names)
                #expect(file.metadata == metadata)
            }
            let bf16 = try SafetensorsFile(path: "\(directory)/py_bf16.safetensors").floats("bf")
            #expect(Array(bf16[0..<3]) == [1, -2, 3.140625])
            #expect(bf16[3] > 0 && bf16[3] < 1e-39 && bf16[4] == .infinity && bf16[5].isNaN)
            let f16 = try SafetensorsFile(path: "\(directory)/py_all.safetensors").floats("f16")
            #expect(Array(f16[0..<5]) == [0, 0, 1, -2.5, 65504])
            #expect(
                f16[1].sign == .minus && f16[5] == 0x1p-24 && f16[6] == .infinity && f16[7] == -.infinity
                    && f16[8].isNaN
            )
        }
    }
}
