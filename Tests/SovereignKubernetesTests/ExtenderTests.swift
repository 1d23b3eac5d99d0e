import Foundation
import SovereignBase
import SovereignKubernetes
import SovereignModel
import SovereignPlanner
import SovereignTesting
import Testing

typealias F = ExtenderFixtures

struct ExtenderFilterTests {
    let fleet: Fleet
    let labels: [String: [String: String]]

    init() throws {
        fleet = try F.fleet()
        labels = try F.recordedNodeLabels()
    }

    func extender(_ snapshot: ExtenderSnapshot? = nil) -> Extender {
        F.extender(snapshot ?? F.snapshot(fleet), nodes: labels)
    }

    @Test func recordedFullModeRequestPassesEveryNodeAndEchoesTheObjectsByteForByte() throws {
        let body = try F.recorded(F.fullFilter)
        let reply = try extender().filter(body)
        let result = try F.FilterResult(reply)
        #expect(result.nodeNames == nil)
        #expect(result.failed.isEmpty)
        #expect(result.unresolvable.isEmpty)
        #expect(result.error == "")
        let names = try #require(result.nodes).map { ($0["metadata"] as! [String: Any])["name"] as! String }
        #expect(names == ["node-a2", "node-b1", "node-b2", "node-a1"])
        // Each echoed node is the exact bytes kube-scheduler sent.
        let text = String(decoding: body, as: UTF8.self)
        let replyText = String(decoding: reply, as: UTF8.self)
        let first = text.range(of: "{\"metadata\":{\"name\":\"node-a2\"")!
        let sent = String(text[first.lowerBound...].prefix(400))
        #expect(replyText.contains(sent))
        #expect(replyText.hasPrefix("{\"Nodes\":{\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"node-a2\""))
        #expect(
            replyText.hasSuffix(
                ",\"NodeNames\":null,\"FailedNodes\":{},\"FailedAndUnresolvableNodes\":{},\"Error\":\"\"}"
            )
        )
    }

    @Test func recordedNodeCacheRequestAnswersNamesOnly() throws {
        let reply = try extender().filter(try F.recorded(F.cacheFilter))
        #expect(
            String(decoding: reply, as: UTF8.self)
                == "{\"Nodes\":null,\"NodeNames\":[\"node-a1\",\"node-a2\",\"node-b1\",\"node-b2\"],"
                + "\"FailedNodes\":{},\"FailedAndUnresolvableNodes\":{},\"Error\":\"\"}"
        )
    }

    @Test(arguments: [F.fullFilter, F.cacheFilter])
    func residencyFailuresAreUnresolvable(_ file: String) throws {
        let body = try F.withPod(try F.recorded(file), annotations: ["sovereign.dev/datasets": "ke-health-records"])
        let result = try F.FilterResult(try extender().filter(body))
        let passed = result.nodeNames ?? result.nodes!.map { ($0["metadata"] as! [String: Any])["name"] as! String }
        #expect(Set(passed) == ["node-a1", "node-a2"])
        #expect(result.failed.isEmpty)
        #expect(
            result.unresolvable == [
                "node-b1": "sovereign residency: outside residency KE (dataset ke-health-records)",
                "node-b2": "sovereign residency: outside residency KE (dataset ke-health-records)",
            ]
        )
    }

    @Test func classificationAnnotationAppliesTheDomesticOperatorPolicy() throws {
        let body = try F.withPod(
            try F.recorded(F.cacheFilter),
            annotations: ["sovereign.dev/classification": "personal"]
        )
        let result = try F.FilterResult(try extender().filter(body))
        #expect(result.nodeNames == ["node-a1", "node-a2"])
        #expect(
            result.unresolvable["node-b1"]
                == "sovereign domestic-operator: personal data needs a domestic operator "
                + "(national-rules; Example Cloud answers to US)"
        )
        // Public data may go there.
        let open = try F.withPod(try F.recorded(F.cacheFilter), annotations: ["sovereign.dev/classification": "public"])
        #expect(try F.FilterResult(try extender().filter(open)).nodeNames?.count == 4)
    }

    @Test func declaredWorkloadCarriesItsDatasetsAndHardwareNeeds() throws {
        let finetune = try F.withPod(try F.recorded(F.cacheFilter), annotations: ["sovereign.dev/workload": "finetune"])
        let result = try F.FilterResult(try extender().filter(finetune))
        #expect(result.nodeNames == ["node-a1", "node-a2"])
        #expect(result.unresolvable["node-b1"]?.hasPrefix("sovereign residency: outside residency KE") == true)
        // 60B parameters of training state (960 GB) fit 16 H100 but not 32 L4 (768 GB).
        let giant = try F.withPod(try F.recorded(F.cacheFilter), annotations: ["sovereign.dev/workload": "giant"])
        let refused = try F.FilterResult(try extender().filter(giant))
        #expect(refused.nodeNames == ["node-a1", "node-a2"])
        #expect(
            refused.unresolvable["node-b1"]
                == "sovereign hardware-fit: insufficient memory (needs 960 GB over ≤ 32 accelerators; "
                + "nvidia-l4 has 24 GB each)"
        )
    }

    @Test(arguments: [
        ("sovereign.dev/workload", "nope", "expected a workload Sovereign knows, found \"nope\""),
        ("sovereign.dev/datasets", "ke-health-records, nope", "expected datasets of the fleet, found \"nope\""),
        ("sovereign.dev/datasets", "ke-health-records,,", "expected datasets of the fleet, found \"\""),
        (
            "sovereign.dev/classification", "secret",
            "expected one of public, internal, personal, sensitive, found \"secret\""
        ),
    ])
    func badAnnotationsFailEveryNodeWithTheReason(_ key: String, _ value: String, _ message: String) throws {
        let body = try F.withPod(try F.recorded(F.cacheFilter), annotations: [key: value])
        let result = try F.FilterResult(try extender().filter(body))
        #expect(result.nodeNames == [])
        #expect(result.unresolvable.count == 4)
        #expect(result.unresolvable["node-a1"] == "sovereign: annotation \(key): \(message)")
    }

    @Test func nodesOutsideTheFleetFailOnlyPodsThatAskSomethingOfIt() throws {
        let names = #"{"Pod":{"metadata":{"name":"p","namespace":"ns"#
        let annotated = names + #"","annotations":{"sovereign.dev/datasets":"eac-open-text"}},"spec":{}},"#
        let plain = names + #""},"spec":{}},"#
        let tail = #""Nodes":null,"NodeNames":["node-a1","ghost","node-b1"]}"#
        let free = try F.FilterResult(try extender().filter(Array((plain + tail).utf8)))
        #expect(free.nodeNames == ["node-a1", "ghost", "node-b1"])
        let bound = try F.FilterResult(try extender().filter(Array((annotated + tail).utf8)))
        #expect(bound.nodeNames == ["node-a1", "node-b1"])
        #expect(
            bound.unresolvable == ["ghost": "sovereign: node not seen by Sovereign's node watch (not in the fleet)"]
        )
    }

    @Test func nodesMapByRegionAndZoneWhenTheyCarryNoSiteLabel() throws {
        let snapshot = F.snapshot(fleet)
        let region = "topology.kubernetes.io/region"
        let zone = "topology.kubernetes.io/zone"
        let a100 = snapshot.locate(labels: [region: "ug-central", zone: "ug-central-1a"])
        let t4 = snapshot.locate(labels: [region: "ug-central", zone: "ug-central-1b"])
        guard case .pool(let i) = a100, case .pool(let j) = t4 else {
            Issue.record("expected pools, got \(a100) and \(t4)")
            return
        }
        #expect(snapshot.candidates[i].pool.name == "a100")
        #expect(snapshot.candidates[j].pool.name == "t4")
        #expect(snapshot.candidates[i].site.name == "c")
        #expect(
            snapshot.locate(labels: [region: "ug-central", zone: "ug-central-1c"])
                == .outside("no site of the fleet maps region ug-central zone ug-central-1c")
        )
        #expect(
            snapshot.locate(labels: ["sovereign.dev/site": "c"])
                == .outside("site c has 2 pools and the node has no sovereign.dev/pool label")
        )
        #expect(
            snapshot.locate(labels: ["sovereign.dev/site": "a", "sovereign.dev/pool": "x"])
                == .outside("sovereign.dev/pool=x is not a pool of site a")
        )
        #expect(
            snapshot.locate(labels: ["sovereign.dev/site": "zz"])
                == .outside("sovereign.dev/site=zz is not a site of the fleet")
        )
        #expect(
            snapshot.locate(labels: [:])
                == .outside("the node has no sovereign.dev/site or topology.kubernetes.io/region label")
        )
    }

    @Test func powerShortfallIsAFailedNodeWithWhenItClears() throws {
        let steps = 24
        // Site a has 6 kW of IT power for 6 hours (facility 8.1 kW at PUE 1.35), then its grid back; its
        // 16 H100 draw 8.4 kW at full use.
        let siteA = fleet.sites[0]
        var supply = [Double](repeating: 1_200_000, count: steps)
        for t in 0..<6 { supply[t] = 8_100 }
        let budgets = fleet.sites.map { site in
            site.name == "a"
                ? F.budget(steps, supply: 0, perStep: supply, site: siteA)
                : F.budget(steps, supply: site.power.grid!.capacity.watts, site: site)
        }
        let snapshot = F.snapshot(fleet, budgets: budgets)
        #expect(snapshot.power[0] == .constrained)
        let body = try F.withPod(try F.recorded(F.cacheFilter), limits: ["nvidia.com/gpu": "8"])
        let result = try F.FilterResult(try extender(snapshot).filter(body))
        // 8 H100 at 75 % of 700 W = 4.2 kW fits in 6 kW; 8 L4 at site b fit too.
        #expect(result.failed.isEmpty)
        let big = try F.withPod(try F.recorded(F.cacheFilter), limits: ["nvidia.com/gpu": "16"])
        let refused = try F.FilterResult(try extender(snapshot).filter(big))
        #expect(refused.nodeNames == ["node-b1", "node-b2"])
        #expect(refused.unresolvable.isEmpty)
        #expect(
            refused.failed["node-a1"]
                == "sovereign power: site a can supply 6 kW of IT power and needs 8.4 kW with this pod; "
                + "clears at 2026-11-22T06:00:00Z by the forecast"
        )
    }

    @Test func thermalShortfallSaysItWaitsForCoolerAir() throws {
        let steps = 24
        let budgets = fleet.sites.map { site in
            site.name == "a"
                ? F.budget(steps, supply: 1_200_000, cooling: 3_000, site: site)
                : F.budget(steps, supply: site.power.grid!.capacity.watts, site: site)
        }
        let snapshot = F.snapshot(fleet, budgets: budgets, running: [2_000, 0, 0])
        #expect(snapshot.thermal[0] == .constrained)
        let body = try F.withPod(try F.recorded(F.cacheFilter), limits: ["nvidia.com/gpu": "2"])
        let result = try F.FilterResult(try extender(snapshot).filter(body))
        #expect(
            result.failed["node-a2"]
                == "sovereign thermal: site a can reject the heat of 3 kW of IT load and needs 3.05 kW with this pod; "
                + "does not clear within the 1 d forecast; clears when the site reports a lower ambient temperature"
        )
        // A site already over its limit sheds: even a pod without accelerators waits.
        let shedding = F.snapshot(fleet, budgets: budgets, running: [4_000, 0, 0])
        #expect(shedding.thermal[0] == .shedding)
        let cpu = try F.FilterResult(try extender(shedding).filter(try F.recorded(F.cacheFilter)))
        #expect(cpu.nodeNames == ["node-b1", "node-b2"])
        #expect(cpu.failed.keys.sorted() == ["node-a1", "node-a2"])
    }
}

