import Foundation
import SovereignFederation

/// libFuzzer entry point: the input bytes are one safetensors file.
///
/// `SafetensorsFile(bytes:)` must either return a file or throw ``FederationError``. A file it returns must
/// be readable in full: every tensor's bytes, every float tensor as `Float`s, and the whole file as
/// ``ModelWeights`` when every tensor is a float. When the last byte is odd (a data byte in
/// most files, so valid files take both paths), the input is also written to
/// a temporary file and opened with `SafetensorsFile(path:)` (the mmap path), which must accept exactly
/// what the in-memory parse accepts, with the same tensor table and bytes. Any other error, and any crash
/// (trap, sanitizer report, timeout, out-of-memory), is a bug in SovereignFederation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var parsed: SafetensorsFile?
    do {
        parsed = try SafetensorsFile(bytes: bytes, source: "fuzz.safetensors")
    } catch is FederationError {
        // Expected: the bytes were rejected with a message.
    } catch {
        fatalError("SafetensorsFile(bytes:) threw something other than FederationError: \(String(reflecting: error))")
    }
    if let parsed { readEverything(parsed) }
    if let last = bytes.last, last & 1 == 1 { checkMapped(bytes, against: parsed) }
    return 0
}

/// Reads every tensor of `file` in full; any failure is a bug, since the file was accepted.
private func readEverything(_ file: SafetensorsFile) {
    do {
        for tensor in file.tensors {
            let expected = tensor.byteRange.count
            let count = try file.withBytes(of: tensor.name) { buffer in
                // Touch every byte, so a range past the end of the buffer is a sanitizer report.
                _ = buffer.reduce(0 as UInt8) { $0 &+ $1 }
                return buffer.count
            }
            precondition(count == expected, "\(tensor.name): \(count) bytes, expected \(expected)")
            precondition(file[tensor.name] == tensor, "\(tensor.name): lookup by name disagrees with the table")
            precondition(
                tensor.shape.reduce(1, *) == tensor.elementCount,
                "\(tensor.name): shape \(tensor.shape) does not give \(tensor.elementCount) elements"
            )
            if tensor.dtype.isFloatingPoint {
                let values = try file.floats(tensor.name)
                precondition(values.count == tensor.elementCount, "\(tensor.name): \(values.count) floats")
            }
        }
        if file.tensors.allSatisfy(\.dtype.isFloatingPoint) {
            let weights = try file.modelWeights()
            precondition(weights.tensors.count == file.tensors.count, "modelWeights() lost tensors")
        }
    } catch {
        fatalError("reading an accepted file failed: \(String(reflecting: error))")
    }
}

/// Opens `bytes` from a temporary file with the mmap path and checks that it agrees with `reference`, the
/// in-memory parse (`nil` when that rejected the bytes).
private func checkMapped(_ bytes: [UInt8], against reference: SafetensorsFile?) {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("safetensors-fuzz-\(ProcessInfo.processInfo.processIdentifier).safetensors").path
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        fatalError("cannot write \(path)")
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let mapped: SafetensorsFile
    do {
        mapped = try SafetensorsFile(path: path)
    } catch is FederationError {
        precondition(reference == nil, "the mmap path rejected a file the in-memory path accepted")
        return
    } catch {
        fatalError("SafetensorsFile(path:) threw something other than FederationError: \(String(reflecting: error))")
    }
    guard let reference else {
        fatalError("the mmap path accepted a file the in-memory path rejected")
    }
    precondition(mapped.tensors == reference.tensors, "the two paths give different tensor tables")
    precondition(mapped.metadata == reference.metadata, "the two paths give different metadata")
    precondition(mapped.headerLength == reference.headerLength, "the two paths give different header lengths")
    readEverything(mapped)
    do {
        for tensor in mapped.tensors {
            let same = try mapped.withBytes(of: tensor.name) { mappedBytes in
                try reference.withBytes(of: tensor.name) { mappedBytes.elementsEqual($0) }
            }
            precondition(same, "\(tensor.name): the two paths give different bytes")
        }
    } catch {
        fatalError("reading an accepted mapped file failed: \(String(reflecting: error))")
    }
}
