import SovereignBase
import Testing

@testable import SovereignCheckpoint

@Suite struct ChunkTests {
    @Test func layoutCutsEachFileAndGivesAnEmptyFileOneChunk() throws {
        let digest = String(repeating: "0", count: 64)
        let manifest = try CheckpointManifest(files: [
            .init(path: "a", size: 10, sha256: digest),
            .init(path: "b", size: 0, sha256: digest),
            .init(path: "c", size: 4, sha256: digest),
        ])
        let layout = ChunkLayout(manifest, chunkSize: 4)
        #expect(layout.chunkCount == 5)
        let chunks = try (0..<5).map { try layout.chunk($0) }
        #expect(chunks.map(\.file) == [0, 0, 0, 1, 2])
        #expect(chunks.map(\.offset) == [0, 4, 8, 0, 0])
        #expect(chunks.map(\.length) == [4, 4, 2, 0, 4])
        #expect(chunks.map(\.isLast) == [false, false, false, false, true])
        #expect(throws: CheckpointError.self) { try layout.chunk(5) }
        #expect(throws: CheckpointError.self) { try layout.chunk(-1) }
        #expect(layout.chunks(ofFile: 0) == 0..<3)
        #expect(layout.chunks(ofFile: 2) == 4..<5)
    }

    @Test func chunkSetMatchesASetUnderRandomInsertsAndRemovals() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<200 {
            var set = ChunkSet()
            var reference = Set<Int>()
            for _ in 0..<40 {
                if generator.nextInt(below: 5) == 0 {
                    let low = generator.nextInt(below: 30)
                    let range = low..<(low + generator.nextInt(below: 6))
                    set.remove(range)
                    reference.subtract(range)
                } else {
                    let index = generator.nextInt(below: 30)
                    set.insert(index)
                    reference.insert(index)
                }
            }
            #expect((0..<40).filter(set.contains) == (0..<40).filter(reference.contains))
            #expect(set.count == reference.count)
            #expect(set.firstMissing(below: 40) == (0..<40).first { !reference.contains($0) })
            for low in 0..<32 {
                let range = low..<(low + generator.nextInt(below: 4))
                #expect(set.overlaps(range) == range.contains(where: reference.contains), "\(range) in \(set.ranges)")
            }
            // Sorted, disjoint and never touching.
            #expect(zip(set.ranges, set.ranges.dropFirst()).allSatisfy { $0.upperBound < $1.lowerBound })
        }
    }

    @Test func inOrderReceiptIsOneRange() {
        var set = ChunkSet()
        for index in 0..<10_000 { set.insert(index) }
        #expect(set.ranges == [0..<10_000])
        #expect(set.firstMissing(below: 10_000) == nil)
    }
}
