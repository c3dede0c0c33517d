import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit

/// The two SQL connections of one engine node: a writer, used only by the group committer
/// (so a transaction never shares its connection), and a reader for lookups, pages and
/// health checks. Both speak SQLKit; the few dialect differences are named here.
public final class StoreDatabase: Sendable {
    public enum Backend: String, Sendable { case sqlite, postgres }

    public let backend: Backend
    public let location: StorageLocation
    let writer: any SQLDatabase
    let reader: any SQLDatabase
    /// The writer's own thread: its connection's futures complete here, and the group
    /// committer runs here too, so a transaction's statements follow each other without
    /// queueing behind request handlers on the shared executor.
    let writerLoop: any EventLoop

    /// Whether the caller runs on the single writer's thread (where CPU-heavy checks must
    /// not run: they would hold every other write back).
    public var isOnWriterThread: Bool { writerLoop.inEventLoop }
    /// The writer as the group committer uses it.
    let transaction: TransactionConnection
    private let closeAll: @Sendable () async throws -> Void

    private init(
        backend: Backend, location: StorageLocation, writer: any SQLDatabase, reader: any SQLDatabase,
        writerLoop: any EventLoop, close: @escaping @Sendable () async throws -> Void
    ) {
        self.backend = backend
        self.location = location
        self.writer = writer
        self.transaction = TransactionConnection(sql: writer, direct: writer as? DirectSQLite)
        self.reader = reader
        self.writerLoop = writerLoop
        self.closeAll = close
    }

    /// How often the background connection copies SQLite's WAL into the database file.
    /// Often enough that the commit which restarts the log (see `walRestartFrames`) finds
    /// little left to copy: that commit holds up every decision behind it, and copying a
    /// 200-millisecond tail, a page at a time, took it 20 ms and more under load.
    static let checkpointInterval: Duration = .milliseconds(40)

    /// SQLite starts its write-ahead log again from the beginning only when a checkpoint has
    /// copied all of it into the database before the writer's next transaction. Under a
    /// steady load the background checkpoint never catches up with the writer, so the log
    /// would grow for as long as the load lasts (over half a gigabyte in 15 seconds at 6,700
    /// decisions a second) and every commit would extend the file. Past this many frames
    /// (pages) in the log, a commit also checkpoints what the background has not copied yet
    /// (SQLite's `wal_autocheckpoint`, on the writer), and the next transaction writes the
    /// log from its start, over the same blocks.
    public static let walRestartFrames = 4096

    /// The newest part of the SQLite database file kept in the page cache after each
    /// background checkpoint (see `DatabaseFileFlush`): about 200 ms of writes at full load.
    public static let cachedTailBytes = 8 << 20

    /// SQLite's default page size, which the store keeps.
    static let pageBytes = 4096

    /// A WAL frame: one page and the frame's 24-byte header.
    static let walFrameBytes = pageBytes + 24

    /// The bytes a restarted log is cut back to: twice what `frames` frames take.
    public static func walFileLimit(restartingAfter frames: Int) -> Int { frames * 2 * walFrameBytes }

    /// Opens the database, creating an SQLite file (and its directory) on first start.
    /// `walRestartFrames` and `cachedTailBytes` (see `DatabaseFileFlush`) are for tests that
    /// need the log restarted, or pages released, sooner.
    public static func open(
        _ location: StorageLocation, logger: Logger, tunings: StorageTunings = StorageTunings(),
        walRestartFrames: Int = StoreDatabase.walRestartFrames, cachedTailBytes: Int = StoreDatabase.cachedTailBytes
    ) async throws -> StoreDatabase {
        try await open(
            location, logger: logger, tunings: tunings, walRestartFrames: walRestartFrames, cachedTailBytes: cachedTailBytes,
            synchronous: "FULL"
        )
    }

    /// `synchronous` is SQLite's setting for the writer: only tests ask for another, to
    /// see the gathered log refused without `FULL`.
    static func open(
        _ location: StorageLocation, logger: Logger, tunings: StorageTunings, walRestartFrames: Int, cachedTailBytes: Int,
        synchronous: String
    ) async throws -> StoreDatabase {
        let writerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let writerLoop = writerGroup.next()
        let shutdownWriterThreads: @Sendable () async throws -> Void = {
            try await writerGroup.shutdownGracefully()
        }
        do {
            return try await open(
                location, logger: logger, tunings: tunings, walRestartFrames: walRestartFrames, cachedTailBytes: cachedTailBytes,
                synchronous: synchronous, writerLoop: writerLoop, shutdown: shutdownWriterThreads
            )
        } catch {
            try? await shutdownWriterThreads()
            throw error
        }
    }

