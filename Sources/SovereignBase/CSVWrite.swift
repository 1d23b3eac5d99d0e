/// Writing CSV: the inverse of the tokenizer's grammar.
public enum CSVWrite: Sendable {
    /// Appends `field` to `output`, quoted (inner quotes doubled) when it holds a comma, a quote, a line
    /// feed or a carriage return, or starts or ends with a space; as it is otherwise.
    ///
    /// - Complexity: O(`field.count`).
    public static func appendField(_ field: some BidirectionalCollection<UInt8>, to output: inout [UInt8]) {
        let needsQuotes =
            field.contains {
                $0 == CSVGrammar.comma || $0 == CSVGrammar.quote || $0 == CSVGrammar.lineFeed
                    || $0 == CSVGrammar.carriageReturn
            }
            || field.first == 0x20 || field.last == 0x20
        guard needsQuotes else {
            output.append(contentsOf: field)
            return
        }
        output.append(CSVGrammar.quote)
        for byte in field {
            if byte == CSVGrammar.quote { output.append(CSVGrammar.quote) }
            output.append(byte)
        }
        output.append(CSVGrammar.quote)
    }

    /// Appends a record's fields, separated by commas and ended by a line feed.
    public static func appendRecord(_ fields: [String], to output: inout [UInt8]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { output.append(CSVGrammar.comma) }
            appendField(field.utf8, to: &output)
        }
        output.append(CSVGrammar.lineFeed)
    }
}
