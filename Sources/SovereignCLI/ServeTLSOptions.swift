import ArgumentParser
import SovereignServer

/// `sovereign serve`'s TLS options: the API's certificate, key and client CA, and the extender's.
struct ServeTLSOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-cert"),
        help: ArgumentHelp("Serve the API over HTTPS with this certificate chain (PEM).", valueName: "file")
    )
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The certificate's private key (PEM).", valueName: "file"))
    var key: String?

    @Option(
        name: .customLong("client-ca"),
        help: ArgumentHelp(
            "Accept client certificates this CA signed as site agents' credentials (SAN URI sovereign://site/SITE); tokens keep working.",
            valueName: "file"
        )
    )
    var clientCA: String?

    @Option(
        name: .customLong("extender-tls-cert"),
        help: ArgumentHelp("The extender's own certificate (default: the API's --tls-cert).", valueName: "file")
    )
    var extenderCertificate: String?

    @Option(name: .customLong("extender-tls-key"), help: ArgumentHelp("The extender's own key.", valueName: "file"))
    var extenderKey: String?

    @Option(
        name: .customLong("extender-client-ca"),
        help: ArgumentHelp(
            "Require the scheduler to present a client certificate this CA signed (its tlsConfig certFile/keyFile).",
            valueName: "file"
        )
    )
    var extenderClientCA: String?

    /// The API's and the extender's TLS files, or an error naming the option that is missing its pair.
    func files(extender: Bool) throws -> (api: TLSFiles?, extender: TLSFiles?) {
        let api = try pair(certificate, key, names: ("--tls-cert", "--tls-key")).map {
            TLSFiles(
                certificate: $0.certificate,
                key: $0.key,
                clientCertificates: clientCA.map { .optional(caFile: $0) } ?? .ignored
            )
        }
        if clientCA != nil, api == nil {
            try refuse("--client-ca: expected --tls-cert and --tls-key with it, found none")
        }
        let own = try pair(extenderCertificate, extenderKey, names: ("--extender-tls-cert", "--extender-tls-key"))
        guard extender else {
            if own != nil || extenderClientCA != nil {
                try refuse(
                    "--extender-tls-cert, --extender-tls-key, --extender-client-ca: expected --extender-listen with them, found none"
                )
            }
            return (api, nil)
        }
        // The extender's own certificate, else the API's (never the API's client CA: that one is for sites).
        let served: TLSFiles? =
            own.map {
                TLSFiles(
                    certificate: $0.certificate,
                    key: $0.key,
                    options: ("--extender-tls-cert", "--extender-tls-key", "--extender-client-ca")
                )
            }
            ?? api.map {
                TLSFiles(
                    certificate: $0.certificate,
                    key: $0.key,
                    options: ("--tls-cert", "--tls-key", "--extender-client-ca")
                )
            }
        guard var extenderFiles = served else {
            if extenderClientCA != nil {
                try refuse(
                    "--extender-client-ca: expected a certificate (--extender-tls-cert or --tls-cert), found none"
                )
            }
            return (api, nil)
        }
        extenderFiles.clientCertificates = extenderClientCA.map { .required(caFile: $0) } ?? .ignored
        return (api, extenderFiles)
    }

    func pair(
        _ certificate: String?,
        _ key: String?,
        names: (String, String)
    ) throws -> (certificate: String, key: String)? {
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, let key?): return (certificate, key)
        case (nil, _?): try refuse("\(names.1): expected \(names.0) with it, found none")
        case (_?, nil): try refuse("\(names.0): expected \(names.1) with it, found none")
        }
    }

    func refuse(_ message: String) throws -> Never {
        printError(message)
        throw ExitCode.validationFailure
    }
}
