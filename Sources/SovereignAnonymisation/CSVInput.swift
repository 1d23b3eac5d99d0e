import Crypto
import SovereignBase

/// A CSV file (plain or gzip) read record by record, in bounded memory: one 64 KiB chunk and one record at
/// a time. Blank lines are skipped. The SHA-256 of the (decompressed) bytes comes back at the end.
struct CSVInput {
    let path: String
    /// The longest field accepted: a bound on one record's memory.
    static let maximumFieldBytes = 1 << 16

    /// Calls `body` with each non-blank record, in order.
    ///
    /// - Returns: The SHA-256 of the bytes read, in hex.
    /// - Throws: `AnonymisationError` `.io` when the file cannot be read, `.input` for a quote left open;
    ///   what `body` throws.
    /// - Complexity: O(file size) time; O(largest record) memory.
    func forEachRecord(_ body: (CSVRecord) throws(AnonymisationError) -> Void) throws(AnonymisationError) -> String {
        let reader: GzipReader
        do { reader = try GzipReader(path: path) } catch { throw AnonymisationError(.io, error.description) }
        var stream = CSVTokenizer.Stream(maximumFieldBytes: Self.maximumFieldBytes)
        var digest = SHA256()
        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
        defer { chunk.deallocate() }
        while true {
            let count: Int
            do { count = try reader.read(into: chunk) } catch { throw AnonymisationError(.io, error.description) }
            if count == 0 { break }
            let bytes = UnsafeBufferPointer(rebasing: chunk[0..<count])
            digest.update(bufferPointer: UnsafeRawBufferPointer(bytes))
            var index = 0
            while let record = stream.nextRecord(in: bytes, from: &index) { try take(record, body) }
        }
        let last: CSVRecord?
        do { last = try stream.finish() } catch {
            throw AnonymisationError(.input, "\(path):\(error.line):\(error.column): \(error.message)")
        }
        if let last { try take(last, body) }
        return Hex.encode(digest.finalize())
    }

    /// Passes a record on unless it is a blank line; a field past the size limit is an error.
    private func take(
        _ record: CSVRecord,
        _ body: (CSVRecord) throws(AnonymisationError) -> Void
    ) throws(AnonymisationError) {
        guard !Self.isBlank(record) else { return }
        if let long = record.fields.first(where: \.isTruncated) {
            throw AnonymisationError(
                .input,
                "\(path):\(long.line):\(long.column): expected a field of at most \(Self.maximumFieldBytes) bytes, "
                    + "found a longer one"
            )
        }
        try body(record)
    }

    private static func isBlank(_ record: CSVRecord) -> Bool {
        record.fieldCount == 1 && record.fields.first.map { !$0.isQuoted && $0.raw.isEmpty } == true
    }
}
