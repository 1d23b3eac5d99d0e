import Foundation
import Synchronization

/// The live events of one server process, for `GET /v1/events`: numbered as they are published, the latest
/// ``capacity`` kept in memory for clients that resume with `Last-Event-ID`, and handed to every subscriber
/// without ever waiting for one.
///
/// An event's id is `EPOCH-N`: `EPOCH` is random per process and `N` counts from 1. A client that resumes
/// from an id of another process (the server restarted) or older than the ring is sent a `reset` event:
/// what it missed is gone from memory, and it must read the state again (the ledger keeps every change
/// durably; the ring is only for catching up after a short disconnection).
///
/// A subscriber whose buffer of ``clientBuffer`` events is full is a client that does not read: it is
/// dropped (its stream ends) instead of slowing the publisher, which is the control loop.
public final class EventHub: Sendable {
    /// One numbered event, encoded once for every subscriber.
    public struct Frame: Sendable, Hashable {
        public let sequence: UInt64
        public let name: String
        public let data: String

        /// An event numbered `sequence`.
        public init(sequence: UInt64, name: String, data: String) {
            self.sequence = sequence
            self.name = name
            self.data = data
        }
    }

    /// What a subscriber is sent: an event, or a comment that keeps an idle connection open.
    public enum Item: Sendable, Hashable {
        case frame(Frame)
        case heartbeat
    }

    /// Where a client resumes: the events after its last one, or a reset when they are no longer held.
    public enum Resume: Sendable, Hashable {
        case replay([Frame])
        case reset(reason: String)
    }

    /// A client's place in the stream: what it missed, then what comes (nil when it asked for no more).
    public struct Subscription: Sendable {
        public let resume: Resume
        /// The id of the latest event when the client subscribed (a reset event carries it).
        public let latest: String
        public let items: AsyncStream<Item>?
        let hub: EventHub
        let key: UInt64

        /// Sends a heartbeat to this subscriber (through its buffer, so a full buffer drops it).
        public func heartbeat() { hub.send(.heartbeat, to: key) }

        /// Ends this subscription (the client left).
        public func cancel() { hub.unsubscribe(key)?.finish() }
    }

    /// Why a client that asked to follow was not subscribed.
    public enum Refusal: Error, Sendable, Hashable {
        /// ``maxSubscribers`` streams are open.
        case full
        /// Its owner (the caller's token) already holds ``maxPerOwner`` streams.
        case ownerFull
    }

    struct State {
        var ring: [Frame] = []
        var next: UInt64 = 1
        var nextKey: UInt64 = 0
        var subscribers: [UInt64: AsyncStream<Item>.Continuation] = [:]
        /// The owner of each subscriber that has one.
        var owners: [UInt64: String] = [:]
        var closed = false
    }

    /// This process's prefix of every event id.
    public let epoch: String
    /// Events kept for resuming clients.
    public let capacity: Int
    /// Events one subscriber may have waiting before it is dropped.
    public let clientBuffer: Int
    /// Most subscribers at once; more are refused.
    public let maxSubscribers: Int
    /// Most subscribers one owner (a token) may have at once, so that one client cannot take every stream.
    public let maxPerOwner: Int
    let state = Mutex(State())

    /// Makes a hub with a new random epoch.
    public init(capacity: Int = 1024, clientBuffer: Int = 256, maxSubscribers: Int = 256, maxPerOwner: Int = 16) {
        var generator = SystemRandomNumberGenerator()
        epoch = String(UInt32.random(in: .min ... .max, using: &generator), radix: 16).leftPadded(to: 8)
        self.capacity = capacity
        self.clientBuffer = clientBuffer
        self.maxSubscribers = maxSubscribers
        self.maxPerOwner = maxPerOwner
    }

    /// The id a client sends back as `Last-Event-ID`.
    public func id(_ sequence: UInt64) -> String { "\(epoch)-\(sequence)" }

    /// Numbers the events, keeps them in the ring and hands them to every subscriber; a subscriber whose
    /// buffer is full is dropped.
    ///
    /// - Complexity: O(E × S) for E events and S subscribers; never waits.
    public func publish(_ events: [LiveEvent]) {
        guard !events.isEmpty else { return }
        let frames = events.map(\.frame)
        let dropped = state.withLock { state in
            var dropped: [AsyncStream<Item>.Continuation] = []
            for (name, data) in frames {
                let frame = Frame(sequence: state.next, name: name, data: data)
                state.next += 1
                state.ring.append(frame)
                for (key, continuation) in state.subscribers where !Self.deliver(.frame(frame), continuation) {
                    state.subscribers[key] = nil
                    state.owners[key] = nil
                    dropped.append(continuation)
                }
            }
            if state.ring.count > capacity { state.ring.removeFirst(state.ring.count - capacity) }
            return dropped
        }
        // Outside the lock: finishing a stream runs its onTermination, which takes the lock.
        for continuation in dropped { continuation.finish() }
    }