    private static func open(
        _ location: StorageLocation, logger: Logger, tunings: StorageTunings, walRestartFrames: Int, cachedTailBytes: Int,
        synchronous: String, writerLoop: any EventLoop, shutdown: @escaping @Sendable () async throws -> Void
    ) async throws -> StoreDatabase {
        switch location {
        case .sqlite(let path):
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw StorageError.unavailable("cannot create the data directory \(directory): \(error)")
                }
            }
            let writer = try await DirectSQLite.open(path: path, gatheredLog: tunings.gatheredLogWrites, on: writerLoop, logger: logger)
            let reader: SQLiteConnection
            let checkpointer: SQLiteConnection
            do {
                reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                checkpointer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            } catch {
                try? await writer.close()
                throw StorageError.unavailable("cannot open \(path): \(error)")
            }
            // WAL lets the reader read while the writer commits; synchronous=FULL makes
            // every commit durable (the WAL is synced before COMMIT returns). A third
            // connection copies the WAL into the database in the background, so commits
            // seldom wait for a checkpoint; the writer checkpoints only the tail left when
            // the log reaches `walRestartFrames`, so that the log restarts (see there).
            let checkpointSQL = checkpointer.sql(queryLogLevel: nil)
            let databaseFile = FileHandle(forReadingAtPath: path)
            let flush = databaseFile.map {
                DatabaseFileFlush(descriptor: $0.fileDescriptor, cachedTailBytes: tunings.releasePageCache ? cachedTailBytes : nil)
            }
            let checkpoints = Task {
                var copied = 0
                var releasedUpTo = flush?.startingPoint() ?? 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: checkpointInterval)
                    let row = try? await checkpointSQL.raw("PRAGMA wal_checkpoint(PASSIVE)").first()
                    let nowCopied = (try? row?.decode(column: "checkpointed", as: Int.self)) ?? 0
                    // SQLite syncs the database file only when a checkpoint reaches the end
                    // of the log, which under load is the writer's, at the restart: it
                    // would flush there every page copied since the last restart. Flushed
                    // here after each copy instead, they leave the writer a short flush.
                    // (A flush to spare SQLite work, not one it relies on.)
                    if let flush, nowCopied > 0, nowCopied != copied {
                        let from = releasedUpTo
                        if let reached = try? await NIOThreadPool.singleton.runIfActive({ flush.run(releasedUpTo: from) }) {
                            releasedUpTo = reached
                        }
                    }
                    copied = nowCopied
                }
            }
            let database = StoreDatabase(
                backend: .sqlite, location: location, writer: writer,
                reader: reader.sql(queryLogLevel: nil), writerLoop: writerLoop,
                close: {
                    checkpoints.cancel()
                    _ = await checkpoints.result
                    try? databaseFile?.close()
                    try await checkpointer.close()
                    try await reader.close()
                    try await writer.close()
                    try await shutdown()
                }
            )
            let pragmas = [
                "PRAGMA journal_mode=WAL", "PRAGMA synchronous=\(synchronous)", "PRAGMA busy_timeout=5000",
                "PRAGMA wal_autocheckpoint=\(walRestartFrames)",
                "PRAGMA journal_size_limit=\(walFileLimit(restartingAfter: walRestartFrames))",
            ]
            do {
                for pragma in pragmas {
                    try await database.writer.raw(SQLQueryString(pragma)).run()
                }
                try await database.reader.raw("PRAGMA busy_timeout=5000").run()
                try await checkpointSQL.raw("PRAGMA busy_timeout=5000").run()
            } catch {
                await database.close()
                throw StorageError.unavailable("cannot configure \(path): \(error)")
            }
            do {
                try await checkGatheredLogIsSafe(database, writer: writer)
            } catch {
                await database.close()
                throw error
            }
            return database
        case .postgres(let url):
            let configuration: SQLPostgresConfiguration
            do {
                configuration = try SQLPostgresConfiguration(url: url)
            } catch {
                throw StorageError.invalidLocation("cannot read the PostgreSQL URL \(location)")
            }
            func connect(_ id: Int, on loop: any EventLoop) async throws -> PostgresConnection {
                do {
                    return try await PostgresConnection.connect(
                        on: loop, configuration: configuration.coreConfiguration, id: id, logger: logger
                    )
                } catch {
                    throw StorageError.unavailable("cannot connect to \(location): \(String(reflecting: error))")
                }
            }
            let writer = try await connect(1, on: writerLoop)
            let reader: PostgresConnection
            do {
                reader = try await connect(2, on: PostgresConnection.defaultEventLoopGroup.any())
            } catch {
                try? await writer.close()
                throw error
            }
            return StoreDatabase(
                backend: .postgres, location: location, writer: writer.sql(queryLogLevel: nil),
                reader: reader.sql(queryLogLevel: nil), writerLoop: writerLoop,
                close: {
                    // Each connection is closed even when the other's close fails (a
                    // connection the server has already dropped).
                    try? await reader.close()
                    try? await writer.close()
                    try await shutdown()
                }
            )
        }
    }

    /// The gathered log (see `GatheredLogVFS`) keeps the log's bytes in memory until SQLite
    /// syncs the log, which it does at every commit only under `synchronous=FULL`: under
    /// any other setting a commit could return with its frames still in memory. So the
    /// writer's connection is asked what it really runs with, and a gathered log under
    /// anything but `FULL` in WAL mode is refused.
    private static func checkGatheredLogIsSafe(_ database: StoreDatabase, writer: DirectSQLite) async throws {
        guard writer.gathersLog else { return }
        let synchronous = try await database.writer.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self)
        let journal = try await database.writer.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
        guard synchronous == sqliteSynchronousFull, journal?.lowercased() == "wal" else {
            throw StorageError.unavailable(
                "the gathered log writes need the writer in WAL mode with synchronous=FULL, and it runs with "
                    + "journal_mode=\(journal ?? "?"), synchronous=\(synchronous.map(String.init) ?? "?"); "
                    + "set tuning.gathered_log_writes to false to run without them"
            )
        }
    }

    /// `PRAGMA synchronous`'s answer for FULL.
    static let sqliteSynchronousFull = 2

    private let closed = NIOLockedValueBox(false)

    /// Closes both connections and the writer's threads; later calls do nothing.
    public func close() async {
        let first = closed.withLockedValue { wasClosed in
            defer { wasClosed = true }
            return !wasClosed
        }
        if first { try? await closeAll() }
    }

    /// Starts a write transaction. SQLite takes its write lock at once, so two transactions
    /// never both read before either writes; PostgreSQL locks rows as they are read.
    var beginWrite: SQLQueryString { backend == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN" }

    /// Appended to a SELECT whose rows the transaction will change.
    var forUpdate: SQLQueryString { backend == .postgres ? " FOR UPDATE" : "" }

    /// `SELECT 1` on the reader: the database answers.
    public func ping() async -> Bool {
        do {
            _ = try await reader.raw("SELECT 1 AS one").all()
            return true
        } catch {
            return false
        }
    }
}

