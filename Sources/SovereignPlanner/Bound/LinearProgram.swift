/// A linear programme in values: columns with bounds, rows with upper bounds, a sparse matrix and two
/// objectives solved one after the other (the second with the first held at its optimum).
struct LinearProgram: Equatable {
    /// One nonzero of the constraint matrix.
    struct Entry: Equatable {
        let row: Int
        let column: Int
        let value: Double
    }

    /// Upper bound of each column (every column is at least 0).
    var columnUpper: [Double] = []
    /// Upper bound of each row (every row is `Σ entries ≤ upper`).
    var rowUpper: [Double] = []
    var entries: [Entry] = []
    /// Coefficients of the first objective, maximised.
    var primary: [Double] = []
    /// Coefficients of the second objective, minimised with the first held at its optimum.
    var secondary: [Double] = []

    /// Adds a column and returns its index.
    mutating func addColumn(upper: Double, primary p: Double, secondary s: Double) -> Int {
        columnUpper.append(upper)
        primary.append(p)
        secondary.append(s)
        return columnUpper.count - 1
    }

    /// Adds a row and returns its index.
    mutating func addRow(upper: Double) -> Int {
        rowUpper.append(upper)
        return rowUpper.count - 1
    }
}

/// What solving a ``LinearProgram`` gives: both objectives at the lexicographic optimum.
struct LinearSolution: Equatable {
    let primary: Double
    let secondary: Double
}
