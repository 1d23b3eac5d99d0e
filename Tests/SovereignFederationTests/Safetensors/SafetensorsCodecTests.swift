import Foundation
import SovereignBase
import SovereignFederation
import Testing

struct SafetensorsCodecTests {
    /// The reference implementation's own serialization test: F32 "attn.0" [1, 2, 3] = 0...5.
    @Test func writesTheReferenceBytesForAKnownFile() throws {
        let tensor = try SafetensorsTensor(name: "attn.0", shape: [1, 2, 3], floats: [0, 1, 2, 3, 4, 5])
        let expected: [UInt8] = [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ]
        #expect(try Safetensors.encode([tensor]) == expected)
        let file = try SafetensorsFile(bytes: expected)
        #expect(try file.floats("attn.0") == [0, 1, 2, 3, 4, 5])
        #expect(file.tensors.map(\.shape) == [[1, 2, 3]])
    }

    /// The reference's padding tests: the header is padded with spaces to 8 bytes.
    @Test func padsTheHeaderWithSpacesLikeTheReference() throws {
        #expect(
            try Safetensors.encode([SafetensorsTensor]()) == [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]
        )
        let withMetadata = try Safetensors.encode([SafetensorsTensor](), metadata: ["framework": "pt"])
        #expect(withMetadata == rawFile("{\"__metadata__\":{\"framework\":\"pt\"}}     "))
        let tensor = try SafetensorsTensor(name: "attn0", shape: [1, 1, 2, 3], floats: [0, 1, 2, 3, 4, 5])
        let bytes = try Safetensors.encode([tensor])
        #expect(bytes.prefix(8) == [72, 0, 0, 0, 0, 0, 0, 0])
        #expect(bytes[8 + 65..<8 + 72] == [32, 32, 32, 32, 32, 32, 32])
    }

    @Test func referenceOrderIsDescendingAlignmentThenName() throws {
        let tensors = [
            try SafetensorsTensor(name: "b", dtype: .u8, shape: [2], data: [1, 2]),
            try SafetensorsTensor(name: "a", shape: [1], floats: [1]),
            try SafetensorsTensor(name: "c", dtype: .f64, shape: [1], data: [UInt8](repeating: 0, count: 8)),
            try SafetensorsTensor(name: "f", dtype: .f16, shape: [1], data: [0, 0x3C]),
            try SafetensorsTensor(name: "e", dtype: .i32, shape: [0], data: []),
            try SafetensorsTensor(name: "z", dtype: .i64, shape: [1], data: [UInt8](repeating: 0, count: 8)),
        ]
        let file = try SafetensorsFile(bytes: try Safetensors.encode(tensors))
        #expect(file.tensors.map(\.name) == ["z", "c", "a", "e", "f", "b"])
        let given = try SafetensorsFile(bytes: try Safetensors.encode(tensors, order: .asGiven))
        #expect(given.tensors.map(\.name) == ["b", "a", "c", "f", "e", "z"])
    }

    @Test(arguments: SafetensorsDType.allCases)
    func roundTripsEveryDType(_ dtype: SafetensorsDType) throws {
        var rng = SeededGenerator(seed: UInt64(dtype.byteSize * 131 + dtype.rawValue.count))
        let shapes: [[Int]] = [[3, 5], [], [0, 4], [7]]
        var tensors: [SafetensorsTensor] = []
        for (i, shape) in shapes.enumerated() {
            let count = shape.reduce(1, *) * dtype.byteSize
            var data = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if dtype == .bool { data = data.map { $0 & 1 } }
            tensors.append(try SafetensorsTensor(name: "t\(i)", dtype: dtype, shape: shape, data: data))
        }
        let file = try SafetensorsFile(bytes: try Safetensors.encode(tensors, metadata: ["k": "v"]))
        #expect(file.metadata == ["k": "v"])
        for tensor in tensors {
            let info = try #require(file[tensor.name])
            #expect(info.dtype == dtype)
            #expect(info.shape == tensor.shape)
            #expect(info.elementCount == tensor.shape.reduce(1, *))
            #expect(try file.withBytes(of: tensor.name) { Array($0) } == tensor.data)
            if dtype.isFloatingPoint {
                #expect(try file.floats(tensor.name).count == info.elementCount)
            } else {
                #expect(throws: FederationError.self) { try file.floats(tensor.name) }
            }
        }
    }

    @Test func modelWeightsRoundTripThroughAMappedFileInOrder() throws {
        var rng = SeededGenerator(seed: 3)
        let weights = randomWeights(
            [("z.weight", [4, 3]), ("a.bias", [3]), ("m", [2, 2, 2]), ("empty", [0])],
            using: &rng
        )
        try withTemporaryDirectory { directory in
            let path = directory + "/model.safetensors"
            try Safetensors.write(weights, metadata: ["round": "7"], to: path)
            let file = try SafetensorsFile(path: path)
            #expect(file.metadata == ["round": "7"])
            #expect(try file.modelWeights() == weights)
            #expect(try file.modelWeights(matching: weights) == weights)
            #expect(file.byteCount == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int))
            // No temporary file is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
            // Rewriting replaces the file atomically while the old mapping stays readable.
            try Safetensors.write(ModelWeights([.init(name: "x", shape: [1], values: [1])]), to: path)
            #expect(try file.modelWeights() == weights)
            #expect(try SafetensorsFile(path: path).modelWeights().tensors.map(\.name) == ["x"])
        }
    }

    @Test func modelWeightsMatchingTakesTheReferenceOrderAndNamesMismatches() throws {
        var rng = SeededGenerator(seed: 4)
        let weights = randomWeights([("w", [2, 3]), ("b", [3])], using: &rng)
        let sorted = try SafetensorsFile(
            bytes: try Safetensors.encode(
                weights.tensors.map { try SafetensorsTensor(name: $0.name, shape: $0.shape, floats: $0.values) }
            )
        )
        #expect(sorted.tensors.map(\.name) == ["b", "w"])
        #expect(try sorted.modelWeights(matching: weights) == weights)

        let reshaped = ModelWeights([.init(zeros: "w", shape: [3, 2]), .init(zeros: "b", shape: [3])])
        let shapeError = #expect(throws: FederationError.self) { try sorted.modelWeights(matching: reshaped) }
        #expect(shapeError?.code == .incompatibleUpdate)
        #expect(shapeError?.message.contains("tensor w: expected shape [3, 2], found [2, 3]") == true)

        let missing = ModelWeights([.init(zeros: "w", shape: [2, 3]), .init(zeros: "c", shape: [3])])
        let missingError = #expect(throws: FederationError.self) { try sorted.modelWeights(matching: missing) }
        #expect(missingError?.message.contains("expected a tensor named c, found none") == true)

        let fewer = ModelWeights([.init(zeros: "w", shape: [2, 3])])
        let extraError = #expect(throws: FederationError.self) { try sorted.modelWeights(matching: fewer) }
        #expect(extraError?.message.contains("tensor b is not in the model") == true)
    }

    @Test func readsFloatsFromEveryFloatDType() throws {
        let half: [UInt16] = [0x3C00, 0xC100, 0x0001, 0x7C00, 0xFC00, 0x7E00]
        let bf16: [UInt16] = [0x3F80, 0xC000, 0x0001, 0x7F80, 0x7FC0]
        let f64: [Double] = [1.0 / 3.0, -1e300, 1e-50]
        let tensors = [
            try SafetensorsTensor(
                name: "h",
                dtype: .f16,
                shape: [6],
                data: half.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            ),
            try SafetensorsTensor(
                name: "b",
                dtype: .bf16,
                shape: [5],
                data: bf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            ),
            try SafetensorsTensor(
                name: "d",
                dtype: .f64,
                shape: [3],
                data: f64.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
            ),
            try SafetensorsTensor(name: "e4", dtype: .f8E4M3, shape: [5], data: [0x38, 0x7E, 0x7F, 0x01, 0xB8]),
            try SafetensorsTensor(name: "e5", dtype: .f8E5M2, shape: [4], data: [0x3C, 0x7C, 0x01, 0xFE]),
        ]
        let file = try SafetensorsFile(bytes: try Safetensors.encode(tensors))
        let h = try file.floats("h")
        #expect(Array(h[0..<5]) == [1, -2.5, 0x1p-24, .infinity, -.infinity])
        #expect(h[5].isNaN)
        let b = try file.floats("b")
        #expect(Array(b[0..<4]) == [1, -2, 0x1p-133, .infinity])
        #expect(b[4].isNaN)
        #expect(try file.floats("d") == [Float(1.0 / 3.0), -.infinity, 0])
        let e4 = try file.floats("e4")
        #expect(e4[0] == 1 && e4[1] == 448 && e4[2].isNaN && e4[3] == 0x1p-9 && e4[4] == -1)
        let e5 = try file.floats("e5")
        #expect(e5[0] == 1 && e5[1] == .infinity && e5[2] == 0x1p-16 && e5[3].isNaN)
    }

    #if !(os(macOS) && arch(x86_64))
    /// Every one of the 65,536 half-precision bit patterns converts exactly (checked against Float16).
    @Test func convertsEveryHalfExactly() throws {
        let patterns = (0...UInt16.max).map { $0 }
        let data = patterns.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let file = try SafetensorsFile(
            bytes: try Safetensors.encode([try SafetensorsTensor(name: "all", dtype: .f16, shape: [65536], data: data)])
        )
        let floats = try file.floats("all")
        var mismatches = 0
        for (bits, value) in zip(patterns, floats) {
            let expected = Float(Float16(bitPattern: bits))
            if expected.isNaN ? !value.isNaN : expected.bitPattern != value.bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
    #endif

    #if !(os(macOS) && arch(x86_64))
    /// Writing floats as F16 rounds as Float16 does (to nearest even, overflow to infinity), for seeded random
    /// values across the whole range plus the edge cases.
    @Test func writesHalvesRoundedLikeFloat16() throws {
        var rng = SeededGenerator(seed: 16)
        var values: [Float] = [
            0, -0, 65504, 65519.99, 65520, 1e9, -1e9, 0x1p-24, 0x1p-25, 0x1.8p-25, 0x1p-26, 6.1e-5, .infinity,
        ]
        values += (0..<20000).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)) }.filter {
            !$0.isNaN
        }
        let file = try SafetensorsFile(
            bytes: try Safetensors.encode([
                try SafetensorsTensor(name: "h", shape: [values.count], floats: values, as: .f16)
            ])
        )
        let read = try file.floats("h")
        let mismatches = zip(values, read).filter { Float(Float16($0)).bitPattern != $1.bitPattern }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        let nan = try SafetensorsFile(
            bytes: try Safetensors.encode([try SafetensorsTensor(name: "n", shape: [1], floats: [.nan], as: .f16)])
        )
        #expect(try nan.floats("n")[0].isNaN)
    }
    #endif

    @Test func writesBFloat16RoundedToNearestEven() throws {
        let values: [Float] = [
            1, Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x3F80_8001),
            .greatestFiniteMagnitude, -.infinity, .nan, 0x1p-133,
        ]
        let file = try SafetensorsFile(
            bytes: try Safetensors.encode([
                try SafetensorsTensor(name: "b", shape: [values.count], floats: values, as: .bf16)
            ])
        )
        let read = try file.floats("b")
        // Ties go to the even neighbour: 0x3F80_8000 → 0x3F80, 0x3F81_8000 → 0x3F82; above the tie rounds up.
        #expect(read[0..<4].map(\.bitPattern) == [0x3F80_0000, 0x3F80_0000, 0x3F82_0000, 0x3F81_0000])
        #expect(read[4] == .infinity && read[5] == -.infinity && read[6].isNaN && read[7] == 0x1p-133)
        let f64 = try SafetensorsFile(
            bytes: try Safetensors.encode([try SafetensorsTensor(name: "d", shape: [2], floats: [0.1, -3], as: .f64)])
        )
        #expect(try f64.floats("d") == [0.1, -3])
        #expect(throws: FederationError.self) { try SafetensorsTensor(name: "x", shape: [1], floats: [1], as: .i32) }
    }

    @Test func rejectsDuplicateAndReservedNamesWhenWriting() throws {
        let a = try SafetensorsTensor(name: "a", shape: [1], floats: [1])
        #expect(throws: FederationError.self) { try Safetensors.encode([a, a]) }
        #expect(throws: FederationError.self) {
            try Safetensors.encode([try SafetensorsTensor(name: "__metadata__", shape: [1], floats: [1])])
        }
        let sizeError = #expect(throws: FederationError.self) {
            try SafetensorsTensor(name: "x", dtype: .f32, shape: [2], data: [0, 0, 0])
        }
        #expect(sizeError?.message == "tensor x: expected 8 bytes for F32 [2], found 3")
        #expect(throws: FederationError.self) { try SafetensorsTensor(name: "x", dtype: .u8, shape: [-1], data: []) }
    }

    @Test func escapesNamesAndMetadataAsJSON() throws {
        let name = "layer \"0\"\\ü\n\t\u{01}"
        let bytes = try Safetensors.encode(
            [try SafetensorsTensor(name: name, shape: [1], floats: [2])],
            metadata: ["k\"": "v\u{7F}✓"]
        )
        let file = try SafetensorsFile(bytes: bytes)
        #expect(file.tensors.map(\.name) == [name])
        #expect(file.metadata == ["k\"": "v\u{7F}✓"])
        let header = String(decoding: bytes[8..<(8 + file.headerLength)], as: UTF8.self)
        #expect(header.contains(#""layer \"0\"\\ü\n\t\u0001""#))
    }

    @Test func openingAMissingFileIsAnIOError() {
        let error = #expect(throws: FederationError.self) { try SafetensorsFile(path: "/nonexistent/x.safetensors") }
        #expect(error?.code == .io)
        #expect(error?.message.hasPrefix("/nonexistent/x.safetensors: cannot open") == true)
    }
}