struct ExtenderPrioritizeTests {
    @Test(arguments: [F.fullPrioritize, F.cachePrioritize])
    func recordedRequestsScoreEveryNodeInOrder(_ file: String) throws {
        let fleet = try F.fleet()
        let labels = try F.recordedNodeLabels()
        let extender = F.extender(F.snapshot(fleet), nodes: labels)
        let reply = try extender.prioritize(try F.recorded(file))
        let list = try JSONSerialization.jsonObject(with: Data(reply)) as! [[String: Any]]
        let hosts = list.map { $0["Host"] as! String }
        let request = try JSONSerialization.jsonObject(with: Data(try F.recorded(file))) as! [String: Any]
        let sent =
            (request["NodeNames"] as? [String])
            ?? ((request["Nodes"] as! [String: Any])["items"] as! [[String: Any]]).map {
                ($0["metadata"] as! [String: Any])["name"] as! String
            }
        #expect(hosts == sent)
        let scores = Dictionary(uniqueKeysWithValues: list.map { ($0["Host"] as! String, $0["Score"] as! Int) })
        #expect(scores.values.allSatisfy { (0...10).contains($0) })
        // kube-scheduler's own filters left only site a's nodes: one pool, the best of those asked about.
        #expect(scores == ["node-a1": 10, "node-a2": 10])
    }