    /// Subscribes a client that last saw `lastEventID` (nil: a new client, sent nothing missed; an id this
    /// server does not write, such as one from another server, is answered with a reset).
    ///
    /// - Parameters:
    ///   - follow: whether to stay subscribed to what comes; without, only what was missed.
    ///   - owner: who asks (the caller's token), whose following subscriptions count against ``maxPerOwner``.
    /// - Throws: ``Refusal`` when ``maxSubscribers`` follow already, or `owner` holds ``maxPerOwner``.
    public func subscribe(
        after lastEventID: String?,
        follow: Bool,
        owner: String? = nil
    ) throws(Refusal)
        -> Subscription
    {
        try state.withLock { state throws(Refusal) -> Subscription in
            if follow && state.subscribers.count >= maxSubscribers { throw .full }
            if follow, let owner, state.owners.values.count(where: { $0 == owner }) >= maxPerOwner {
                throw .ownerFull
            }
            let resume = Self.resume(after: lastEventID, epoch: epoch, ring: state.ring, next: state.next)
            let latest = id(state.next - 1)
            guard follow && !state.closed else {
                return Subscription(resume: resume, latest: latest, items: nil, hub: self, key: 0)
            }
            let key = state.nextKey
            state.nextKey += 1
            let (stream, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingOldest(clientBuffer))
            continuation.onTermination = { [weak self] _ in _ = self?.unsubscribe(key) }
            state.subscribers[key] = continuation
            state.owners[key] = owner
            return Subscription(resume: resume, latest: latest, items: stream, hub: self, key: key)
        }
    }

    /// How many clients are subscribed now.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    static func resume(after text: String?, epoch: String, ring: [Frame], next: UInt64) -> Resume {
        guard let text else { return .replay([]) }
        guard let last = EventID(text) else {
            return .reset(reason: "\"\(text.prefix(40))\" is not an event id of this server; read the state again")
        }
        guard last.epoch == epoch else {
            return .reset(reason: "the server restarted since event \(last.text); read the state again")
        }
        guard last.sequence < next else {
            return .reset(reason: "event \(last.text) was never sent; read the state again")
        }
        let oldest = ring.first?.sequence ?? next
        guard last.sequence + 1 >= oldest else {
            return .reset(
                reason:
                    "the events after \(last.text) are no longer held (the server keeps the last \(ring.count)); read the state again"
            )
        }
        return .replay(ring.filter { $0.sequence > last.sequence })
    }

    func send(_ item: Item, to key: UInt64) {
        let dropped = state.withLock { state -> AsyncStream<Item>.Continuation? in
            guard let continuation = state.subscribers[key], !Self.deliver(item, continuation) else { return nil }
            state.subscribers[key] = nil
            state.owners[key] = nil
            return continuation
        }
        dropped?.finish()
    }

    /// Whether the subscriber took the item; false when its buffer is full or its stream has ended.
    static func deliver(_ item: Item, _ continuation: AsyncStream<Item>.Continuation) -> Bool {
        if case .enqueued = continuation.yield(item) { return true }
        return false
    }

    @discardableResult
    func unsubscribe(_ key: UInt64) -> AsyncStream<Item>.Continuation? {
        state.withLock { state in
            state.owners[key] = nil
            return state.subscribers.removeValue(forKey: key)
        }
    }

    /// Ends every stream and follows no more (the server is stopping): open streams must not hold its
    /// graceful shutdown up. Later subscriptions get what they missed and end.
    public func close() {
        let open = state.withLock { state in
            state.closed = true
            defer { (state.subscribers, state.owners) = ([:], [:]) }
            return Array(state.subscribers.values)
        }
        for continuation in open { continuation.finish() }
    }
}

/// A `Last-Event-ID` as this server writes them: `EPOCH-N`, eight hex digits and a decimal count.
public struct EventID: Sendable, Hashable {
    public let epoch: String
    public let sequence: UInt64
    public var text: String { "\(epoch)-\(sequence)" }

    /// Parses `EPOCH-N`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 8, parts[0].allSatisfy(\.isHexDigit),
            parts[0] == parts[0].lowercased(), parts[1].count <= 18, parts[1].allSatisfy(\.isASCIIDigitCharacter),
            let sequence = UInt64(parts[1])
        else { return nil }
        epoch = String(parts[0])
        self.sequence = sequence
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
