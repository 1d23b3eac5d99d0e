/// The Server-Sent Events wire format (WHATWG HTML, "Server-sent events"): the one place a hub's items
/// become the text of `GET /v1/events`.
public enum ServerSentEvents: Sendable {
    /// How long a client waits before reconnecting after the stream ends (milliseconds).
    static let retryMilliseconds = 2000

    /// The start of a stream: the reconnection delay, then what the client missed, or a reset when that is
    /// no longer held.
    static func opening(_ subscription: EventHub.Subscription, hub: EventHub) -> String {
        var text = "retry: \(retryMilliseconds)\n\n"
        switch subscription.resume {
        case .replay(let frames):
            for frame in frames { text += event(id: hub.id(frame.sequence), name: frame.name, data: frame.data) }
        case .reset(let reason):
            text += event(id: subscription.latest, name: "reset", data: LiveEvent.json(["reason": reason]))
        }
        return text
    }

    /// One item of a live stream.
    static func text(_ item: EventHub.Item, hub: EventHub) -> String {
        switch item {
        case .frame(let frame): event(id: hub.id(frame.sequence), name: frame.name, data: frame.data)
        case .heartbeat: ": heartbeat\n\n"
        }
    }

    /// `id:`, `event:` and one `data:` line per line of `data`, then the blank line that dispatches it.
    public static func event(id: String, name: String, data: String) -> String {
        var text = "id: \(id)\nevent: \(name)\n"
        // The format's line breaks only ("\r\n" is one Character): a U+2028 in a JSON string is not one.
        let breaks: Set<Character> = ["\n", "\r", "\r\n"]
        for line in data.split(omittingEmptySubsequences: false, whereSeparator: breaks.contains) {
            text += "data: \(line)\n"
        }
        return text + "\n"
    }
}
