import Foundation
import Logging
import NIOCore
import NIOPosix
import SCARules
import SQLKit
import SQLiteKit
import Testing

@testable import SCAStore

/// The SQLite writer's own binding and decoding: what it accepts, and what it refuses
/// rather than store wrongly.
@Suite struct DirectSQLiteTests {
    @Test func valuesRoundTripAndUnsupportedOnesAreRefused() async throws {
        try await withWriter { sqlite, loop in
            let absent: Int64? = nil
            let rows = try await loop.submit { () throws -> [DirectRow] in
                _ = try sqlite.rows(SQLQueryString("CREATE TABLE t (a TEXT, b INTEGER, c REAL, d BLOB, e INTEGER)"))
                _ = try sqlite.rows(
                    "INSERT INTO t VALUES (\(bind: "héllo"), \(bind: Int64.max), \(bind: 0.25), \(bind: [UInt8]([0, 255])), \(bind: absent))"
                        as SQLQueryString
                )
                return try sqlite.rows(SQLQueryString("SELECT a, b, c, d, e FROM t"))
            }.get()
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(row.allColumns == ["a", "b", "c", "d", "e"])
            #expect(try row.decode(column: "a", as: String.self) == "héllo")
            #expect(try row.decode(column: "b", as: Int64.self) == Int64.max)
            #expect(try row.decode(column: "c", as: Double.self) == 0.25)
            #expect(try row.decode(column: "d", as: [UInt8].self) == [0, 255])
            #expect(try row.decode(column: "d", as: [UInt8]?.self) == [0, 255])
            #expect(try row.decode(column: "e", as: Int64?.self) == nil)
            #expect(try row.decodeNil(column: "e"))
            // A type mismatch, a value too large for the asked type and a missing column throw.
            #expect(throws: DecodingError.self) { try row.decode(column: "a", as: Int64.self) }
            #expect(throws: DecodingError.self) { try row.decode(column: "b", as: Int32.self) }
            #expect(throws: DecodingError.self) { try row.decode(column: "z", as: String.self) }
            // A bound value of a type the writer does not know is refused, not stored as text.
            await #expect(throws: StorageError.self) {
                try await loop.submit { _ = try sqlite.rows("INSERT INTO t (a) VALUES (\(bind: Date()))" as SQLQueryString) }.get()
            }
            let count = try await loop.submit { try sqlite.rows(SQLQueryString("SELECT count(*) AS n FROM t")) }.get()
            #expect(try count.first?.decode(column: "n", as: Int64.self) == 1)
        }
    }

    /// Text is bound from the string's own bytes: an empty string is empty text (not NULL),
    /// and short (inline), long, non-ASCII and NUL-holding strings come back byte for byte,
    /// through both ways of binding.
    @Test func textIsBoundByteForByte() async throws {
        let texts = ["", "a", "héllo", "nul\u{0}inside", String(repeating: "long text ", count: 40), "日本語のテキスト"]
        try await withWriter { sqlite, loop in
            let rows = try await loop.submit { () throws -> [DirectRow] in
                _ = try sqlite.rows(SQLQueryString("CREATE TABLE t (n INTEGER, a TEXT, b TEXT)"))
                var insert = RowStatement(RowStatement.Shape("INSERT INTO t (n, a, b) VALUES ", width: 3, ""))
                for (index, text) in texts.enumerated() {
                    insert.add(.integer(Int64(index)), .text(text), .text(nil))
                }
                _ = try sqlite.rows(insert)
                for (index, text) in texts.enumerated() {
                    _ = try sqlite.rows("UPDATE t SET b = \(bind: text) WHERE n = \(bind: Int64(index))" as SQLQueryString)
                }
                return try sqlite.rows(
                    SQLQueryString("SELECT n, a, b, a IS NULL AS a_null, length(CAST(a AS BLOB)) AS bytes FROM t ORDER BY n"))
            }.get()
            #expect(rows.count == texts.count)
            for (row, text) in zip(rows, texts) {
                #expect(try row.decode(column: "a", as: String.self) == text)
                #expect(try row.decode(column: "b", as: String.self) == text)
                #expect(try row.decode(column: "a_null", as: Int64.self) == 0)
                #expect(try row.decode(column: "bytes", as: Int64.self) == Int64(text.utf8.count))
            }
        }
    }

    /// A row statement runs on SQLite as its one-row form, stepped once per row: every row's
    /// RETURNING rows come back, a conflicting row gives none, NULLs are bound as NULL, and a
    /// lookup returns the rows of the keys that exist.
    @Test func rowStatementsRunOneRowAtATime() async throws {
        try await withWriter { sqlite, loop in
            let insertShape = RowStatement.Shape("INSERT INTO kv (k, n) VALUES ", width: 2, " ON CONFLICT (k) DO NOTHING RETURNING k")
            #expect(insertShape.oneRow == "INSERT INTO kv (k, n) VALUES (?, ?) ON CONFLICT (k) DO NOTHING RETURNING k")
            var insert = RowStatement(insertShape)
            insert.add(.text("a"), .integer(1))
            insert.add(.text("b"), .integer(nil))
            insert.add(.text("a"), .integer(3))
            #expect(insert.rowCount == 3)
            let lookupShape = RowStatement.Shape.lookup("k, n", from: "kv", by: "k", "n")
            #expect(lookupShape.head == "SELECT k, n FROM kv WHERE (k, n) IN (VALUES ")
            #expect(lookupShape.tail == ")")
            #expect(lookupShape.oneRow == "SELECT k, n FROM kv WHERE k = ? AND n = ?")
            var lookup = RowStatement(lookupShape)
            for (key, number) in [("a", Int64(1)), ("zz", 1), ("a", 3)] { lookup.add(.text(key), .integer(number)) }
            let (inserted, found, foundAtOnce) = try await loop.submit { () throws -> ([DirectRow], [DirectRow], [DirectRow]) in
                _ = try sqlite.rows(SQLQueryString("CREATE TABLE kv (k TEXT PRIMARY KEY, n INTEGER)"))
                // The one-row form, stepped per row; then the whole list in one statement.
                return (try sqlite.rows(insert), try sqlite.rows(lookup), try sqlite.rows(lookup.query))
            }.get()
            #expect(try inserted.map { try $0.decode(column: "k", as: String.self) } == ["a", "b"])
            #expect(found.count == 1)
            #expect(try found.map { try $0.decode(column: "k", as: String.self) } == ["a"])
            #expect(try foundAtOnce.map { try $0.decode(column: "k", as: String.self) } == ["a"])
            var byKey = RowStatement(.lookup("k, n", from: "kv", by: "k"))
            for key in ["a", "zz", "b"] { byKey.add(.text(key)) }
            let nullable = try await loop.submit { try sqlite.rows(byKey) }.get()
            #expect(try nullable.map { try $0.decode(column: "k", as: String.self) } == ["a", "b"])
            #expect(try nullable.map { try $0.decode(column: "n", as: Int64?.self) } == [1, nil])
        }
    }

    /// An upsert names its columns once: the width is their count, the update sets the
    /// columns outside the key, and a table whose columns are all key keeps its rows.
    @Test func upsertsAreDerivedFromTheirColumns() async throws {
        let upsert = RowStatement.Shape.upsert(into: "kv", "k, n, m", key: "k")
        #expect(upsert.head == "INSERT INTO kv (k, n, m) VALUES ")
        #expect(upsert.width == 3)
        #expect(upsert.tail == " ON CONFLICT (k) DO UPDATE SET n = excluded.n, m = excluded.m")
        let keysOnly = RowStatement.Shape.upsert(into: "pairs", "a, b", key: "a", "b")
        #expect(keysOnly.oneRow == "INSERT INTO pairs (a, b) VALUES (?, ?) ON CONFLICT DO NOTHING")
        try await withWriter { sqlite, loop in
            var first = RowStatement(upsert)
            first.add(.text("x"), .integer(1), .text("one"))
            var second = RowStatement(upsert)
            second.add(.text("x"), .integer(2), .text(nil))
            let rows = try await loop.submit { () throws -> [DirectRow] in
                _ = try sqlite.rows(SQLQueryString("CREATE TABLE kv (k TEXT PRIMARY KEY, n INTEGER, m TEXT)"))
                _ = try sqlite.rows(first)
                _ = try sqlite.rows(second)
                return try sqlite.rows(SQLQueryString("SELECT k, n, m FROM kv"))
            }.get()
            #expect(rows.count == 1)
            #expect(try rows.first?.decode(column: "n", as: Int64.self) == 2)
            #expect(try rows.first?.decode(column: "m", as: String?.self) == nil)
        }
    }

    /// A writer on a fresh file and its own thread, closed and removed afterwards.
    /// The writer's log is handed to the kernel in one write a commit, not two a page (see
    /// `GatheredLogVFS`); a transaction larger than what is gathered at once is written in
    /// several, and commits whole: another connection reads every row while the writer is
    /// open, and again once it has closed.
    @Test func aCommitWritesItsLogInOneCall() async throws {
        let filler = String(repeating: "x", count: 400)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sca-direct-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.sqlite").path
        let (small, large, seen) = try await withWriter(at: path) { sqlite, loop in
            let writes = try await loop.submit { () throws -> (Int?, Int?) in
                for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"] {
                    _ = try sqlite.rows(SQLQueryString(stringLiteral: pragma))
                }
                _ = try sqlite.rows(SQLQueryString("CREATE TABLE t (n INTEGER PRIMARY KEY, a TEXT NOT NULL)"))
                func writes(committing rows: Range<Int>) throws -> Int? {
                    let before = sqlite.logWrites()
                    _ = try sqlite.rows(SQLQueryString("BEGIN IMMEDIATE"))
                    var insert = RowStatement(RowStatement.Shape("INSERT INTO t (n, a) VALUES ", width: 2, ""))
                    for n in rows { insert.add(.integer(Int64(n)), .text(filler + "\(n)")) }
                    _ = try sqlite.rows(insert)
                    _ = try sqlite.rows(SQLQueryString("COMMIT"))
                    guard let before, let after = sqlite.logWrites() else { return nil }
                    return after - before
                }
                // About 12 pages, then about 210 (865 KB of log).
                return (try writes(committing: 0..<100), try writes(committing: 100..<2_100))
            }.get()
            return (writes.0, writes.1, try await Self.rows(at: path))
        }
        #expect(small == 1)
        let largeWrites = try #require(large)
        #expect(largeWrites >= 865_000 / GatheredLogVFS.capacity && largeWrites < 20)
        #expect(seen == 2_100)
        #expect(try await Self.rows(at: path) == 2_100)
    }

    /// The gathered log is safe only while every commit syncs the log: the store asks the
    /// writer what it runs with and refuses a gathered log under anything but
    /// `synchronous=FULL`. Without the gathered log the same setting opens.
    @Test func theGatheredLogIsRefusedUnlessEveryCommitSyncsTheLog() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sca-direct-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let location = StorageLocation.sqlite(path: directory.appendingPathComponent("t.sqlite").path)
        func open(_ tunings: StorageTunings, synchronous: String) async throws -> StoreDatabase {
            try await StoreDatabase.open(
                location, logger: TestStore.logger, tunings: tunings, walRestartFrames: StoreDatabase.walRestartFrames,
                cachedTailBytes: StoreDatabase.cachedTailBytes, synchronous: synchronous
            )
        }
        for synchronous in ["NORMAL", "OFF", "EXTRA"] {
            do {
                let opened = try await open(StorageTunings(), synchronous: synchronous)
                await opened.close()
                Issue.record("a gathered log opened with synchronous=\(synchronous)")
            } catch let error as StorageError {
                #expect(error.description.contains("synchronous=FULL"))
            }
        }
        let full = try await open(StorageTunings(), synchronous: "FULL")
        #expect((full.writer as? DirectSQLite)?.gathersLog == true)
        await full.close()
        let plain = try await open(.off, synchronous: "NORMAL")
        #expect((plain.writer as? DirectSQLite)?.gathersLog == false)
        await plain.close()
    }

    /// With the tuning off the writer's log is SQLite's own (no gathered writes to count),
    /// and a commit still reads back through another connection.
    @Test func withTheTuningOffTheLogIsSQLitesOwn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sca-direct-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.sqlite").path
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let sqlite = try await DirectSQLite.open(path: path, gatheredLog: false, on: loop, logger: Logger(label: "test"))
        let writes = try await loop.submit { () throws -> Int? in
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"] {
                _ = try sqlite.rows(SQLQueryString(stringLiteral: pragma))
            }
            _ = try sqlite.rows(SQLQueryString("CREATE TABLE t (n INTEGER PRIMARY KEY, a TEXT NOT NULL)"))
            _ = try sqlite.rows(SQLQueryString(stringLiteral: "INSERT INTO t (n, a) VALUES (1, '\(String(repeating: "y", count: 500))')"))
            return sqlite.logWrites()
        }.get()
        #expect(writes == nil)
        #expect(try await Self.rows(at: path) == 1)
        try await sqlite.close()
        try await group.shutdownGracefully()
    }

    /// Rows of `t` with their whole text, read by a connection of the default VFS.
    private static func rows(at path: String) async throws -> Int {
        let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "test"))
        let rows: [any SQLRow]
        do {
            rows = try await reader.sql().raw("SELECT count(*) AS n FROM t WHERE length(a) > 400").all()
        } catch {
            try? await reader.close()
            throw error
        }
        try await reader.close()
        return try rows.first?.decode(column: "n", as: Int.self) ?? -1
    }

    /// A writer on a new file in a directory of its own, removed afterwards.
    private func withWriter(_ body: (DirectSQLite, any EventLoop) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sca-direct-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withWriter(at: directory.appendingPathComponent("t.sqlite").path, body)
    }

    /// A writer on the file at `path`, closed afterwards.
    private func withWriter<T>(at path: String, _ body: (DirectSQLite, any EventLoop) async throws -> T) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let sqlite = try await DirectSQLite.open(path: path, gatheredLog: true, on: loop, logger: Logger(label: "test"))
        let value: T
        do {
            value = try await body(sqlite, loop)
        } catch {
            try? await sqlite.close()
            try? await group.shutdownGracefully()
            throw error
        }
        try await sqlite.close()
        try await group.shutdownGracefully()
        return value
    }
}

