import Foundation

extension LiveEvent {
    /// A `sites` event's data, `{"sites":[...]}`, as ``SiteEncodings`` made it.
    public struct Sites: Sendable {
        let data: String
    }

    /// The sites as the last `sites` event sent them, each with its JSON, so that the next event encodes only the
    /// sites whose view changed since and reuses the others' bytes. A power signal changes one site's view, and
    /// encoding all 1,000 sites' views at every pass was half of the pass.
    ///
    /// The event's data is what encoding every view at once with `JSONEncoder.api` gives: that encoder writes no
    /// whitespace and one key here, so an array of objects is its objects joined by commas. Two exceptions, both
    /// meaning the same: a view is reused when it equals the last one sent, and equal is Swift's `==`, so a
    /// reading of -0 after one of 0 (or a string in another Unicode normal form) is sent as it was first
    /// written; and a view that cannot be encoded (a NaN) is `null` in the list, where the whole event was `null`.
    struct SiteEncodings: Sendable {
        struct Sent: Sendable {
            let view: LivePlan.SiteView
            let json: String
        }

        /// The sites' names in the order the last event listed them; nil before the first event.
        private var names: [String]?
        private var sent: [String: Sent] = [:]
        /// How many views the events have encoded (a site whose view did not change is not encoded again).
        private(set) var encoded = 0

        /// The `sites` event for `views`, or nil when they are the last event's views, agents' heartbeats aside
        /// (a heartbeat alone is no event: it changes every second or so, and the console shows its age).
        ///
        /// - Complexity: O(N) comparisons of views for N sites, plus encoding each view that changed.
        mutating func event(_ views: [LivePlan.SiteView]) -> LiveEvent? {
            guard changed(views) else { return nil }
            var next: [String: Sent] = .init(minimumCapacity: views.count)
            let parts = views.map { view in
                let json = sent[view.name].flatMap { $0.view == view ? $0.json : nil } ?? encode(view)
                next[view.name] = Sent(view: view, json: json)
                return json
            }
            (names, sent) = (views.map(\.name), next)
            return .sites(Sites(data: "{\"sites\":[" + parts.joined(separator: ",") + "]}"))
        }

        /// Whether `views` differ from the last event's in anything but agents' heartbeats.
        func changed(_ views: [LivePlan.SiteView]) -> Bool {
            guard let names, views.count == names.count, zip(views, names).allSatisfy({ $0.name == $1 }) else {
                return true
            }
            return views.contains { view in
                guard let last = sent[view.name]?.view else { return true }
                return last != view && last.withoutHeartbeat != view.withoutHeartbeat
            }
        }

        private mutating func encode(_ view: LivePlan.SiteView) -> String {
            encoded += 1
            return LiveEvent.json(view)
        }
    }
}
