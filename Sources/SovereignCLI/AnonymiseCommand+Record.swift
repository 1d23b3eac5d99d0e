import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SovereignAnonymisation

extension AnonymiseCommand {
    /// Records the run at the control plane (`POST /v1/datasets/DERIVED/derivations`) and says, on standard
    /// error, which ledger entry it became; a refusal is printed as the server words it, and exits 1.
    func record(_ report: DerivationReport, at controlPlane: String) async throws {
        let bearer = try token.optionalToken()
        guard bearer != nil || tls.presentsCertificate else {
            printError(
                "--control-plane: expected a token (--token, --token-file or $SOVEREIGN_TOKEN) or --client-cert, "
                    + "found none"
            )
            throw ExitCode.validationFailure
        }
        let base = controlPlane.hasSuffix("/") ? String(controlPlane.dropLast()) : controlPlane
        let url = "\(base)/v1/datasets/\(report.dataset)/derivations"
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: report.json()))
        let (status, answer) = try await tls.withClient(for: base) { client in
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, timeout: .seconds(60))
            } catch {
                printError("\(url): cannot reach the control plane: \(error)")
                throw ExitCode.failure
            }
            return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        guard status == 201 else {
            printError("\(url): the control plane refused the run (\(status)): \(answer)")
            throw ExitCode.failure
        }
        let entry = (try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])?["entry"]
        printError("recorded at \(base) as ledger entry \(entry.map { "\($0)" } ?? "?")")
    }
}
