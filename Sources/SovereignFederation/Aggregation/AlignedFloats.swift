#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A large float32 buffer for accumulators: 64-byte aligned, 2 MiB aligned and advised for transparent huge
/// pages when big (on Linux), so that the first pass over it takes a few hundred page faults instead of
/// hundreds of thousands.
final class AlignedFloats: @unchecked Sendable {
    // Safety: owned by one RoundAggregator at a time; RoundAggregator copies it before writing when it is
    // shared (copy on write), so no two owners ever write it.
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// A zeroed buffer of `count` floats.
    init(zeros count: Int) {
        let bytes = max(count, 1) * 4
        let hugePage = 2 * 1024 * 1024
        let alignment = bytes >= 2 * hugePage ? hugePage : 64
        var raw: UnsafeMutableRawPointer?
        if posix_memalign(&raw, alignment, bytes) != 0 || raw == nil {
            raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        }
        #if os(Linux)
        if alignment == hugePage { _ = madvise(raw, bytes, MADV_HUGEPAGE) }
        #endif
        memset(raw!, 0, bytes)
        pointer = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    /// A copy of this buffer.
    func copy() -> AlignedFloats {
        let other = AlignedFloats(zeros: count)
        other.pointer.update(from: pointer, count: count)
        return other
    }

    deinit { free(pointer) }
}
