/// Where one listener's TLS material lives, and the options that named it (for error messages).
///
/// The certificate file holds the server's certificate first and any intermediates after it (PEM); the
/// key file its private key (PEM: PKCS#8, SEC1 or PKCS#1). With a client CA, clients may (the API) or must
/// (the extender) present a certificate that CA signed.
public struct TLSFiles: Sendable, Equatable {
    /// Whether a client must present a certificate.
    public enum ClientCertificates: Sendable, Equatable {
        /// No client CA: a client certificate is neither asked for nor trusted.
        case ignored
        /// A client may present one; if it does, it must be signed by the CA or the handshake fails.
        case optional(caFile: String)
        /// Every client must present one signed by the CA.
        case required(caFile: String)
    }

    /// The certificate chain file (PEM).
    public var certificate: String
    /// The private key file (PEM).
    public var key: String
    /// What a client certificate means on this listener.
    public var clientCertificates: ClientCertificates
    /// The command-line options that named the files, like `("--tls-cert", "--tls-key", "--client-ca")`.
    public var options: (certificate: String, key: String, clientCA: String)

    /// Makes the description of a listener's TLS files.
    public init(
        certificate: String,
        key: String,
        clientCertificates: ClientCertificates = .ignored,
        options: (certificate: String, key: String, clientCA: String) = ("--tls-cert", "--tls-key", "--client-ca")
    ) {
        self.certificate = certificate
        self.key = key
        self.clientCertificates = clientCertificates
        self.options = options
    }

    /// The client CA file, if there is one.
    public var clientCAFile: String? {
        switch clientCertificates {
        case .ignored: return nil
        case .optional(let file), .required(let file): return file
        }
    }

    public static func == (a: TLSFiles, b: TLSFiles) -> Bool {
        a.certificate == b.certificate && a.key == b.key && a.clientCertificates == b.clientCertificates
            && a.options == b.options
    }
}

/// TLS material that cannot be used: which file, what was expected and what was found.
public struct TLSFileError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Code: Sendable {
        /// The file does not exist or cannot be read.
        case unreadable
        /// The file holds no usable certificate.
        case certificate
        /// The file holds no usable private key.
        case privateKey
        /// The key is not the certificate's.
        case mismatch
        /// BoringSSL refused the combination.
        case context
    }

    /// What went wrong.
    public let code: Code
    /// The file at fault.
    public let file: String
    /// What was expected and what was found.
    public let message: String

    init(_ code: Code, file: String, _ message: String) {
        self.code = code
        self.file = file
        self.message = message
    }

    /// `server.key: error: --tls-key: expected ..., found ...`.
    public var description: String { "\(file): error: \(message)" }
}
