// sqlite-nio's vendored SQLite (pinned exactly in Package.swift: an internal target).
import VaporCSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// SQLite's default (unix) file system with one change, for the writer's connection: what
/// it writes to the write-ahead log is gathered in memory and handed to the kernel in one
/// write when SQLite syncs the log (at each commit, under `synchronous=FULL`), instead of as
/// it comes: two writes a page (the frame's 24-byte header, then the page).
///
/// A commit of the group committer writes about twenty pages, so it made some forty
/// `pwrite` calls, each with its own trip into the kernel: on this machine's VMs 55-143 µs
/// of the writer's serial cycle a commit, against 24-46 µs for the same bytes in one call
/// (`Benchmarks/http/log_writes.c`).
///
/// Nothing changes in what reaches the disk, or when: SQLite syncs the log before a commit
/// counts (before it marks the commit in the log's index, where other connections look
/// for it), and the gathered bytes are written just before that sync. They are written
/// earlier whenever the log is read, resized, synced, controlled or closed, or a write does
/// not continue the gathered run (SQLite rewrites a frame of the open transaction in
/// place), or the run would pass `capacity`; so every call sees the file as SQLite left
/// it. Writes that fail are reported by the call that wrote them, which is the sync at the
/// latest, so the commit fails as it would have. Files other than logs are the unix VFS's
/// own, untouched.
enum GatheredLogVFS {
    /// The name to open a connection with (`sqlite3_open_v2`'s last argument), once the
    /// VFS is registered; nil if SQLite has no default VFS to build on (then the writer
    /// opens with the default).
    static let name: String? = register()

    /// The most bytes gathered before they are written anyway: the unix VFS writes at
    /// most 128 KiB less one byte in one call (it masks the length with `0x1ffff`). A
    /// commit of the group committer writes about 80 KB.
    static let capacity = 0x1_F000

    /// Where ours keeps the pointer to its gathered bytes: after the `sqlite3_file` header
    /// (its methods, one pointer); and where the wrapped unix file starts, after that
    /// pointer. Literals, so that the methods read them as constants (`register` checks
    /// them against the layouts).
    private static let runOffset = 8
    private static let headerBytes = 16
    /// The unix file system, which does the work.
    nonisolated(unsafe) private static let base: UnsafeMutablePointer<sqlite3_vfs>? = sqlite_nio_sqlite3_vfs_find(nil)
    nonisolated(unsafe) private static let methods: UnsafeMutablePointer<sqlite3_io_methods> = {
        let pointer = UnsafeMutablePointer<sqlite3_io_methods>.allocate(capacity: 1)
        pointer.initialize(to: logMethods)
        return pointer
    }()

    private static func register() -> String? {
        guard let unix = base else { return nil }
        precondition(
            runOffset == MemoryLayout<sqlite3_file>.size
                && headerBytes == runOffset + MemoryLayout<UnsafeMutableRawPointer>.size,
            "the gathered log's layout does not match sqlite3_file"
        )
        let vfs = UnsafeMutablePointer<sqlite3_vfs>.allocate(capacity: 1)
        vfs.initialize(to: unix.pointee)
        let name = "sca-gathered-log"
        vfs.pointee.zName = UnsafePointer(strdup(name))
        vfs.pointee.pNext = nil
        vfs.pointee.szOsFile = unix.pointee.szOsFile + Int32(headerBytes)
        vfs.pointee.xOpen = open
        guard sqlite_nio_sqlite3_vfs_register(vfs, 0) == SQLITE_OK else { return nil }
        return name
    }

    /// How many writes the log of the connection `handle` has handed to the unix file
    /// system; nil when its log is not one of ours (not open, or not gathered). On the
    /// connection's thread.
    static func logWrites(handle: OpaquePointer) -> Int? {
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite_nio_sqlite3_file_control(handle, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) == SQLITE_OK,
            let file, file.pointee.pMethods == UnsafePointer(methods)
        else { return nil }
        return run(file).writes
    }

    // MARK: The file

    /// The run of bytes gathered for one log: `count` bytes that belong at `start`.
    private final class Run {
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: GatheredLogVFS.capacity, alignment: 16)
        var start: Int64 = 0
        var count = 0
        /// Writes handed to the unix file system so far.
        var writes = 0

