import SovereignFederation
import Testing

struct ModelWeightsTests {
    @Test func compatibilityComparesNamesAndShapesInOrder() {
        let a = ModelWeights([.init(zeros: "w", shape: [2, 3]), .init(zeros: "b", shape: [3])])
        let reordered = ModelWeights([.init(zeros: "b", shape: [3]), .init(zeros: "w", shape: [2, 3])])
        let reshaped = ModelWeights([.init(zeros: "w", shape: [3, 2]), .init(zeros: "b", shape: [3])])
        #expect(a.isCompatible(with: a))
        #expect(!a.isCompatible(with: reordered))
        #expect(!a.isCompatible(with: reshaped))
        #expect(a.parameterCount == 9)
        #expect(a["b"]?.shape == [3])
        #expect(a["c"] == nil)
    }
}