    @Test func poolsRankByThePlannersScorers() throws {
        let fleet = try F.fleet()
        let labels = try F.recordedNodeLabels()
        let extender = F.extender(F.snapshot(fleet), nodes: labels)
        let body =
            #"{"Pod":{"metadata":{"name":"p"}},"Nodes":null,"NodeNames":["node-b1","node-a1","node-b2","node-a2"]}"#
        let list =
            try JSONSerialization.jsonObject(with: Data(try extender.prioritize(Array(body.utf8)))) as! [[String: Any]]
        let scores = list.map { $0["Score"] as! Int }
        // Site a (H100, PUE 1.35) beats site b (L4, PUE 1.6) on energy and throughput; nodes of a pool agree.
        #expect(scores[1] == 10)
        #expect(scores[0] == scores[2])
        #expect(scores[1] == scores[3])
        #expect(scores[0] < scores[1])
    }

    @Test func nodesOutsideTheFleetScoreZero() throws {
        let fleet = try F.fleet()
        let extender = F.extender(F.snapshot(fleet), nodes: ["node-a1": ["sovereign.dev/site": "a"]])
        let body = #"{"Pod":{"metadata":{"name":"p"}},"Nodes":null,"NodeNames":["node-a1","ghost"]}"#
        let reply = String(decoding: try extender.prioritize(Array(body.utf8)), as: UTF8.self)
        #expect(reply == #"[{"Host":"node-a1","Score":10},{"Host":"ghost","Score":0}]"#)
    }
}

