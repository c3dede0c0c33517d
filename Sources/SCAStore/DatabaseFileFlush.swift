#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the background checkpoint does to the SQLite database file after a pass that
/// copied pages into it: flush them, then let the kernel forget the append-only pages that
/// have fallen more than `cachedTailBytes` behind the file's end.
///
/// Decision records and audit events are written once and seldom read again, and they
/// make the file grow by about 2 KB a decision, so a page cache that keeps them only grows,
/// and every page it grows by is one the kernel must take from its free memory. On virtual
/// machines that hand free memory back to their host (free page reporting, as on the
/// machines this engine is measured on) such a page is dearer by an order of magnitude the
/// first time it is written: a new 300 MB file was written here at 381-421 MB/s, a cached
/// one overwritten at 3.3 GB/s, and copying into new pages took two thirds of the
/// background checkpoint's time. Pages released behind the copy are recycled instead.
///
/// Only the leaves of rowid tables are released: `decisions` and `audit_events` (and the
/// small rowid tables of the gate and the payments), whose rows arrive in rowid order, so
/// a leaf left behind is seldom touched again (an SCA result reported later updates its
/// decision's row, and a released leaf is then read back once). Index pages stay: they
/// hold the `WITHOUT ROWID` tables (counters, payers, idempotency keys), whose rows land
/// at random places, and a released page of those would be read back from disk by the
/// writer (keyed decisions lost 3-7 % when every page was released). A page is judged by
/// its B-tree header's type byte (13: a table leaf), read from the page cache just before;
/// a wrong guess (a page changing under the read, a free page's old bytes) costs at most
/// one read from disk. Only clean pages are released (the flush has just written them; the
/// kernel never drops a dirty page), so nothing is lost, and each part of the file is
/// looked at once, when it falls `cachedTailBytes` behind the end.
///
/// With `cachedTailBytes` nil (`tuning.release_page_cache` off) it only flushes.
struct DatabaseFileFlush: Sendable {
    let descriptor: Int32
    let cachedTailBytes: Int?

    /// SQLite's B-tree page type of a table leaf (the first byte of its header).
    static let tableLeaf: UInt8 = 13
    /// Pages read at a time to find the leaves.
    static let pagesPerRead = 64

    /// Where releasing starts: the file's end when the store opened (what was there before
    /// stays as the kernel has it).
    func startingPoint() -> Int64 { Int64(lseek(descriptor, 0, SEEK_END)) }

    /// Flushes the file and releases the table leaves between `releasedUpTo` and
    /// `cachedTailBytes` before its end; returns where it got to. Blocks: call it off the
    /// event loops.
    func run(releasedUpTo: Int64) -> Int64 {
        _ = fsync(descriptor)
        guard let cachedTailBytes, let pageSize = pageSize() else { return releasedUpTo }
        let size = Int64(lseek(descriptor, 0, SEEK_END))
        let end = (size - Int64(cachedTailBytes)) / pageSize * pageSize
        // The first page starts with the file's header, not a B-tree page's.
        var offset = max(releasedUpTo / pageSize * pageSize, pageSize)
        guard end > offset else { return max(releasedUpTo, end) }
        var buffer = [UInt8](repeating: 0, count: Self.pagesPerRead * Int(pageSize))
        var run: (start: Int64, end: Int64)?
        while offset < end {
            let length = Int(min(Int64(buffer.count), end - offset))
            let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, length, off_t(offset)) }
            guard read > 0 else { break }
            var page = 0
            while page + Int(pageSize) <= read {
                let start = offset + Int64(page)
                if buffer[page] == Self.tableLeaf {
                    run = (run?.start ?? start, start + pageSize)
                } else if let leaves = run {
                    release(leaves)
                    run = nil
                }
                page += Int(pageSize)
            }
            offset += Int64(page)
            if page == 0 { break }  // less than a page left (the file shrank meanwhile)
        }
        if let leaves = run { release(leaves) }
        return offset
    }

    private func release(_ range: (start: Int64, end: Int64)) {
        #if os(Linux)
            _ = posix_fadvise(descriptor, off_t(range.start), off_t(range.end - range.start), POSIX_FADV_DONTNEED)
        #endif
    }

    /// The database's page size, from its header (bytes 16-17, big-endian; 1 means 65,536).
    private func pageSize() -> Int64? {
        var bytes: (UInt8, UInt8) = (0, 0)
        guard withUnsafeMutableBytes(of: &bytes, { pread(descriptor, $0.baseAddress, 2, 16) }) == 2 else { return nil }
        let value = Int64(bytes.0) << 8 | Int64(bytes.1)
        if value == 1 { return 65_536 }
        guard value >= 512, value & (value - 1) == 0 else { return nil }
        return value
    }
}
