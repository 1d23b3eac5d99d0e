/// Why an anonymisation could not run: a code, and a message that says where (`file:line:column`), what was
/// expected and what was found, like a compiler diagnostic.
public struct AnonymisationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The input could not be opened or read, or the output not written.
        case io
        /// The input's contents do not fit the method (a missing column, a non-number, a bad date).
        case input
        /// The method or its key cannot be used.
        case configuration
    }

    /// What kind of failure.
    public let code: Code
    /// The message, starting with where.
    public let message: String

    /// Makes an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `file:line:column: error: ...`.
    public var description: String { message }

    /// What an input field was, without its value: the field may be personal data, and a message travels
    /// further than the data may (a terminal, a log, a ticket). Its place (`file:line:column`) finds it.
    static func unshown(_ text: String) -> String {
        "a value of \(text.count) character\(text.count == 1 ? "" : "s") (not shown: it may be personal data)"
    }
}
