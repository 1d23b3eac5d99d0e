import SovereignBase
import SovereignLedger

/// libFuzzer entry point: the input bytes are one JSON text, read by the shared `JSONReader` under every
/// JSON reader in Sovereign.
///
/// Skipping the whole text (`skipValue` with unique keys, then `expectEnd`) must either accept it or throw
/// `JSONReadError` at an offset inside the text, and must agree with the ledger's tree builder
/// (`JSONValue(json:)`, the same reader building values): each accepts exactly what the other accepts,
/// except that the builder also refuses numbers too large for a `Double`. Any crash, sanitizer report or
/// timeout is a bug in SovereignBase or SovereignLedger.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var reader = JSONReader(bytes)
    var skipped = true
    do throws(JSONReadError) {
        let range = try reader.skipValue(maximumDepth: 256, uniqueKeys: true)
        try reader.expectEnd()
        precondition(range.upperBound <= size && reader.position == size, "skipValue ended outside the text")
    } catch {
        precondition(error.offset >= 0 && error.offset <= size, "an error offset outside the text: \(error)")
        precondition(error.found == (error.offset < size ? bytes[error.offset] : nil), "found is not the byte")
        skipped = false
    }
    do {
        _ = try JSONValue(json: bytes)
        precondition(skipped, "the ledger accepted what skipValue refused: \(reader.position)")
    } catch {
        precondition(
            !skipped || "\(error)".contains("fits a Double"),
            "skipValue accepted what the ledger refused: \(error)"
        )
    }
    return 0
}
