import Foundation
import SovereignKubernetes
import SovereignModel
import SovereignPlanner
import SovereignTesting

/// The extender every input is sent to: the extender tests' fleet (sites `a` and `b` as in the recorded
/// kube-scheduler bodies, a site mapped by region and zone, a personal dataset, a domestic-operator policy)
/// and a node directory that knows the recorded node names.
let extender: Extender = {
    let fleet = try! FleetLoader().load(sources: [("fuzz-fleet.yaml", Fixtures.kubernetesFleet)])
    let grid = TimeGrid(start: Date(timeIntervalSince1970: 1_795_305_600), horizon: .hours(24), step: .hours(1))
    let snapshot = ExtenderSnapshot(
        fleet: fleet,
        workloads: Dictionary(fleet.workloads.map { ($0.name, $0) }) { first, _ in first },
        policy: .powerAware,
        grid: grid,
        budgets: fleet.sites.map { SiteBudget(site: $0, grid: grid) },
        running: fleet.sites.map { _ in 0 }
    )
    let extender = Extender(snapshot: snapshot)
    extender.nodes.replace(with: [
        (name: "node-a1", labels: ["sovereign.dev/site": "a"]), (name: "node-a2", labels: ["sovereign.dev/site": "a"]),
        (name: "node-b1", labels: ["sovereign.dev/site": "b"]), (name: "node-b2", labels: ["sovereign.dev/site": "b"]),
    ])
    return extender
}()

/// libFuzzer entry point: the input bytes are one extender request body.
///
/// Both verbs must either answer or throw ``ExtenderRequestError``; an answer must be JSON that Foundation
/// reads (the extender writes its replies by hand). Any crash, sanitizer report or timeout is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    for verb in 0..<2 {
        do {
            let reply = verb == 0 ? try extender.filter(body) : try extender.prioritize(body)
            guard (try? JSONSerialization.jsonObject(with: Data(reply))) != nil else {
                fatalError(
                    "the extender answered with bytes that are not JSON: \(String(decoding: reply, as: UTF8.self))"
                )
            }
        } catch {
            // Expected for malformed bodies: ExtenderRequestError is the only error these throw.
        }
    }
    return 0
}
