public import ArgumentParser
import Foundation
import SovereignModel

/// `sovereign catalog`: the accelerator models Sovereign knows.
public struct Catalog: ParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        abstract: "List the accelerator catalog: built-in models plus those declared in the given specs."
    )

    @Argument(help: "Spec files or directories whose AcceleratorModel documents to include.")
    var paths: [String] = []

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    public init() {}

    struct Entry: Encodable {
        let id: String
        let vendor: String
        let name: String
        let memoryGB: Double
        let denseTFLOPS: Double
        let bandwidthTBps: Double
        let powerW: Double
        let idlePowerW: Double
        let tflopsPerWatt: Double
        let designedIn: String
        let fabricatedIn: String?
        let year: Int?
        let provenance: String
        let note: String?
        /// `none`, the listing (`US EAR ECCN 3A090.a`), or `unknown`.
        let exportControl: String

        init(_ m: AcceleratorModel) {
            id = m.id
            vendor = m.vendor
            name = m.displayName
            memoryGB = m.memory.gigabytes
            denseTFLOPS = m.tflops
            bandwidthTBps = m.bandwidth.bytesPerSecond / 1e12
            powerW = m.power.watts
            idlePowerW = m.idlePower.watts
            tflopsPerWatt = (m.tflopsPerWatt * 1000).rounded() / 1000
            designedIn = m.designedIn
            fabricatedIn = m.fabricatedIn
            year = m.year
            provenance = m.provenance.rawValue
            note = m.note
            exportControl = m.exportControl?.description ?? "unknown"
        }
    }

    public func run() throws {
        var user: [AcceleratorModel] = []
        if !paths.isEmpty {
            do {
                user = try FleetLoader().load(paths: paths).userAccelerators
            } catch let error as SpecError {
                printError(error.description)
                throw ExitCode.failure
            }
        }
        let catalog = AcceleratorCatalog.builtIn(plus: user)
        switch format {
        case .json:
            print(try jsonText(catalog.models.map(Entry.init)))
        case .text:
            print(Self.table(catalog.models))
        }
    }

    /// The catalog as an aligned text table, with footnotes for secondary figures.
    static func table(_ models: [AcceleratorModel]) -> String {
        let header = [
            "id", "vendor", "memory", "dense TFLOPS", "bandwidth", "power", "idle", "TFLOPS/W", "designed", "source",
        ]
        var rows = [header]
        for m in models {
            rows.append([
                m.id, m.vendor, "\(m.memory)", formatted(m.tflops), "\(m.bandwidth)", "\(m.power)", "\(m.idlePower)",
                formatted(m.tflopsPerWatt, digits: 2), m.designedIn, m.provenance.rawValue,
            ])
        }
        var widths = Array(repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var lines = rows.map { row in
            row.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        lines.append("")
        lines.append("Dense BF16 (FP16 where the part has none); never the sparse headline figure.")
        for m in models where m.provenance == .secondary {
            lines.append("\(m.id): \(m.note ?? "secondary sources")")
        }
        var listings: [String: [String]] = [:]
        for m in models {
            listings[m.exportControl.map { $0 == .unlisted ? "" : $0.description } ?? "unknown", default: []].append(
                m.id
            )
        }
        for (listing, ids) in listings.sorted(by: { $0.key < $1.key }) where !listing.isEmpty {
            let what = listing == "unknown" ? "export control unknown" : "export-controlled (\(listing))"
            lines.append("\(what): \(ids.joined(separator: ", "))")
        }
        return lines.joined(separator: "\n")
    }

    static func formatted(_ value: Double, digits: Int = 1) -> String {
        String(format: "%.\(digits)f", value)
    }
}
