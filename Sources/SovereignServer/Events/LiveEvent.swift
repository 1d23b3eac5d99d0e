import Foundation
public import SovereignLedger

/// What `GET /v1/events` streams: one case per kind of change a live view shows, each carrying its typed
/// values. ``frame`` is the one place an event becomes its Server-Sent Events name and JSON data.
///
/// Federated rounds arrive as ``ledger(_:)`` events: every round that opens, closes or misses its quorum is
/// a `federation.*` ledger entry, and the event carries the entry whole.
public enum LiveEvent: Sendable {
    /// `workload`: a workload moved from one state to another (submitted, running, pausing, paused, ...).
    case workload(TransitionRecord)
    /// `power`: a site's power signal (what it can draw now).
    case power(PowerSignalRecord)
    /// `sites`: the sites as the last control-loop pass left them (power drawn and available, accelerators
    /// in use, agents), sent when that pass changed them; encoded by ``SiteEncodings``, each site's view once
    /// per change.
    case sites(Sites)
    /// `ledger`: an entry appended to the ledger, with its leaf hash.
    case ledger(StoredEntry)

    /// The event's SSE name and its data, one line of JSON.
    var frame: (name: String, data: String) {
        switch self {
        case .workload(let t):
            ("workload", Self.json(WorkloadChange(t)))
        case .power(let p):
            ("power", Self.json(PowerChange(site: p.site, at: Self.time(p.at), availableWatts: p.available)))
        case .sites(let sites):
            ("sites", sites.data)
        case .ledger(let stored):
            ("ledger", Self.json(LedgerEntryView(stored)))
        }
    }

    /// The events a committed change makes: its state transitions, its power signals, then its ledger
    /// entries as stored.
    static func of(_ change: StateChange, committed: CommittedChange) -> [LiveEvent] {
        change.transitions.map(LiveEvent.workload) + change.powerSignals.map(LiveEvent.power)
            + committed.entries.map(LiveEvent.ledger)
    }

    static func time(_ seconds: Double) -> String { LedgerEntry.formatTime(Date(timeIntervalSince1970: seconds)) }

    static func json(_ value: some Encodable) -> String {
        // Every value here is made of strings, numbers and JSON values: encoding cannot fail.
        String(decoding: (try? JSONEncoder.api.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    struct WorkloadChange: Encodable {
        let workload: String
        let from: String?
        let to: String
        let reason: String
        let at: String

        init(_ t: TransitionRecord) {
            workload = t.workload
            from = t.from?.rawValue
            to = t.to.rawValue
            reason = t.reason
            at = LiveEvent.time(t.at)
        }
    }

    struct PowerChange: Encodable {
        let site: String
        let at: String
        let availableWatts: Double
    }
}
