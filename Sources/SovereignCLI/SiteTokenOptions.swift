import ArgumentParser
import Foundation

/// A site's token for the agents (`agent`, `site-agent`): from --token, --token-file or $SOVEREIGN_TOKEN,
/// never printed.
struct SiteTokenOptions: ParsableArguments {
    @Option(help: "The site's token (prefer --token-file or $SOVEREIGN_TOKEN: a command line is visible to ps).")
    var token: String?

    @Option(name: .customLong("token-file"), help: "A file whose first line is the site's token.")
    var tokenFile: String?

    /// The token when one is given (a client certificate may stand in for it).
    func optionalToken() throws -> String? {
        let given = token != nil || tokenFile != nil || ProcessInfo.processInfo.environment["SOVEREIGN_TOKEN"] != nil
        return given ? try readToken() : nil
    }

    func readToken() throws -> String {
        if let token, !token.isEmpty { return token }
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8),
                let line = text.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }
                ),
                !line.isEmpty
            else {
                printError("\(tokenFile):1:1: error: expected the site's token on the first line, found none")
                throw ExitCode.failure
            }
            return String(line.split(separator: " ").first ?? "")
        }
        if let env = ProcessInfo.processInfo.environment["SOVEREIGN_TOKEN"], !env.isEmpty { return env }
        printError("error: expected the site's token in --token, --token-file or $SOVEREIGN_TOKEN, found none")
        throw ExitCode.validationFailure
    }
}
