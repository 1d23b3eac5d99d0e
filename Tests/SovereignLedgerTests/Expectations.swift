import SovereignLedger
import Testing

/// Expects `body` to throw a ``LedgerError`` with `code` whose description contains `text`.
func expectLedgerError(
    _ code: LedgerError.Code,
    containing text: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected a \(code) error", sourceLocation: sourceLocation)
    } catch let error as LedgerError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a LedgerError, found \(error)", sourceLocation: sourceLocation)
    }
}
