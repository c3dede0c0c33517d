/// The SQLite write path's tunings. Each is on by default for its measured gain
/// (docs/STORAGE.md gives the figures) and each can be turned off by its setting, for an
/// operator who would rather run SQLite exactly as it ships. Neither changes what is
/// durable: see `GatheredLogVFS` and `DatabaseFileFlush`.
public struct StorageTunings: Sendable, Equatable {
    /// `tuning.gathered_log_writes`: the writer's log written in one call a commit
    /// (`GatheredLogVFS`). Needs `synchronous=FULL`, which the store checks at open.
    public var gatheredLogWrites: Bool
    /// `tuning.release_page_cache`: written table leaves released from the page
    /// cache behind the background checkpoint (`DatabaseFileFlush`).
    public var releasePageCache: Bool

    public init(gatheredLogWrites: Bool = true, releasePageCache: Bool = true) {
        self.gatheredLogWrites = gatheredLogWrites
        self.releasePageCache = releasePageCache
    }

    /// Every tuning off: SQLite as it ships.
    public static let off = StorageTunings(gatheredLogWrites: false, releasePageCache: false)
}
