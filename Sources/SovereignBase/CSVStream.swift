extension CSVTokenizer {
    /// The streaming mode of the tokenizer: bytes go in chunk by chunk (a gzip stream's 64 KiB at a time),
    /// records come out one at a time, each field located and marked quoted or not.
    ///
    /// Memory is bounded by one record, whatever the file's size: the stream holds only the bytes of the
    /// record it is reading, and drops a field's bytes past ``maximumFieldBytes`` and the fields past
    /// ``maximumFieldCount`` (counting them), so a hostile file cannot make one record huge either.
    /// A record may be split across chunks anywhere, even inside a CRLF or a doubled quote.
    ///
    /// ```swift
    /// var stream = CSVTokenizer.Stream()
    /// for chunk in chunks {
    ///     var index = 0
    ///     while let record = stream.nextRecord(in: chunk, from: &index) { use(record) }
    /// }
    /// if let last = try stream.finish() { use(last) }
    /// ```
    public struct Stream: Sendable {
        /// Where one kept field lies in the record's buffer.
        private struct Span: Sendable {
            var range: Range<Int>
            var line: Int
            var column: Int
            var isQuoted: Bool
            var isTruncated: Bool
        }

        /// The most bytes of a field kept; the rest are dropped and the field marked truncated.
        public var maximumFieldBytes: Int
        /// The most fields of a record kept; the rest are counted in ``CSVRecord/fieldCount`` and dropped.
        /// A reader may change it between records.
        public var maximumFieldCount: Int

        private var grammar = CSVGrammar()
        /// The kept bytes of the record being read.
        private var buffer: [UInt8] = []
        private var spans: [Span] = []
        /// The fields of the record returned last; the storage is reused for the next one.
        private var fields: [CSVField] = []
        /// The fields the record has so far, kept or not.
        private var fieldCount = 0
        /// Where the next byte is: its line, and the column of the byte before it.
        private var line = 1
        private var column = 0
        /// Where the current field and record start.
        private var fieldStart = 0
        private var fieldLine = 1
        private var fieldColumn = 1
        private var recordLine = 1
        /// The current field's bytes so far, kept or not.
        private var fieldByteCount = 0
        /// The current field's last byte so far (0 before its first).
        private var lastByte: UInt8 = 0
        /// Whether the current record has begun (any byte since the last record ended).
        private var recordBegun = false
        /// Whether the record returned last is still in `buffer`, to be cleared by the next call.
        private var returnedRecord = false

        /// The bytes of the record being read that the stream holds now.
        public var bufferedByteCount: Int { buffer.count }
        /// The most bytes the stream has held at once: at most one record's.
        public private(set) var peakBufferedByteCount = 0

        /// Makes a stream.
        ///
        /// - Parameters:
        ///   - maximumFieldBytes: the most bytes of a field to keep (unlimited by default).
        ///   - maximumFieldCount: the most fields of a record to keep (unlimited by default).
        public init(maximumFieldBytes: Int = .max, maximumFieldCount: Int = .max) {
            self.maximumFieldBytes = maximumFieldBytes
            self.maximumFieldCount = maximumFieldCount
        }

        /// Reads `chunk` from `index` to the end of the next record, and returns that record; or reads to
        /// the chunk's end and returns `nil` when no record ends in it. Call again with the same index until
        /// `nil`, then with the next chunk from 0.
        ///
        /// - Parameters:
        ///   - chunk: the next bytes of the input.
        ///   - index: where to start in `chunk`; advanced past what was read.
        /// - Returns: The record that ended in `chunk`, or `nil`. Its bytes are the stream's until the next
        ///   call, which reuses the storage (a record kept longer keeps a copy).
        /// - Complexity: O(bytes read).
        public mutating func nextRecord(in chunk: UnsafeBufferPointer<UInt8>, from index: inout Int) -> CSVRecord? {
            clearReturnedRecord()
            if index < chunk.count { recordBegun = true }
            // Content bytes are copied a run at a time, when their field ends or the chunk does.
            var run = index
            while index < chunk.count {
                let byte = chunk[index]
                index += 1
                column += 1
                switch grammar.step(byte) {
                case .content:
                    if byte == CSVGrammar.lineFeed {
                        line += 1
                        column = 0
                    }
                case .fieldEnd:
                    take(UnsafeBufferPointer(rebasing: chunk[run..<(index - 1)]))
                    run = index
                    endField()
                    startField()
                case .recordEnd:
                    take(UnsafeBufferPointer(rebasing: chunk[run..<(index - 1)]))
                    let record = endRecord()
                    line += 1
                    column = 0
                    startField()
                    return record
                }
            }
            take(UnsafeBufferPointer(rebasing: chunk[run..<index]))
            return nil
        }

        /// ``nextRecord(in:from:)`` over an array's bytes.
        public mutating func nextRecord(in chunk: [UInt8], from index: inout Int) -> CSVRecord? {
            chunk.withUnsafeBufferPointer { nextRecord(in: $0, from: &index) }
        }

        /// Ends the input: returns the last record when it has no line ending, or `nil`.
        ///
        /// - Throws: `CSVError` when the input ends inside a quoted field, located at its opening quote.
        public mutating func finish() throws(CSVError) -> CSVRecord? {
            clearReturnedRecord()
            guard recordBegun else { return nil }
            guard !grammar.isInsideQuotes else { throw .unterminatedQuote(line: fieldLine, column: fieldColumn) }
            return endRecord()
        }

        /// Takes a run of the current field's bytes, keeping those within the limits.
        private mutating func take(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let last = bytes.last else { return }
            if spans.count < maximumFieldCount, fieldByteCount < maximumFieldBytes {
                buffer.append(
                    contentsOf: UnsafeBufferPointer(rebasing: bytes.prefix(maximumFieldBytes - fieldByteCount))
                )
            }
            fieldByteCount += bytes.count
            lastByte = last
        }

        private mutating func startField() {
            grammar.endField()
            fieldStart = buffer.count
            fieldByteCount = 0
            lastByte = 0
            fieldLine = line
            fieldColumn = column + 1
        }

        private mutating func endField(atRecordEnd: Bool = false) {
            defer { fieldCount += 1 }
            guard spans.count < maximumFieldCount else { return }
            if atRecordEnd, fieldByteCount > 0, lastByte == CSVGrammar.carriageReturn {
                // A CRLF line ending's carriage return is not the field's.
                if fieldByteCount <= maximumFieldBytes { buffer.removeLast() }
                fieldByteCount -= 1
            }
            spans.append(
                Span(
                    range: fieldStart..<buffer.count,
                    line: fieldLine,
                    column: fieldColumn,
                    isQuoted: grammar.fieldIsQuoted,
                    isTruncated: fieldByteCount > maximumFieldBytes
                )
            )
        }

        private mutating func endRecord() -> CSVRecord {
            endField(atRecordEnd: true)
            peakBufferedByteCount = max(peakBufferedByteCount, buffer.count)
            for span in spans {
                fields.append(
                    CSVField(
                        raw: buffer[span.range],
                        line: span.line,
                        column: span.column,
                        isQuoted: span.isQuoted,
                        isTruncated: span.isTruncated
                    )
                )
            }
            returnedRecord = true
            return CSVRecord(line: recordLine, fields: fields, fieldCount: fieldCount)
        }

        private mutating func clearReturnedRecord() {
            guard returnedRecord else { return }
            returnedRecord = false
            fields.removeAll(keepingCapacity: true)  // first: its fields hold the buffer
            buffer.removeAll(keepingCapacity: true)
            spans.removeAll(keepingCapacity: true)
            fieldCount = 0
            fieldStart = 0
            recordBegun = false
            recordLine = line
        }
    }
}
