import Foundation
import PostgresNIO
import SovereignServer

extension PostgresControlStore {
    /// Takes, or renews, the lease in one compare-and-set: the row changes only when `holder` holds it at
    /// `epoch`, or when it has expired by the database's clock; a takeover moves it to the next epoch. Two
    /// replicas taking over at once queue on the row, and the second finds it no longer expired.
    public func lead(as holder: String, renewing epoch: Int64?, for lease: Duration) throws -> Int64? {
        let seconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) * 1e-18
        let mine = epoch ?? -1
        return try session.with { link in
            let row = try link.row(
                """
                UPDATE leader_lease SET
                    epoch = CASE WHEN holder = \(holder) AND epoch = \(mine) THEN epoch ELSE epoch + 1 END,
                    holder = \(holder),
                    expiresAt = clock_timestamp() + make_interval(secs => \(seconds))
                WHERE (holder = \(holder) AND epoch = \(mine)) OR expiresAt < clock_timestamp()
                RETURNING epoch
                """
            )
            return try row?[0].decode(Int64.self)
        }
    }

    /// Refuses the transaction when `epoch` is not the lease's epoch any more. The row is read `FOR SHARE`, so
    /// a takeover waits for this transaction to end, and a transaction that starts after a takeover sees it.
    static func fence(_ epoch: Int64?, in link: PostgresSession.Link) throws {
        guard let epoch else { return }
        guard let row = try link.row("SELECT epoch, holder FROM leader_lease FOR SHARE") else {
            throw StoreError.database("the leader_lease table has no row (expected one from migration v5)")
        }
        let current = try row[0].decode(Int64.self)
        guard current == epoch else {
            throw StoreError.deposed(holding: epoch, found: current, holder: try row[1].decode(String.self))
        }
    }
}
