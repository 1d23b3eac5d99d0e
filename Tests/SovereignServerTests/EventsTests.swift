import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SovereignServer
import Testing

/// `GET /v1/events`: the SSE framing, resuming with Last-Event-ID from the in-memory ring, a slow client
/// dropped, and which roles may read the stream.
struct EventsTests {
    typealias F = ControlFixtures

    static let siteToken = "st-0123456789abcdef0123"

    static func app() throws -> (some ApplicationProtocol, F.Harness) {
        let h = try F.harness()
        let tokens = try TokenStore(
            text:
                "\(F.operatorToken) operator\n\(F.readerToken) reader\n\(F.powerToken) power\n\(siteToken) site nairobi-1\n",
            file: "tokens"
        )
        let app = Application(
            router: SovereignServer.router(plane: h.plane, federation: h.coordinator(), tokens: tokens)
        )
        return (app, h)
    }

    static func headers(_ token: String?, lastEventID: String? = nil) -> HTTPFields {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        if let lastEventID { fields[HTTPField.Name("Last-Event-ID")!] = lastEventID }
        return fields
    }

    /// The events of a stream's text: (id, name, data lines), comments and `retry:` left out.
    static func events(_ text: String) -> [(id: String, name: String, data: [String])] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var id = ""
            var name = ""
            var data: [String] = []
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            return name.isEmpty ? nil : (id, name, data)
        }
    }

    @Test func anEventIsFramedWithItsIdNameAndOneDataLinePerLine() {
        let text = ServerSentEvents.event(
            id: "0a1b2c3d-7",
            name: "workload",
            data: "{\"a\":\"\u{2028}\"}\nsecond\r\nthird"
        )
        #expect(text == "id: 0a1b2c3d-7\nevent: workload\ndata: {\"a\":\"\u{2028}\"}\ndata: second\ndata: third\n\n")
    }

    @Test func aClientResumesAfterItsLastEventOrIsToldToReset() {
        let hub = EventHub(capacity: 3)
        hub.publish((1...5).map { _ in .power(Self.signal) })
        // Held: events 3, 4, 5. A client that saw 3 is sent 4 and 5.
        let resumed = try? hub.subscribe(after: "\(hub.epoch)-3", follow: false)
        #expect(resumed?.resume == .replay(Self.frames(hub, 4...5)))
        // One that saw 2 missed nothing the ring lost (3 is still held).
        #expect(
            (try? hub.subscribe(after: "\(hub.epoch)-2", follow: false))?.resume == .replay(Self.frames(hub, 3...5))
        )
        // One that saw 1 missed event 2, which is gone: reset, with the latest id.
        let old = try? hub.subscribe(after: "\(hub.epoch)-1", follow: false)
        guard case .reset(let reason) = old?.resume else {
            Issue.record("expected a reset, found \(String(describing: old?.resume))")
            return
        }
        #expect(reason.contains("no longer held"))
        #expect(old?.latest == "\(hub.epoch)-5")
        // Another process's id, or one never sent: reset.
        let otherEpoch = hub.epoch == "00000000" ? "00000001" : "00000000"
        #expect(Self.isReset(try? hub.subscribe(after: "\(otherEpoch)-5", follow: false)))
        #expect(Self.isReset(try? hub.subscribe(after: "\(hub.epoch)-6", follow: false)))
        #expect(Self.isReset(try? hub.subscribe(after: "not an id", follow: false)))
        // A new client: nothing missed.
        #expect((try? hub.subscribe(after: nil, follow: false))?.resume == .replay([]))
    }

    @Test(arguments: ["", "0a1b2c3d", "0A1B2C3D-1", "0a1b2c3d-", "0a1b2c3d-x", "0a1b2c3-1", "0a1b2c3d-1-2"])
    func malformedEventIDsAreRefused(_ text: String) {
        #expect(EventID(text) == nil)
    }

    @Test func aFollowingClientGetsEachEventInOrderAndASlowOneIsDropped() async throws {
        let hub = EventHub(capacity: 16, clientBuffer: 2)
        let reading = try hub.subscribe(after: nil, follow: true)
        let slow = try hub.subscribe(after: nil, follow: true)
        #expect(hub.subscriberCount == 2)
        var iterator = try #require(reading.items).makeAsyncIterator()
        hub.publish([.power(Self.signal)])
        #expect(await iterator.next() == .frame(Self.frames(hub, 1...1)[0]))
        hub.publish([.power(Self.signal)])
        #expect(await iterator.next() == .frame(Self.frames(hub, 2...2)[0]))
        // The slow client has not read: two events fill its buffer; the third drops it, without waiting.
        hub.publish([.power(Self.signal)])
        #expect(hub.subscriberCount == 1)
        var slowItems: [EventHub.Item] = []
        for await item in try #require(slow.items) { slowItems.append(item) }
        #expect(slowItems.count == 2)
        // The reader still gets the third, and a heartbeat.
        #expect(await iterator.next() == .frame(Self.frames(hub, 3...3)[0]))
        reading.heartbeat()
        #expect(await iterator.next() == .heartbeat)
        reading.cancel()
        #expect(hub.subscriberCount == 0)
        #expect(await iterator.next() == nil)
    }

    /// One token may hold only so many following streams; others' streams and bounded reads are not counted.
    @Test func aTokenHoldsAtMostItsShareOfStreams() throws {
        let hub = EventHub(maxSubscribers: 4, maxPerOwner: 2)
        // Held in a list: a stream no one holds ends, and its subscription with it.
        var open = [try hub.subscribe(after: nil, follow: true, owner: "a")]
        open.append(try hub.subscribe(after: nil, follow: true, owner: "a"))
        #expect(throws: EventHub.Refusal.ownerFull) { try hub.subscribe(after: nil, follow: true, owner: "a") }
        // What was missed, without following, is no stream held.
        #expect(try hub.subscribe(after: nil, follow: false, owner: "a").items == nil)
        open.append(try hub.subscribe(after: nil, follow: true, owner: "b"))
        open.removeFirst().cancel()
        open.append(try hub.subscribe(after: nil, follow: true, owner: "a"))
        open.append(try hub.subscribe(after: nil, follow: true, owner: "c"))
        #expect(hub.subscriberCount == 4)
        #expect(throws: EventHub.Refusal.full) { try hub.subscribe(after: nil, follow: true, owner: "d") }
    }

    @Test func closingTheHubEndsEveryStream() async throws {
        let hub = EventHub()
        let open = try hub.subscribe(after: nil, follow: true)
        hub.close()
        var items = try #require(open.items).makeAsyncIterator()
        #expect(await items.next() == nil)
        #expect(try hub.subscribe(after: nil, follow: true).items == nil)
    }

    @Test func theStreamCarriesWorkloadStatesAndLedgerEntriesAndResumes() async throws {
        let (app, h) = try Self.app()
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/workloads",
                method: .post,
                headers: Self.headers(F.operatorToken),
                body: ByteBuffer(string: F.workload("train"))
            ) { #expect($0.status == .created) }
            // The submission answers before its pass; the stream is read once the pass has run.
            await h.plane.askedPassesDone()
            let first = "\(h.plane.events.epoch)-0"
            var all: [(id: String, name: String, data: [String])] = []
            try await client.execute(
                uri: "/v1/events?follow=false",
                method: .get,
                headers: Self.headers(F.readerToken, lastEventID: first)
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream")
                let text = String(buffer: response.body)
                #expect(text.hasPrefix("retry: 2000\n\n"))
                all = Self.events(text)
            }
            let states = all.filter { $0.name == "workload" }.compactMap { event in
                Self.field("to", in: event.data.joined())
            }
            #expect(states == ["pending", "placed", "running"])
            #expect(
                all.contains { $0.name == "ledger" && $0.data.joined().contains("\"kind\":\"workload.submitted\"") }
            )
            #expect(all.contains { $0.name == "sites" })
            // Resuming from the middle sends exactly what came after.
            let middle = all[all.count / 2]
            try await client.execute(
                uri: "/v1/events?follow=false",
                method: .get,
                headers: Self.headers(F.readerToken, lastEventID: middle.id)
            ) { response in
                #expect(Self.events(String(buffer: response.body)).map(\.id) == all[(all.count / 2 + 1)...].map(\.id))
            }
        }
    }

    @Test func everyRoleThatReadsTheAPISeesTheStreamAndASiteTokenDoesNot() async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            for token in [F.readerToken, F.powerToken, F.operatorToken] {
                try await client.execute(uri: "/v1/events?follow=false", method: .get, headers: Self.headers(token)) {
                    #expect($0.status == .ok)
                }
            }
            try await client.execute(
                uri: "/v1/events?follow=false",
                method: .get,
                headers: Self.headers(Self.siteToken)
            ) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/events?follow=false", method: .get, headers: Self.headers(nil)) {
                #expect($0.status == .unauthorized)
            }
            // An id this server never wrote: the client is told to read the state again.
            try await client.execute(
                uri: "/v1/events?follow=false",
                method: .get,
                headers: Self.headers(F.readerToken, lastEventID: "../../etc")
            ) {
                #expect($0.status == .ok)
                #expect(Self.events(String(buffer: $0.body)).map(\.name) == ["reset"])
            }
            try await client.execute(uri: "/v1/events?follow=maybe", method: .get, headers: Self.headers(F.readerToken))
            {
                #expect($0.status == .badRequest)
            }
        }
    }

    static let signal = PowerSignalRecord(site: "nairobi-1", at: 0, available: 1000, forecast: [], ambient: nil)

    static func frames(_ hub: EventHub, _ sequences: ClosedRange<UInt64>) -> [EventHub.Frame] {
        let data = #"{"at":"1970-01-01T00:00:00.000Z","availableWatts":1000,"site":"nairobi-1"}"#
        return sequences.map { EventHub.Frame(sequence: $0, name: "power", data: data) }
    }

    static func isReset(_ subscription: EventHub.Subscription?) -> Bool {
        if case .reset = subscription?.resume { return true }
        return false
    }

    static func field(_ name: String, in json: String) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        return object?[name] as? String
    }
}