        deinit { bytes.deallocate() }
    }

    private static func inner(_ file: UnsafeMutablePointer<sqlite3_file>) -> UnsafeMutablePointer<sqlite3_file> {
        UnsafeMutableRawPointer(file).advanced(by: headerBytes).assumingMemoryBound(to: sqlite3_file.self)
    }

    private static func unmanagedRun(_ file: UnsafeMutablePointer<sqlite3_file>) -> Unmanaged<Run> {
        .fromOpaque(UnsafeMutableRawPointer(file).load(fromByteOffset: runOffset, as: UnsafeMutableRawPointer.self))
    }

    private static func run(_ file: UnsafeMutablePointer<sqlite3_file>) -> Run {
        unmanagedRun(file).takeUnretainedValue()
    }

    private static func innerMethods(_ file: UnsafeMutablePointer<sqlite3_file>) -> sqlite3_io_methods {
        inner(file).pointee.pMethods.pointee
    }

    /// Writes what is gathered, then, if that succeeded, calls the unix method `call`
    /// gives (with the wrapped file and its methods): what the methods that read, size,
    /// sync or control the log do.
    private static func flushed(
        _ file: UnsafeMutablePointer<sqlite3_file>?,
        then call: (UnsafeMutablePointer<sqlite3_file>, sqlite3_io_methods) -> Int32
    ) -> Int32 {
        let file = file!
        let status = flush(file)
        guard status == SQLITE_OK else { return status }
        return call(inner(file), innerMethods(file))
    }

    /// Writes what is gathered; SQLite's status code.
    private static func flush(_ file: UnsafeMutablePointer<sqlite3_file>) -> Int32 {
        let run = run(file)
        guard run.count > 0 else { return SQLITE_OK }
        let count = run.count
        run.count = 0
        run.writes += 1
        return innerMethods(file).xWrite(inner(file), run.bytes, Int32(count), run.start)
    }

    private static let open:
        @convention(c) (
            UnsafeMutablePointer<sqlite3_vfs>?, sqlite3_filename?, UnsafeMutablePointer<sqlite3_file>?, Int32,
            UnsafeMutablePointer<Int32>?
        ) -> Int32 = { _, name, file, flags, outFlags in
            let unix = GatheredLogVFS.base!  // (registered only when there is one)
            guard let file, flags & SQLITE_OPEN_WAL != 0 else {
                // Not a log: the unix VFS's file in the whole space, with its own methods.
                return unix.pointee.xOpen(unix, name, file, flags, outFlags)
            }
            let status = unix.pointee.xOpen(unix, name, GatheredLogVFS.inner(file), flags, outFlags)
            guard status == SQLITE_OK else {
                file.pointee.pMethods = nil  // (SQLite closes nothing that failed to open)
                return status
            }
            UnsafeMutableRawPointer(file).storeBytes(
                of: Unmanaged.passRetained(Run()).toOpaque(), toByteOffset: GatheredLogVFS.runOffset, as: UnsafeMutableRawPointer.self
            )
            file.pointee.pMethods = UnsafePointer(GatheredLogVFS.methods)
            return SQLITE_OK
        }

    /// Each method writes what is gathered first (but `xWrite`, which adds to it, and the
    /// locks and shared memory, which are not the file's bytes), then is the unix one.
    private static let logMethods = sqlite3_io_methods(
        iVersion: 3,
        xClose: { file in
            let file = file!
            let written = flush(file)
            let closed = innerMethods(file).xClose(inner(file))
            unmanagedRun(file).release()
            file.pointee.pMethods = nil
            return written != SQLITE_OK ? written : closed
        },
        xRead: { file, buffer, amount, offset in flushed(file) { $1.xRead($0, buffer, amount, offset) } },
        xWrite: { file, buffer, amount, offset in
            let file = file!
            let run = run(file)
            let length = Int(amount)
            if run.count > 0, offset != run.start + Int64(run.count) || run.count + length > capacity {
                let status = flush(file)
                guard status == SQLITE_OK else { return status }
            }
            guard length <= capacity, let buffer else {
                run.writes += 1
                return innerMethods(file).xWrite(inner(file), buffer, amount, offset)
            }
            if run.count == 0 { run.start = offset }
            (run.bytes + run.count).copyMemory(from: buffer, byteCount: length)
            run.count += length
            return SQLITE_OK
        },
        xTruncate: { file, size in flushed(file) { $1.xTruncate($0, size) } },
        xSync: { file, flags in flushed(file) { $1.xSync($0, flags) } },
        xFileSize: { file, size in flushed(file) { $1.xFileSize($0, size) } },
        xLock: { file, level in innerMethods(file!).xLock(inner(file!), level) },
        xUnlock: { file, level in innerMethods(file!).xUnlock(inner(file!), level) },
        xCheckReservedLock: { file, out in innerMethods(file!).xCheckReservedLock(inner(file!), out) },
        xFileControl: { file, operation, argument in flushed(file) { $1.xFileControl($0, operation, argument) } },
        xSectorSize: { file in innerMethods(file!).xSectorSize(inner(file!)) },
        xDeviceCharacteristics: { file in innerMethods(file!).xDeviceCharacteristics(inner(file!)) },
        xShmMap: { file, page, size, extend, pointer in innerMethods(file!).xShmMap(inner(file!), page, size, extend, pointer) },
        xShmLock: { file, offset, n, flags in innerMethods(file!).xShmLock(inner(file!), offset, n, flags) },
        xShmBarrier: { file in innerMethods(file!).xShmBarrier(inner(file!)) },
        xShmUnmap: { file, delete in innerMethods(file!).xShmUnmap(inner(file!), delete) },
        xFetch: { file, offset, amount, pointer in flushed(file) { $1.xFetch($0, offset, amount, pointer) } },
        xUnfetch: { file, offset, pointer in innerMethods(file!).xUnfetch(inner(file!), offset, pointer) }
    )
}
