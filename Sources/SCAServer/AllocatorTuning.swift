#if canImport(Glibc)
    import Glibc
#endif

/// Keeps glibc's allocator from handing memory back to the kernel after every batch.
///
/// The group committer allocates and frees a batch's worth of rows, statements and answers
/// hundreds of times a second. With glibc's defaults, freeing them trims the thread's heap
/// (`madvise`) and the next batch faults the pages back in, and the kernel pays for it with
/// TLB shootdowns on every core: 12 % of the writer's CPU under load (BENCHMARKS.md, issue
/// 3). A server keeps up to `trimThreshold` of free heap instead, and serves allocations up
/// to `mmapThreshold` from the heap rather than from fresh mappings.
public enum AllocatorTuning {
    public static let trimThreshold: Int32 = 64 << 20
    public static let mmapThreshold: Int32 = 8 << 20

    /// Applies the thresholds (glibc only; elsewhere nothing to do). Returns whether they were set.
    @discardableResult
    public static func apply() -> Bool {
        #if canImport(Glibc)
            // `mallopt` and its parameters live in <malloc.h>, which the Glibc module leaves out;
            // the parameter numbers are glibc's ABI (M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3).
            typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
            let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
            return mallopt(-1, trimThreshold) == 1 && mallopt(-3, mmapThreshold) == 1
        #else
            return false
        #endif
    }
}
