import SovereignBase
import SovereignModel

/// What happens to each column of the input, settled from its header row against the method.
struct ColumnLayout {
    /// One column's method.
    enum Action {
        case keep
        case drop
        case pseudonymise
        case coarsen(Anonymisation.DateGranularity)
        case noise(scale: Double)
        /// The quasi-identifier at this index of the method's list.
        case quasiIdentifier(Int)
    }

    /// Per input column, in file order.
    let actions: [Action]
    /// The header's names, in file order.
    let names: [String]
    /// Per quasi-identifier, its input column.
    let quasiColumns: [Int]
    /// The sensitive column's index, when the method asks for ℓ-diversity.
    let sensitiveColumn: Int?
    /// The header's line, for messages.
    let headerLine: Int

    /// Settles the layout from the header record.
    ///
    /// - Throws: `AnonymisationError` `.input` for a column the method names that the header lacks or holds
    ///   twice.
    ///   With `namingEveryColumn` (a derivative that may go further than its source), also for a column the
    ///   method does not name at all.
    init(
        header: CSVRecord,
        method: Anonymisation,
        path: String,
        namingEveryColumn: Bool = false
    ) throws(AnonymisationError) {
        let names = header.fields.map(\.text)
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() {
            if index[name] != nil {
                let field = header.fields[position]
                throw AnonymisationError(
                    .input,
                    "\(path):\(field.line):\(field.column): expected a header of distinct column names, "
                        + "found \(String(reflecting: name)) twice"
                )
            }
            index[name] = position
        }
        func column(_ name: String, _ role: String) throws(AnonymisationError) -> Int {
            guard let position = index[name] else {
                throw AnonymisationError(
                    .input,
                    "\(path):\(header.line):1: expected a column named \(String(reflecting: name)) (\(role)), "
                        + "found columns \(names.map { String(reflecting: $0) }.joined(separator: ", "))"
                )
            }
            return position
        }
        var actions = [Action](repeating: .keep, count: names.count)
        for name in method.drop { actions[try column(name, "to drop")] = .drop }
        for name in method.pseudonymise { actions[try column(name, "to pseudonymise")] = .pseudonymise }
        for date in method.coarsenDates { actions[try column(date.column, "a date")] = .coarsen(date.granularity) }
        for noise in method.noise { actions[try column(noise.column, "to add noise to")] = .noise(scale: noise.scale) }
        var quasiColumns: [Int] = []
        for (position, qi) in method.quasiIdentifiers.enumerated() {
            let at = try column(qi.column, "a quasi-identifier")
            actions[at] = .quasiIdentifier(position)
            quasiColumns.append(at)
        }
        sensitiveColumn = try method.diversity.map { (d) throws(AnonymisationError) in try column(d.column, "sensitive")
        }
        if namingEveryColumn {
            let named = Set(method.namedColumns + [method.diversity?.column].compactMap { $0 })
            let unnamed = names.filter { !named.contains($0) }
            if !unnamed.isEmpty {
                throw AnonymisationError(
                    .input,
                    "\(path):\(header.line):1: expected every column to be named by the method (drop, keep, "
                        + "pseudonymise, coarsenDates, noise, quasiIdentifiers or the ℓ-diversity column), because "
                        + "the derivative may be processed beyond its source's residency; found unnamed "
                        + unnamed.map { String(reflecting: $0) }.joined(separator: ", ")
                )
            }
        }
        self.actions = actions
        self.names = names
        self.quasiColumns = quasiColumns
        self.headerLine = header.line
    }

    /// The output's header: every column not dropped, in file order.
    var outputNames: [String] {
        zip(names, actions).compactMap { name, action in
            if case .drop = action { return nil }
            return name
        }
    }
}
