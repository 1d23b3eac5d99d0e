import SovereignModel

/// libFuzzer entry point: the input bytes are one YAML spec file.
///
/// The loader must either return a fleet or throw ``SpecError``. Any other error, and any crash
/// (trap, sanitizer report, timeout, out-of-memory), is a bug in SovereignModel.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try FleetLoader().load(sources: [("fuzz.yaml", text)])
    } catch is SpecError {
        // Expected: the spec was rejected with diagnostics.
    } catch {
        fatalError("FleetLoader threw something other than SpecError: \(String(reflecting: error))")
    }
    return 0
}
