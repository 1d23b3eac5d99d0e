import CGLPK

/// Solves a ``LinearProgram`` with GLPK's simplex (presolved, quiet): the edge where the bound meets C.
enum GLPKSolver {
    /// Why GLPK gave no optimum.
    struct Failure: Error, CustomStringConvertible {
        let stage: String
        let code: Int32
        var description: String { "GLPK found no optimum for the \(stage) objective (status \(code))" }
    }

    /// Maximises the primary objective, then minimises the secondary with the primary held at its optimum
    /// (less a relative 1e-7, so that rounding in the first solve cannot make the second infeasible).
    ///
    /// - Throws: ``Failure`` when either solve ends without an optimum.
    static func solve(_ lp: LinearProgram) throws -> LinearSolution {
        glp_term_out(GLP_OFF)
        guard let p = glp_create_prob() else { throw Failure(stage: "first", code: -1) }
        defer { glp_delete_prob(p) }
        load(lp, into: p)
        glp_set_obj_dir(p, GLP_MAX)
        for (j, c) in lp.primary.enumerated() { glp_set_obj_coef(p, Int32(j + 1), c) }
        let best = try simplex(p, stage: "first")
        // Hold the first objective: Σ primary·x ≥ best·(1 − 1e-7), as a new row.
        let row = glp_add_rows(p, 1)
        let nonzero = lp.primary.enumerated().filter { $0.element != 0 }
        var indices: [Int32] = [0] + nonzero.map { Int32($0.offset + 1) }
        var values: [Double] = [0] + nonzero.map(\.element)
        glp_set_mat_row(p, row, Int32(nonzero.count), &indices, &values)
        glp_set_row_bnds(p, row, GLP_LO, best * (1 - 1e-7), 0)
        glp_set_obj_dir(p, GLP_MIN)
        for (j, c) in lp.secondary.enumerated() { glp_set_obj_coef(p, Int32(j + 1), c) }
        let second = try simplex(p, stage: "second")
        return LinearSolution(primary: best, secondary: second)
    }

    /// Columns, rows and the matrix into GLPK's 1-based arrays.
    private static func load(_ lp: LinearProgram, into p: OpaquePointer) {
        if !lp.rowUpper.isEmpty { glp_add_rows(p, Int32(lp.rowUpper.count)) }
        if !lp.columnUpper.isEmpty { glp_add_cols(p, Int32(lp.columnUpper.count)) }
        for (i, upper) in lp.rowUpper.enumerated() { glp_set_row_bnds(p, Int32(i + 1), GLP_UP, 0, upper) }
        for (j, upper) in lp.columnUpper.enumerated() {
            // GLPK refuses a double bound whose ends meet: a column that may not move is fixed at 0.
            glp_set_col_bnds(p, Int32(j + 1), upper > 0 ? GLP_DB : GLP_FX, 0, max(0, upper))
        }
        var ia: [Int32] = [0] + lp.entries.map { Int32($0.row + 1) }
        var ja: [Int32] = [0] + lp.entries.map { Int32($0.column + 1) }
        var ar: [Double] = [0] + lp.entries.map(\.value)
        glp_load_matrix(p, Int32(lp.entries.count), &ia, &ja, &ar)
    }

    /// Runs the presolved simplex and returns the objective, or throws when it is not optimal.
    private static func simplex(_ p: OpaquePointer, stage: String) throws -> Double {
        var parm = glp_smcp()
        glp_init_smcp(&parm)
        parm.msg_lev = GLP_MSG_OFF
        parm.presolve = GLP_ON
        let rc = glp_simplex(p, &parm)
        guard rc == 0, glp_get_status(p) == GLP_OPT else {
            throw Failure(stage: stage, code: rc != 0 ? rc : glp_get_status(p))
        }
        return glp_get_obj_val(p)
    }
}
