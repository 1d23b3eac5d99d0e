import Foundation
import SovereignKubernetes
import SovereignModel
import SovereignTesting
import Testing

/// The extender's answers, byte for byte, against files stored before the architecture change (issue 14): the four
/// recorded kube-scheduler bodies, each with pods that ask for nothing, for datasets, for a classification, for a
/// declared workload and for accelerators, at nameplate power and in a power and a thermal shortfall. Set
/// `SOVEREIGN_UPDATE_GOLDEN=1` to write the files (only for an intended change of output, said in the commit).
struct ExtenderGoldenTests {
    struct Pod: Sendable, CustomTestStringConvertible {
        let name: String
        let annotations: [String: String]
        let limits: [String: String]
        var testDescription: String { name }
    }

    static let pods: [Pod] = [
        Pod(name: "plain", annotations: [:], limits: [:]),
        Pod(name: "datasets", annotations: ["sovereign.dev/datasets": "ke-health-records"], limits: [:]),
        Pod(name: "personal", annotations: ["sovereign.dev/classification": "personal"], limits: [:]),
        Pod(name: "finetune", annotations: ["sovereign.dev/workload": "finetune"], limits: [:]),
        Pod(name: "giant", annotations: ["sovereign.dev/workload": "giant"], limits: [:]),
        Pod(name: "bad-annotation", annotations: ["sovereign.dev/classification": "secret"], limits: [:]),
        Pod(name: "gpu-8", annotations: [:], limits: ["nvidia.com/gpu": "8"]),
        Pod(name: "gpu-16", annotations: [:], limits: ["nvidia.com/gpu": "16"]),
    ]

    static let bodies = [F.fullFilter, F.cacheFilter, F.fullPrioritize, F.cachePrioritize]

    /// Nameplate power; site a at 6 kW of IT power for 6 hours; site a able to reject only 3 kW of heat with
    /// 2 kW already running.
    static let conditions = ["nameplate", "power-shortfall", "thermal-shortfall"]

    static func snapshot(_ condition: String, _ fleet: Fleet) -> ExtenderSnapshot {
        let steps = 24
        let siteA = fleet.sites[0]
        switch condition {
        case "power-shortfall":
            var supply = [Double](repeating: 1_200_000, count: steps)
            for t in 0..<6 { supply[t] = 8_100 }
            let budgets = fleet.sites.map { site in
                site.name == "a"
                    ? F.budget(steps, supply: 0, perStep: supply, site: siteA)
                    : F.budget(steps, supply: site.power.grid?.capacity.watts ?? 0, site: site)
            }
            return F.snapshot(fleet, budgets: budgets)
        case "thermal-shortfall":
            let budgets = fleet.sites.map { site in
                site.name == "a"
                    ? F.budget(steps, supply: 1_200_000, cooling: 3_000, site: site)
                    : F.budget(steps, supply: site.power.grid?.capacity.watts ?? 0, site: site)
            }
            return F.snapshot(fleet, budgets: budgets, running: [2_000, 0, 0])
        default:
            return F.snapshot(fleet)
        }
    }

    /// Every answer for one recorded body, in a fixed order, each after a header line naming its case.
    static func answers(for body: String) throws -> String {
        let fleet = try F.fleet()
        let labels = try F.recordedNodeLabels()
        let filter = body.contains(".filter.")
        var out = ""
        for condition in conditions {
            let extender = F.extender(snapshot(condition, fleet), nodes: labels)
            for pod in pods {
                let request = try F.withPod(try F.recorded(body), annotations: pod.annotations, limits: pod.limits)
                let answer = try filter ? extender.filter(request) : extender.prioritize(request)
                out += "== \(condition) \(pod.name)\n" + String(decoding: answer, as: UTF8.self) + "\n"
            }
        }
        return out
    }

    @Test(arguments: bodies)
    func answersAreByteIdenticalToTheStoredOnes(_ body: String) throws {
        let mismatch = try Golden.mismatch("extender/\(body).txt", try Self.answers(for: body))
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }
}
