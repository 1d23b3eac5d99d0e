import Foundation
import Testing

@testable import SovereignServer

/// The `sites` live event as ``LiveEvent/SiteEncodings`` makes it: the same bytes as encoding every view at once,
/// no event for agents' heartbeats alone, and only the views that changed encoded again.
struct SitesEventTests {
    func view(_ name: String, supply: Double = 1_000_000, heartbeat: String? = nil) -> LivePlan.SiteView {
        LivePlan.SiteView(
            name: name,
            country: "KE/\"Nairobi\" é",
            supplyWatts: supply,
            itLimitWatts: supply * 0.8,
            runningWatts: 12_500.5,
            acceleratorsInUse: ["h100": 8, "a100": 16],
            accelerators: [
                .init(pool: "h100", model: "nvidia-h100", modelName: "NVIDIA H100", count: 64, inUse: 8),
                .init(pool: "a100", model: "nvidia-a100", modelName: "NVIDIA A100", count: 32, inUse: 16),
            ],
            signalled: true,
            agent: "reporting",
            agentReportedAt: heartbeat,
            powerReportedAt: "2026-12-05T10:00:00.000Z",
            ambientCelsius: 24.5,
            coolingWatts: 900_000,
            powerState: "ok",
            thermalState: "ok",
            forecast: [.init(at: "2026-12-05T10:00:00.000Z", supplyWatts: supply, itLimitWatts: supply * 0.8)]
        )
    }

    /// What the event was before its views were kept: every view encoded at once.
    func whole(_ views: [LivePlan.SiteView]) -> String { LiveEvent.json(["sites": views]) }

    func data(_ event: LiveEvent?) -> String? {
        guard case .sites(let sites)? = event else { return nil }
        return sites.data
    }

    @Test func theEventIsEveryViewEncodedAtOnceByteForByte() {
        var encodings = LiveEvent.SiteEncodings()
        let views = ["nairobi-1", "dar-1", "kampala-1"].map { view($0, heartbeat: "2026-12-05T10:00:01.250Z") }
        let event = encodings.event(views)
        #expect(data(event) == whole(views))
        #expect(event?.frame.name == "sites")
        #expect(event?.frame.data == whole(views))
        var none = LiveEvent.SiteEncodings()
        #expect(data(none.event([])) == whole([]))
    }

    @Test func onlyTheViewsThatChangedAreEncodedAgain() {
        var encodings = LiveEvent.SiteEncodings()
        var views = (1...5).map { view("site-\($0)") }
        _ = encodings.event(views)
        #expect(encodings.encoded == 5)
        #expect(encodings.event(views) == nil)
        views[2] = view("site-3", supply: 750_000)
        #expect(data(encodings.event(views)) == whole(views))
        #expect(encodings.encoded == 6)
    }

    @Test func aHeartbeatAloneIsNoEventButTheNextEventCarriesIt() {
        var encodings = LiveEvent.SiteEncodings()
        var views = (1...4).map { view("site-\($0)", heartbeat: "2026-12-05T10:00:01.000Z") }
        _ = encodings.event(views)
        views[0] = view("site-1", heartbeat: "2026-12-05T10:00:02.000Z")
        #expect(encodings.event(views) == nil)
        views[3] = view("site-4", supply: 500_000, heartbeat: "2026-12-05T10:00:01.000Z")
        #expect(data(encodings.event(views)) == whole(views))
        #expect(encodings.encoded == 6)
    }

    @Test func sitesAddedRemovedOrReorderedMakeAnEvent() {
        var encodings = LiveEvent.SiteEncodings()
        let views = (1...3).map { view("site-\($0)") }
        _ = encodings.event(views)
        for next in [Array(views.reversed()), views + [view("site-4")], Array(views.dropLast())] {
            #expect(data(encodings.event(next)) == whole(next))
        }
        #expect(encodings.encoded == 4)
    }
}