struct ExtenderMalformedRequestTests {
    static let cases: [(String, String)] = [
        ("", "request body: byte 0: expected an object, found the end of the body"),
        ("[]", "request body: byte 0: expected an object, found \"[]\""),
        (#"{"Pod":{}"#, "request body: byte 9: expected ',' or '}' in an object, found the end of the body"),
        (
            #"{"Pod":{},"Nodes":null,"NodeNames":null}"#,
            "request body: byte 0: Nodes: expected Nodes (a v1.NodeList) or NodeNames (a list of names), found neither"
        ),
        (#"{"Nodes":null,"NodeNames":[]}"#, "request body: byte 0: Pod: expected a v1.Pod object, found none"),
        (#"{"Pod":{},"NodeNames":[1]}"#, "request body: byte 23: NodeNames[0]: expected a string, found \"1]}\""),
        (
            #"{"Pod":{"metadata":{"name":5}},"NodeNames":[]}"#,
            "request body: byte 27: Pod.metadata.name: expected a string, found \"5}},\"NodeNames\":\""
        ),
        (
            #"{"Pod":{"spec":{"priority":"high"}},"NodeNames":[]}"#,
            "request body: byte 27: Pod.spec.priority: expected an integer priority, found \"\"high\"}},\"NodeNa\""
        ),
        (
            #"{"Pod":{"spec":{"containers":[{"resources":{"limits":{"nvidia.com/gpu":"1.5"}}}]}},"NodeNames":[]}"#,
            "request body: byte 71: Pod.spec.containers[0].resources.limits.nvidia.com/gpu: expected a whole number of accelerators (0...1048576), found \"\"1.5\"}}}]}},\"Nod\""
        ),
        (
            #"{"Pod":{"x":"\q"},"NodeNames":[]}"#,
            "request body: byte 13: Pod.x: expected a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX), found \"\\q\"},\"NodeNames\"\""
        ),
        (
            #"{"Pod":{"x":[1,2,}},"NodeNames":[]}"#,
            "request body: byte 17: Pod.x: expected a number, found \"}},\"NodeNames\":[\""
        ),
        (
            #"{"Pod":{"x":01},"NodeNames":[]}"#,
            "request body: byte 13: Pod: expected ',' or '}' in an object, found \"1},\"NodeNames\":[\""
        ),
        (
            #"{"Pod":{},"Nodes":{"items":[{"metadata":{}}]}}"#,
            "request body: byte 28: Nodes.items[0]: expected a node with metadata.name, found \"{\"metadata\":{}}]\""
        ),
        (#"{"Pod":{},"NodeNames":[]} x"#, "request body: byte 26: expected the end of the JSON document, found \"x\""),
        (
            #"{"Pod":{},"NodeNames":[],"nodeNames":["a"]}"#,
            "request body: byte 37: nodeNames: expected each of Pod, Nodes and NodeNames at most once (nodeNames again), found \"[\"a\"]}\""
        ),
        (
            #"{"Pod":{},"Nodes":{"items":[]},"NodeNames":["a"]}"#,
            "request body: byte 0: NodeNames: expected Nodes (full mode) or NodeNames (nodeCacheCapable), not both, found both"
        ),
        (
            #"{"Pod":{"x":"\ud800"},"NodeNames":[]}"#,
            "request body: byte 13: Pod.x: expected a surrogate \\uD800–\\uDBFF followed by \\uDC00–\\uDFFF (a whole character), found \"\\ud800\"},\"NodeNa\""
        ),
        (
            #"{"Pod":{"metadata":{"name":"a\udc00"}},"NodeNames":[]}"#,
            "request body: byte 29: Pod.metadata.name: expected a surrogate \\uD800–\\uDBFF followed by \\uDC00–\\uDFFF (a whole character), found \"\\udc00\"}},\"NodeN\""
        ),
    ]

    @Test(arguments: cases)
    func malformedBodiesAreErrorsThatSayWhereAndWhat(_ body: String, _ message: String) throws {
        let extender = F.extender(F.snapshot(try F.fleet()))
        #expect(throws: ExtenderRequestError.self) { _ = try extender.filter(Array(body.utf8)) }
        do {
            _ = try extender.prioritize(Array(body.utf8))
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.description == message)
        }
    }

    /// Found by the ExtenderFuzzer: `Nodes` twice (an empty list, then null) and `NodeNames` trapped while
    /// writing the reply; a lone surrogate escape inside a node object was echoed into a reply strict JSON
    /// readers refuse.
    @Test(arguments: ["extender-nodes-then-null-and-names.json", "extender-lone-surrogate-echoed.json"])
    func theFuzzersFindingsAreRefusals(_ file: String) throws {
        let extender = F.extender(F.snapshot(try F.fleet()))
        let body = Array(try Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Fuzz/crashes/\(file)")))
        #expect(throws: ExtenderRequestError.self) { _ = try extender.filter(body) }
        #expect(throws: ExtenderRequestError.self) { _ = try extender.prioritize(body) }
    }

    @Test func surrogatePairsInSkippedFieldsAreKept() throws {
        let extender = F.extender(F.snapshot(try F.fleet()))
        let node = #"{"metadata":{"name":"n1","labels":{"sovereign.dev/site":"a"}},"spec":{"x":"\ud83d\ude80"}}"#
        let body = #"{"Pod":{"metadata":{"name":"p"}},"Nodes":{"items":["# + node + #"]},"NodeNames":null}"#
        let reply = String(decoding: try extender.filter(Array(body.utf8)), as: UTF8.self)
        #expect(reply.contains(node))
        #expect((try? JSONSerialization.jsonObject(with: Data(reply.utf8))) != nil)
    }

    @Test func deepNestingIsRefusedWithoutExhaustingTheStack() throws {
        let extender = F.extender(F.snapshot(try F.fleet()))
        let body = "{\"Pod\":{\"x\":" + String(repeating: "[", count: 200_000)
        #expect(throws: ExtenderRequestError.self) { _ = try extender.filter(Array(body.utf8)) }
    }

    /// Thousands of seeded mutations of the recorded bodies: each is either refused with an error or answered
    /// with JSON that parses and names only nodes that were asked about.
    @Test func mutatedRecordedBodiesNeverCrashAndNeverInventNodes() throws {
        let fleet = try F.fleet()
        let labels = try F.recordedNodeLabels()
        let extender = F.extender(F.snapshot(fleet), nodes: labels)
        var random = SplitMix64(seed: 6)
        var answered = 0
        var refused = 0
        for file in [F.fullFilter, F.cacheFilter] {
            let original = try F.recorded(file)
            for _ in 0..<1_500 {
                var body = original
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let i = Int.random(in: 0..<body.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: body[i] = UInt8.random(in: 0...255, using: &random)
                    case 1: body.remove(at: i)
                    default: body.insert(Array("{}[]\",:\\0e-".utf8).randomElement(using: &random)!, at: i)
                    }
                }
                do {
                    let reply = try extender.filter(body)
                    let result = try F.FilterResult(reply)
                    // What was answered is a JSON document Foundation also reads, naming only nodes it asked about.
                    let request = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
                    var asked = Set<String>()
                    for (key, value) in request {
                        if key.lowercased() == "nodenames" { asked.formUnion(value as? [String] ?? []) }
                        if key.lowercased() == "nodes",
                            let items = (value as? [String: Any])?["items"] as? [[String: Any]]
                        {
                            asked.formUnion(items.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String })
                        }
                    }
                    let named = (result.nodeNames ?? []) + Array(result.failed.keys) + Array(result.unresolvable.keys)
                    #expect(Set(named).isSubset(of: asked))
                    answered += 1
                } catch is ExtenderRequestError {
                    refused += 1
                }
            }
        }
        #expect(answered > 100)
        #expect(refused > 100)
    }
}

struct JSONStringTests {
    @Test func escapesAndSurrogatePairsDecode() throws {
        let fleet = try F.fleet()
        let extender = F.extender(
            F.snapshot(fleet),
            nodes: ["n/1": ["sovereign.dev/site": "a"], "café": ["sovereign.dev/site": "a"]]
        )
        let body = #"{"Pod":{"metadata":{"name":"p\u00e9\ud83d\ude80\n\"q\""}},"NodeNames":["n\/1","caf\u00e9"]}"#
        let reply = String(decoding: try extender.filter(Array(body.utf8)), as: UTF8.self)
        #expect(reply.contains(#""NodeNames":["n/1","café"]"#))
    }
}
