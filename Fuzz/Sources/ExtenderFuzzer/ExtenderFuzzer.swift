import Foundation
import SovereignKubernetes
import SovereignModel
import SovereignPlanner

/// The extender every input is sent to: two sites named as in the recorded kube-scheduler bodies
/// (`sovereign.dev/site: a` and `b`), a dataset pods may name, a domestic-operator policy, and a node
/// directory that knows the recorded node names.
let extender: Extender = {
    let yaml = """
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: a}
        spec:
          jurisdiction: KE
          operator: {name: A, jurisdiction: KE}
          power: {grid: {capacity: 20 kW}}
          cooling: {capacity: 900 kW, ambient: 24 C, pue: {base: 1.35}}
          pools: [{name: h100, accelerator: nvidia-h100-sxm, count: 16, perNode: 8}]
        ---
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: b}
        spec:
          jurisdiction: RW
          operator: {name: B, jurisdiction: RW, parentJurisdiction: US}
          power: {grid: {capacity: 600 kW}}
          cooling: {capacity: 500 kW, ambient: 24 C, pue: {base: 1.6}}
          pools: [{name: l4, accelerator: nvidia-l4, count: 32, perNode: 8}]
        ---
        apiVersion: sovereign.dev/v1
        kind: Dataset
        metadata: {name: ke-health-records}
        spec: {size: 2 TB, site: a, residency: [KE], classification: personal}
        ---
        apiVersion: sovereign.dev/v1
        kind: Policy
        metadata: {name: rules}
        spec: {domesticOperatorFor: [personal]}
        """
    let fleet = try! FleetLoader().load(sources: [("fuzz-fleet.yaml", yaml)])
    let grid = TimeGrid(start: Date(timeIntervalSince1970: 1_795_305_600), horizon: .hours(24), step: .hours(1))
    let snapshot = ExtenderSnapshot(
        fleet: fleet,
        workloads: [:],
        policy: .powerAware,
        grid: grid,
        budgets: fleet.sites.map { SiteBudget(site: $0, grid: grid) },
        running: [0, 0]
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
                fatalError("the extender answered with bytes that are not JSON: \(String(decoding: reply, as: UTF8.self))")
            }
        } catch {
            // Expected for malformed bodies: ExtenderRequestError is the only error these throw.
        }
    }
    return 0
}
