import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

struct HardwareFitFilterTests {
    let filter = HardwareFitFilter()

    @Test func trainingFitsWithinItsBoundsAndThePool() throws {
        let f = try PluginFixture()
        let state = filter.preFilter(try f.workload("finetune"), in: f.fleet)
        // 7B × 16 bytes = 112 GB: two 80 GB A100s hold it, but the workload asks for at least 4.
        #expect(filter.fit(state, try f.candidate("nairobi-1/a100")) == Fit(precision: nil, min: 4, max: 32))
        #expect(filter.fit(state, try f.candidate("nairobi-1/t4")) == Fit(precision: nil, min: 7, max: 32))
        #expect(filter.filter(state, try f.candidate("nairobi-1/a100")) == nil)
    }

    @Test func inferenceTakesTheHighestPrecisionThatFits() throws {
        let f = try PluginFixture()
        let state = filter.preFilter(try f.workload("assistant"), in: f.fleet)
        let onA100 = try #require(filter.fit(state, try f.candidate("nairobi-1/a100")))
        #expect(onA100.precision == .fp16)
        #expect(onA100.max == 64)
    }

    @Test func refusalsSayWhatIsShort() throws {
        let f = try PluginFixture(
            Fixtures.constantFleet.replacingOnce("min: 4, max: 32", with: "min: 40, max: 64")
        )
        let state = filter.preFilter(try f.workload("finetune"), in: f.fleet)
        #expect(
            filter.filter(state, try f.candidate("kigali-1/l4"))
                == Rejection(filter: "hardware-fit", reason: "pool too small (needs ≥ 40 accelerators)")
        )
        let narrow = try PluginFixture(Fixtures.constantFleet.replacingOnce("min: 4, max: 32", with: "min: 1, max: 6"))
        let narrowState = filter.preFilter(try narrow.workload("finetune"), in: narrow.fleet)
        #expect(
            filter.filter(narrowState, try narrow.candidate("nairobi-1/t4"))
                == Rejection(
                    filter: "hardware-fit",
                    reason: "insufficient memory (needs 112 GB over ≤ 6 accelerators; nvidia-t4 has 16 GB each)"
                )
        )
    }

    /// The prepared filter hands the fit on, so a cycle computes it once per candidate.
    @Test func thePreparedFilterCarriesTheFit() throws {
        let f = try PluginFixture()
        let finetune = try f.workload("finetune")
        let prepared = filter.prepared(for: finetune, in: f.fleet)
        guard case .fits(let fit) = prepared.check(try f.candidate("nairobi-1/a100")) else {
            Issue.record("expected a fit")
            return
        }
        #expect(fit == Fit(precision: nil, min: 4, max: 32))
        let all = PlanningPolicy.powerAware.preparedFilters(for: finetune, in: f.fleet)
        guard case .rejected(let rejection) = all.check(try f.candidate("kigali-1/l4")) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(rejection.filter == "residency")
    }
}
