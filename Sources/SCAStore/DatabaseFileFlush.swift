#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the background checkpoint does to the SQLite database file after a pass that
/// copied pages into it: flush them, then let the kernel forget the pages appended more
/// than `cachedTailBytes` ago.
///
/// Decision records and audit events are written once and seldom read again, and the file
/// grows by about 2 KB a decision, so a page cache that keeps all of it only grows, and
/// every page it grows by is one the kernel must take from its free memory. On virtual
/// machines that hand free memory back to their host (free page reporting, as on the
/// machines this engine is measured on) such a page is dearer by an order of magnitude the
/// first time it is written: a new 300 MB file was written here at 381-421 MB/s, a cached
/// one overwritten at 3.3 GB/s, and copying into new pages took two thirds of the
/// background checkpoint's time. Pages released behind the copy are recycled instead.
///
/// Only clean pages are released (the flush has just written them; the kernel never
/// drops a dirty page), so nothing is lost. Each part of the file is released once, when
/// it falls `cachedTailBytes` behind the end: a page still in use (the rightmost pages of
/// a growing B-tree, a busy payer's counters) is read back from disk once and then stays,
/// and the connections keep their hot pages in SQLite's own caches anyway.
struct DatabaseFileFlush: Sendable {
    let descriptor: Int32
    let cachedTailBytes: Int

    /// Where releasing starts: the file's end when the store opened (what was there before
    /// stays as the kernel has it).
    func startingPoint() -> Int64 { Int64(lseek(descriptor, 0, SEEK_END)) }

    /// Flushes the file and releases what lies between `releasedUpTo` and `cachedTailBytes`
    /// before its end; returns where releasing got to. Blocks: call it off the event loops.
    func run(releasedUpTo: Int64) -> Int64 {
        _ = fsync(descriptor)
        let end = Int64(lseek(descriptor, 0, SEEK_END)) - Int64(cachedTailBytes)
        guard end > releasedUpTo else { return releasedUpTo }
        #if os(Linux)
        _ = posix_fadvise(descriptor, off_t(releasedUpTo), off_t(end - releasedUpTo), POSIX_FADV_DONTNEED)
        #endif
        return end
    }
}
