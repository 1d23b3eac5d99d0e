import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

struct InferenceCapacityTests {
    let sizer = InferenceCapacity()

    @Test func aServiceNeedsEnoughAcceleratorsForItsDemand() throws {
        let f = try PluginFixture(
            Fixtures.constantFleet.replacingOnce("tokensPerSecond: 1500", with: "tokensPerSecond: 15000")
        )
        let assistant = try f.workload("assistant")
        let a100 = try f.candidate("nairobi-1/a100")
        let fit = try #require(f.fitted(assistant).first { $0.candidate === a100 }?.fit)
        // 15000 tokens/s × 2 × 70B = 2.1 PFLOPS: more A100s than its memory needs.
        let perAccelerator = PhysicalModel.throughput(assistant, model: a100.model, count: 1)
        let forDemand = PhysicalModel.wholeUp(2 * 70e9 * 15000 / perAccelerator)
        #expect(forDemand > fit.min)
        #expect(
            sizer.size(assistant, a100, fit: fit) == .sized(Fit(precision: fit.precision, min: forDemand, max: fit.max))
        )
    }

    @Test func aPoolTooSmallForTheDemandIsRefused() throws {
        let f = try PluginFixture(
            Fixtures.constantFleet.replacingOnce("tokensPerSecond: 1500", with: "tokensPerSecond: 1500000")
        )
        let assistant = try f.workload("assistant")
        let l4 = try f.candidate("kigali-1/l4")
        let fit = try #require(f.fitted(assistant).first { $0.candidate === l4 }?.fit)
        guard case .refused(let rejection) = sizer.size(assistant, l4, fit: fit) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(rejection.filter == "capacity")
        #expect(rejection.reason.hasPrefix("too few accelerators for "))
        #expect(rejection.reason.hasSuffix("nvidia-l4, at most 32)"))
    }

    @Test func trainingIsLeftAsItFits() throws {
        let f = try PluginFixture()
        let fit = Fit(precision: nil, min: 4, max: 32)
        #expect(sizer.size(try f.workload("finetune"), try f.candidate("nairobi-1/a100"), fit: fit) == .sized(fit))
    }
}