extension StoreDatabase {
    /// Runs one SQL statement on the writer (administration and tests, never request data).
    public func execute(_ sql: String) async throws {
        try await writer.raw(SQLQueryString(sql)).run()
    }

    /// The first column of the first row of a query that returns an integer.
    public func integer(_ sql: String) async throws -> Int64? {
        guard let row = try await reader.raw(SQLQueryString(sql)).all().first, let column = row.allColumns.first else {
            return nil
        }
        return try row.decode(column: column, as: Int64?.self)
    }
}

/// The writer as the group committer uses it: the statements of one transaction, run in
/// order on the writer's thread. On SQLite they run right there, synchronously (the
/// methods run on their caller's executor, which is the writer's thread); on PostgreSQL
/// they are sent over the writer's connection.
struct TransactionConnection: Sendable {
    let sql: any SQLDatabase
    let direct: DirectSQLite?

    nonisolated(nonsending) func all(_ query: SQLQueryString) async throws -> [any SQLRow] {
        if let direct { return try direct.rows(query) }
        return try await sql.raw(query).all()
    }

    /// A row statement's rows (see `RowStatement`); nothing is run for no rows.
    nonisolated(nonsending) func all(_ statement: RowStatement) async throws -> [any SQLRow] {
        guard !statement.isEmpty else { return [] }
        if let direct { return try direct.rows(statement) }
        return try await sql.raw(statement.query).all()
    }

    nonisolated(nonsending) func run(_ statement: RowStatement) async throws {
        _ = try await all(statement)
    }

    nonisolated(nonsending) func run(_ query: SQLQueryString) async throws {
        if let direct {
            _ = try direct.rows(query)
        } else {
            try await sql.raw(query).run()
        }
    }
}

extension StoreDatabase {
    /// A query on the reader connection: committed data, never inside a transaction.
    public func read(_ query: SQLQueryString) async throws -> [any SQLRow] {
        try await reader.raw(query).all()
    }
}
