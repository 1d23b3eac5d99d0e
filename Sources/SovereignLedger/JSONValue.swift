import SovereignBase

/// A JSON value, as ledger entries carry their fields.
///
/// Numbers are `Double`s, as in JSON's data model (RFC 8259 §6, I-JSON): integers up to ±2⁵³ are exact
/// and print without a fraction. ``canonicalJSON()`` writes the RFC 8785 (JCS) canonical form, so equal
/// values always give equal bytes and equal leaf hashes.
///
/// ```swift
/// let fields: [String: JSONValue] = ["workload": "train-7b", "gpus": 64, "preemptible": false]
/// ```
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number. Non-finite values have no JSON form and are written as `null`, as ECMAScript's
    /// `JSON.stringify` writes them.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object; key order is not kept (canonical JSON sorts keys).
    case object([String: JSONValue])

    /// Reads any JSON text (RFC 8259), canonical or not.
    ///
    /// - Parameter json: UTF-8 JSON text.
    /// - Throws: ``LedgerError`` (``LedgerError/Code/malformedJSON``) naming the byte offset of the first
    ///   problem, for bad syntax, invalid UTF-8, duplicate keys, lone surrogates, or numbers too large for
    ///   a `Double`.
    /// - Complexity: O(*n*) in the text's length.
    public init(json: some Collection<UInt8>) throws(LedgerError) {
        self = try JSONParser.parse(json)
    }

    /// The RFC 8785 canonical form: no white space, object keys sorted by UTF-16 code units, strings with
    /// the minimal escaping of ECMAScript's `JSON.stringify`, numbers in ECMAScript's shortest round-trip
    /// form.
    ///
    /// - Returns: UTF-8 bytes.
    /// - Complexity: O(*n* + *k* log *k*) for *n* bytes of output and *k* keys in the largest object.
    public func canonicalJSON() -> [UInt8] {
        var output: [UInt8] = []
        CanonicalJSON.write(self, to: &output)
        return output
    }
}

extension JSONValue: ExpressibleByNilLiteral {
    /// `nil` is `null`.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// A boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// An integer literal, as a number (exact up to ±2⁵³).
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// A floating-point literal.
    public init(floatLiteral value: Double) { self = .number(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// An array literal.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// A dictionary literal, as an object; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue: Codable {
    /// Decodes whatever JSON value is there.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected a JSON value (null, bool, number, string, array or object)"
            )
        }
    }

    /// Encodes the value as itself.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
