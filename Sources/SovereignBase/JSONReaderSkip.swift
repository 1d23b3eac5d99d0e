extension JSONReader {
    /// Validates and moves past one value of any kind (after white space) without building it.
    ///
    /// Nesting is tracked with an explicit stack, never by recursion, so no input can exhaust the call
    /// stack; strings are checked as ``readString(_:)`` checks them.
    ///
    /// - Parameters:
    ///   - maximumDepth: How many containers may be open at once inside the value; the next one is refused
    ///     with ``JSONReadError/Expected/depth(limit:)`` at its opening byte.
    ///   - uniqueKeys: Whether a key repeated in one object is refused (``JSONReadError/Expected/uniqueKey(_:)``,
    ///     checked before the key's `:`); checking decodes every key.
    /// - Returns: The value's byte range, white space around it excluded.
    /// - Complexity: O(bytes of the value); memory O(nesting depth), plus the keys of the open objects when
    ///   `uniqueKeys`.
    @inlinable
    @discardableResult
    public mutating func skipValue(maximumDepth: Int, uniqueKeys: Bool = false) throws(JSONReadError) -> Range<Int> {
        skipWhitespace()
        let start = position
        var closers: [UInt8] = []
        var keys: [Set<String>] = []
        var expectingValue = true
        while true {
            if expectingValue {
                skipWhitespace()
                guard position < bytes.count else { throw error(.value) }
                let byte = bytes[position]
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    guard closers.count < maximumDepth else { throw error(.depth(limit: maximumDepth)) }
                    let closer = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    position += 1
                    skipWhitespace()
                    if position < bytes.count, bytes[position] == closer {
                        position += 1
                    } else {
                        closers.append(closer)
                        if closer == UInt8(ascii: "}") {
                            if uniqueKeys { keys.append([]) }
                            try skipKey(uniqueIn: &keys, unique: uniqueKeys)
                        }
                        continue
                    }
                } else {
                    try skipScalar(enclosing: closers.last)
                }
                expectingValue = false
            }
            guard let closer = closers.last else { return start..<position }
            skipWhitespace()
            guard position < bytes.count else { throw error(.commaOrClose(closer)) }
            switch bytes[position] {
            case UInt8(ascii: ","):
                position += 1
                if closer == UInt8(ascii: "}") { try skipKey(uniqueIn: &keys, unique: uniqueKeys) }
                expectingValue = true
            case closer:
                position += 1
                closers.removeLast()
                if closer == UInt8(ascii: "}"), uniqueKeys { keys.removeLast() }
            default:
                throw error(.commaOrClose(closer))
            }
        }
    }

    /// Moves past an object's key and its `:` (white space first); with `unique`, the key must not be in
    /// the innermost set of `keys`, and joins it.
    @inlinable
    mutating func skipKey(uniqueIn keys: inout [Set<String>], unique: Bool) throws(JSONReadError) {
        skipWhitespace()
        let keyStart = position
        if unique {
            let key = try readString(.key)
            guard keys[keys.count - 1].insert(key).inserted else { throw error(.uniqueKey(key), at: keyStart) }
        } else if validatesUTF8 {
            _ = try readString(.key)
        } else {
            try skipString(.key)
        }
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error(.colon) }
        position += 1
    }

    /// Moves past a string, number or literal at ``position``; `enclosing` is the closing byte of the
    /// innermost open container, for ``JSONReadError/Expected/noLeadingZero(numberStart:enclosing:)``.
    @inlinable
    mutating func skipScalar(enclosing: UInt8?) throws(JSONReadError) {
        switch bytes[position] {
        case UInt8(ascii: "\""):
            if validatesUTF8 {
                _ = try readString(.string)
            } else {
                try skipString(.string)
            }
        case UInt8(ascii: "t"): try readLiteral("true")
        case UInt8(ascii: "f"): try readLiteral("false")
        case UInt8(ascii: "n"): try readLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            do {
                _ = try readNumber()
            } catch {
                guard case .noLeadingZero(let numberStart, nil) = error.expected, let enclosing else { throw error }
                throw JSONReadError(
                    offset: error.offset,
                    expected: .noLeadingZero(numberStart: numberStart, enclosing: enclosing),
                    found: error.found
                )
            }
        default:
            throw error(.value)
        }
    }
}