/// Decision ids: their form, their order by time, and random bits that do not repeat
/// across the pool's refills (4 KiB, 256 ids).
@Suite struct DecisionIDTests {
    @Test func idsAreWellFormedUniqueAndSortByTime() {
        let count = 2_000
        let early = (0..<count).map { _ in DecisionID.make(now: Instant(millisecondsSinceEpoch: 1_795_000_000_000)) }
        #expect(early.allSatisfy(DecisionID.isWellFormed))
        #expect(Set(early).count == count)
        // The first ten base32 characters are exactly the 48-bit time (the first character
        // holds 3 bits, the next nine 45), so ids of one millisecond share them and differ
        // after them.
        #expect(Set(early.map { $0.prefix(4 + 10) }).count == 1)
        #expect(Set(early.map { $0.dropFirst(4 + 10) }).count == count)
        let later = DecisionID.make(now: Instant(millisecondsSinceEpoch: 1_795_000_000_001))
        #expect(early.allSatisfy { $0 < later })
        // Over 64 milliseconds each time character takes every value, in order.
        let series = (0..<64).map { DecisionID.make(now: Instant(millisecondsSinceEpoch: 1_795_000_000_000 + $0)) }
        #expect(series == series.sorted())
    }

    /// Only the form `make` gives is looked up: the prefix, 26 characters, and RFC 4648's
    /// base32 letters in lower case (no 0, 1, 8, 9, no capitals).
    @Test func idsOfAnotherFormAreNotOurs() {
        let id = DecisionID.make(now: TestStore.start)
        #expect(DecisionID.isWellFormed(id))
        let body = String(id.dropFirst(4))
        let shorter = String(body.dropLast())
        let others: [String] = [
            "pay_" + body, "dec_" + shorter, id + "a", "dec_" + body.uppercased(),
            "dec_1" + shorter, "dec_8" + shorter, "dec_" + shorter + "?", "",
        ]
        for other in others {
            #expect(!DecisionID.isWellFormed(other), "\(other)")
        }
    }

    @Test func thePoolGivesDifferentBitsEachTime() {
        let pool = RandomPool()
        let values = (0..<1_000).map { _ in pool.next128() }
        #expect(Set(values).count == values.count)
        // Each of the 128 bits is set in some values and clear in others.
        let ored = values.reduce(UInt128(0), |)
        let anded = values.reduce(~UInt128(0), &)
        #expect(ored == ~UInt128(0))
        #expect(anded == 0)
    }
}
