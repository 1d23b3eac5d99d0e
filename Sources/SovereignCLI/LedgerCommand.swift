import ArgumentParser
import Foundation
import SovereignLedger
import SovereignLedgerSQLite
import SovereignStorePostgres

/// `sovereign ledger ...`: check and prove the ledger of a server's database.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Verify the tamper-evident ledger and print Merkle proofs.",
        subcommands: [Verify.self, Prove.self]
    )

    /// The state database, read-only: verifying or proving never changes the file.
    static func open(_ db: String) throws -> LedgerDatabase {
        // The ledger commands read an SQLite file; a PostgreSQL URL is refused without echoing its password.
        if PostgresLocation.isPostgres(db) {
            printError(
                "--db: expected the SQLite state database (the ledger commands read only SQLite), found the "
                    + "PostgreSQL URL \(PostgresLocation.masked(db)); read its ledger through the API "
                    + "(GET /v1/ledger/entries, /v1/ledger/proof/inclusion)"
            )
            throw ExitCode.validationFailure
        }
        do {
            return try LedgerDatabase(path: db)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }

    /// What the database gives, or the error naming the file and a failure exit.
    static func reading<T>(_ body: () throws(LedgerDatabaseError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }

    /// `sovereign ledger verify --db FILE [--key PUB]`.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the Merkle tree from every entry and check every stored checkpoint.",
            discussion: """
                Names the first entry that does not match (altered, removed or reordered rows), and any \
                checkpoint whose signature, root or consistency with the one before fails. The checkpoint \
                key is read from --key (a verifier key `name+hash+base64`, or the private key file), else \
                from DB.key.
                """
        )

        @Option(help: "The state database.")
        var db = "sovereign.sqlite"

        @Option(help: "The checkpoint signer's verifier key (or its private key file).")
        var key: String?

        @Option(help: "Output format.")
        var format: OutputFormat = .text

        func run() throws {
            let database = try LedgerCommand.open(db)
            let verifier = try loadVerifier()
            let checkpoints = try LedgerCommand.reading { () throws(LedgerDatabaseError) in try database.checkpoints() }
            // The rows stream through the audit one batch at a time; memory does not grow with the ledger.
            var audit = LedgerAudit(checkpoints: checkpoints, verifier: verifier)
            try LedgerCommand.reading { () throws(LedgerDatabaseError) in
                try database.forEachEntry { audit.add($0) }
            }
            let report = audit.finish()
            switch format {
            case .json:
                print(
                    try jsonText(
                        VerifyView(
                            ok: report.ok,
                            entries: report.entries,
                            checkpoints: report.checkpoints,
                            root: report.root.hex,
                            firstBadSequence: report.firstBadSequence,
                            problems: report.problems
                        )
                    )
                )
            case .text:
                if report.ok {
                    print(
                        "ok: \(report.entries) entries, \(report.checkpoints) signed checkpoints verified, root \(report.root.hex)"
                    )
                } else {
                    for problem in report.problems { printError("\(db): error: \(problem)") }
                }
            }
            if !report.ok { throw ExitCode.failure }
        }

        struct VerifyView: Encodable {
            let ok: Bool
            let entries: Int
            let checkpoints: Int
            let root: String
            let firstBadSequence: Int?
            let problems: [String]
        }

        func loadVerifier() throws -> NoteVerifier? {
            let path: String
            if let key {
                path = key
            } else if FileManager.default.fileExists(atPath: db + ".key.pub") {
                path = db + ".key.pub"
            } else {
                path = db + ".key"
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                if key != nil {
                    printError("\(path): expected a verifier key file, found no such file")
                    throw ExitCode.failure
                }
                printError("warning: no key at \(path): checkpoint signatures are not checked")
                return nil
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            do {
                if text.hasPrefix("PRIVATE+KEY+") {
                    return try NoteVerifier(verifierKey: try NoteSigner(privateKeyText: text).verifierKey)
                }
                return try LedgerKeyFile.verifier(from: text)
            } catch {
                printError("\(path): \(error)")
                throw ExitCode.failure
            }
        }
    }

    /// `sovereign ledger prove --db FILE inclusion INDEX [--size N]` or `consistency FROM TO`.
    struct Prove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an RFC 9162 inclusion or consistency proof as the API answers it (JSON, hashes in hex).",
            discussion: """
                inclusion INDEX [--size N]: the audit path of entry INDEX in the tree of N entries (default: all). \
                consistency FROM TO: the proof that the tree of FROM entries is a prefix of the tree of TO.
                """
        )

        enum Kind: String, ExpressibleByArgument {
            case inclusion, consistency
        }

        @Option(help: "The state database.")
        var db = "sovereign.sqlite"

        @Argument(help: "inclusion or consistency.")
        var kind: Kind

        @Argument(help: "INDEX (inclusion) or FROM TO (consistency).")
        var numbers: [Int]

        @Option(help: "Tree size for an inclusion proof (default: the whole ledger).")
        var size: Int?

        func run() throws {
            let database = try LedgerCommand.open(db)
            let tree = MerkleTree(
                leafHashes: try LedgerCommand.reading { () throws(LedgerDatabaseError) in try database.leafHashes() }
            )
            do {
                switch kind {
                case .inclusion:
                    guard numbers.count == 1 else {
                        printError("inclusion: expected one INDEX, found \(numbers.count) numbers")
                        throw ExitCode.validationFailure
                    }
                    let n = size ?? tree.size
                    print(try jsonText(try InclusionProof(tree, index: numbers[0], size: n)))
                case .consistency:
                    guard numbers.count == 2 else {
                        printError("consistency: expected FROM and TO, found \(numbers.count) numbers")
                        throw ExitCode.validationFailure
                    }
                    guard numbers[0] > 0 else {
                        printError(
                            "consistency: expected FROM of at least 1 (from the empty tree there is nothing to prove), found 0"
                        )
                        throw ExitCode.validationFailure
                    }
                    print(try jsonText(try ConsistencyProof(tree, from: numbers[0], to: numbers[1])))
                }
            } catch let error as LedgerError {
                printError("\(db): error: \(error)")
                throw ExitCode.failure
            }
        }
    }
}
