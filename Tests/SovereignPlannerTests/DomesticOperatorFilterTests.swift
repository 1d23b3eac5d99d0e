import SovereignModel
import Testing

@testable import SovereignPlanner

struct DomesticOperatorFilterTests {
    let filter = DomesticOperatorFilter()

    @Test func reservedDataNeedsADomesticOperator() throws {
        let f = try PluginFixture()
        let state = filter.preFilter(try f.workload("finetune"), in: f.fleet)
        #expect(filter.filter(state, try f.candidate("nairobi-1/a100")) == nil)
        #expect(
            filter.filter(state, try f.candidate("kigali-1/l4"))
                == Rejection(
                    filter: "domestic-operator",
                    reason: "personal data needs a domestic operator (national-rules; Example Cloud answers to US)"
                )
        )
    }

    @Test(arguments: [(Classification.public, true), (.internal, true), (.personal, false), (.sensitive, false)])
    func onlyReservedClassificationsAreRestricted(classification: Classification, runsAbroad: Bool) throws {
        let f = try PluginFixture()
        let pod = Workload.podConstraint(name: "pod", datasets: [], classification: classification)
        let state = filter.preFilter(pod, in: f.fleet)
        #expect((filter.filter(state, try f.candidate("kigali-1/l4")) == nil) == runsAbroad)
        #expect(filter.filter(state, try f.candidate("nairobi-1/t4")) == nil)
    }
}
