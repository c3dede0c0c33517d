import Logging
import NIOCore
import SQLKit
import SQLiteKit
// sqlite-nio's vendored SQLite (pinned exactly in Package.swift: an internal target).
import VaporCSQLite

/// The SQLite writer connection: one `sqlite3` handle, used only on the writer's own
/// thread, whose statements run synchronously there. The group committer runs on that
/// thread too (see `TransactionConnection`), so a transaction's dozen statements cost what
/// SQLite costs instead of a hop to a thread pool and back each. Prepared statements are
/// kept for reuse, so a batch shape seen before is not compiled again. Its log is written
/// through `GatheredLogVFS`, one write a commit.
///
/// It is also an `SQLDatabase` for everything else that writes (migrations,
/// administration): those calls are submitted to the writer's thread.
final class DirectSQLite: SQLDatabase, @unchecked Sendable {
    // @unchecked: `handle` and `statements` are touched only on `eventLoop` (checked).
    let eventLoop: any EventLoop
    let logger: Logger
    var dialect: any SQLDialect { SQLiteDialect() }
    var queryLogLevel: Logger.Level? { nil }

    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// Statements kept prepared; past this the cache starts again (batch shapes repeat).
    static let cachedStatementsMax = 512

    /// Whether the log is written through `GatheredLogVFS`.
    let gathersLog: Bool

    private init(handle: OpaquePointer, gathersLog: Bool, eventLoop: any EventLoop, logger: Logger) {
        self.handle = handle
        self.gathersLog = gathersLog
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Opens (creating) the file on `eventLoop`'s thread, its log gathered when
    /// `gatheredLog` (and SQLite has the unix VFS to build on).
    static func open(path: String, gatheredLog: Bool, on eventLoop: any EventLoop, logger: Logger) async throws -> DirectSQLite {
        try await eventLoop.submit {
            var handle: OpaquePointer?
            let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
            let vfs = gatheredLog ? GatheredLogVFS.name : nil
            let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, vfs)
            guard status == SQLITE_OK, let handle else {
                let message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "status \(status)"
                sqlite_nio_sqlite3_close_v2(handle)
                throw StorageError.unavailable("cannot open \(path): \(message)")
            }
            return DirectSQLite(handle: handle, gathersLog: vfs != nil, eventLoop: eventLoop, logger: logger)
        }.get()
    }

    /// Finalizes the statements and closes the handle, on the writer's thread.
    func close() async throws {
        try await eventLoop.submit {
            for statement in self.statements.values { sqlite_nio_sqlite3_finalize(statement) }
            self.statements = [:]
            if let handle = self.handle { sqlite_nio_sqlite3_close_v2(handle) }
            self.handle = nil
        }.get()
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.submit {
            for row in try self.rows(query) { onRow(row) }
        }
    }

    /// The writes its log has made (see `GatheredLogVFS`), for tests; on its thread.
    func logWrites() -> Int? {
        eventLoop.preconditionInEventLoop()
        return handle.flatMap(GatheredLogVFS.logWrites(handle:))
    }

    /// Runs one statement now, on the writer's thread, and returns its rows.
    func rows(_ query: any SQLExpression) throws -> [DirectRow] {
        eventLoop.preconditionInEventLoop()
        guard let handle else { throw StorageError.unavailable("the SQLite writer is closed") }
        var serializer = SQLSerializer(database: self)
        query.serialize(to: &serializer)
        let statement = try prepared(serializer.sql, on: handle)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (offset, value) in serializer.binds.enumerated() {
            try bind(value, at: Int32(offset + 1), of: statement, on: handle)
        }
        var rows: [DirectRow] = []
        var columns: DirectRow.Columns?
        try step(statement, on: handle, into: &rows, columns: &columns)
        return rows
    }

    /// Runs a row statement now, on the writer's thread: its one-row form, prepared once,
    /// stepped for each row with the row's values bound directly. Returns the rows of all.
    func rows(_ statement: RowStatement) throws -> [DirectRow] {
        eventLoop.preconditionInEventLoop()
        guard let handle else { throw StorageError.unavailable("the SQLite writer is closed") }
        let prepared = try prepared(statement.shape.oneRow, on: handle)
        defer { sqlite_nio_sqlite3_clear_bindings(prepared) }
        var rows: [DirectRow] = []
        var columns: DirectRow.Columns?
        let width = statement.shape.width
        var offset = 0
        while offset < statement.values.count {
            for column in 0..<width {
                try bind(statement.values[offset + column], at: Int32(column + 1), of: prepared, on: handle)
            }
            defer { sqlite_nio_sqlite3_reset(prepared) }
            try step(prepared, on: handle, into: &rows, columns: &columns)
            offset += width
        }
        return rows
    }

    /// Steps a bound statement to its end, appending the rows it returns.
    private func step(
        _ statement: OpaquePointer, on handle: OpaquePointer, into rows: inout [DirectRow], columns: inout DirectRow.Columns?
    ) throws {
        while true {
            switch sqlite_nio_sqlite3_step(statement) {
            case SQLITE_ROW:
                let count = sqlite_nio_sqlite3_column_count(statement)
                if columns == nil {
                    var names: [String: Int] = [:]
                    for index in 0..<count {
                        names[String(cString: sqlite_nio_sqlite3_column_name(statement, index))] = Int(index)
                    }
                    columns = DirectRow.Columns(indexes: names)
                }
                rows.append(DirectRow(columns: columns!, values: (0..<count).map { Self.value(of: statement, at: $0) }))
            case SQLITE_DONE:
                return
            default:
                throw StorageError.unavailable("SQLite: \(String(cString: sqlite_nio_sqlite3_errmsg(handle)))")
            }
        }
    }

    private func prepared(_ sql: String, on handle: OpaquePointer) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else {
            throw StorageError.unavailable("SQLite cannot prepare a statement: \(String(cString: sqlite_nio_sqlite3_errmsg(handle)))")
        }
        if statements.count >= Self.cachedStatementsMax {
            for old in statements.values { sqlite_nio_sqlite3_finalize(old) }
            statements = [:]
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: any Encodable & Sendable, at index: Int32, of statement: OpaquePointer, on handle: OpaquePointer) throws {
        let status: Int32
        switch value {
        case let text as String:
            status = bindText(text, at: index, of: statement)
        case let number as Int64:
            status = sqlite_nio_sqlite3_bind_int64(statement, index, number)
        case let number as Int:
            status = sqlite_nio_sqlite3_bind_int64(statement, index, Int64(number))
        case let number as Double:
            status = sqlite_nio_sqlite3_bind_double(statement, index, number)
        case let flag as Bool:
            status = sqlite_nio_sqlite3_bind_int64(statement, index, flag ? 1 : 0)
        case let bytes as [UInt8]:
            status = bytes.withUnsafeBytes {
                sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), transient)
            }
        default:
            // What is left may only be an absent optional; anything else is a programming error.
            guard Self.isNone(value) else { throw StorageError.unavailable("SQLite writer cannot bind a \(type(of: value))") }
            status = sqlite_nio_sqlite3_bind_null(statement, index)
        }
        guard status == SQLITE_OK else {
            throw StorageError.unavailable("SQLite cannot bind: \(String(cString: sqlite_nio_sqlite3_errmsg(handle)))")
        }
    }

    private func bind(_ value: SQLValue, at index: Int32, of statement: OpaquePointer, on handle: OpaquePointer) throws {
        let status: Int32
        switch value {
        case .text(let text?):
            status = bindText(text, at: index, of: statement)
        case .integer(let number?):
            status = sqlite_nio_sqlite3_bind_int64(statement, index, number)
        case .text(nil), .integer(nil):
            status = sqlite_nio_sqlite3_bind_null(statement, index)
        }
        guard status == SQLITE_OK else {
            throw StorageError.unavailable("SQLite cannot bind: \(String(cString: sqlite_nio_sqlite3_errmsg(handle)))")
        }
    }

    /// Binds text from the string's own UTF-8 bytes (SQLite copies them), rather than from
    /// the NUL-terminated copy Swift would make to pass it as a C string.
    private func bindText(_ text: String, at index: Int32, of statement: OpaquePointer) -> Int32 {
        var text = text
        return text.withUTF8 { bytes in
            // An empty string's buffer may have no address, and a null pointer binds NULL.
            guard let start = bytes.baseAddress else {
                return sqlite_nio_sqlite3_bind_text64(statement, index, "", 0, transient, UInt8(SQLITE_UTF8))
            }
            return UnsafeRawPointer(start).withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite_nio_sqlite3_bind_text64(statement, index, $0, UInt64(bytes.count), transient, UInt8(SQLITE_UTF8))
            }
        }
    }

    /// Whether a bound value is an optional holding nothing (`\(bind: x?.y)`).
    private static func isNone(_ value: Any) -> Bool {
        let mirror = Mirror(reflecting: value)
        return mirror.displayStyle == .optional && mirror.children.isEmpty
    }

    private static func value(of statement: OpaquePointer, at index: Int32) -> DirectRow.Value {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite_nio_sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT:
            return .real(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard let pointer = sqlite_nio_sqlite3_column_text(statement, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard let pointer = sqlite_nio_sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: pointer, count: count)))
        default:
            return .null
        }
    }

    private var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }
}

/// A row read by `DirectSQLite`, decodable as SQLKit rows are.
struct DirectRow: SQLRow {
    enum Value: Sendable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
    }

    /// The column names of one statement's rows, shared by its rows.
    final class Columns: Sendable {
        let indexes: [String: Int]
        init(indexes: [String: Int]) { self.indexes = indexes }
    }

    let columns: Columns
    let values: [Value]

    var allColumns: [String] { columns.indexes.sorted { $0.value < $1.value }.map(\.key) }

    func contains(column: String) -> Bool { columns.indexes[column] != nil }

    func decodeNil(column: String) throws -> Bool {
        if case .null = try value(column) { return true }
        return false
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        let value = try value(column)
        // What the writer reads most (text, integers, absent integers) without a `Decoder`.
        switch value {
        case .text(let text) where D.self == String.self: return text as! D
        case .integer(let number) where D.self == Int64.self: return number as! D
        case .integer(let number) where D.self == Int64?.self: return Int64?.some(number) as! D
        case .null where D.self == Int64?.self: return Int64?.none as! D
        default: return try ValueDecoder(value: value, column: column).decode(D.self)
        }
    }

    private func value(_ column: String) throws -> Value {
        guard let index = columns.indexes[column] else {
            throw DecodingError.keyNotFound(
                ColumnKey(column), .init(codingPath: [], debugDescription: "no column \(column)")
            )
        }
        return values[index]
    }

    private struct ColumnKey: CodingKey {
        let stringValue: String
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.init(stringValue) }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    /// Decodes one column's value: the single-value types SQLite stores, and optionals.
    private struct ValueDecoder: Decoder, SingleValueDecodingContainer {
        let value: Value
        let column: String
        var codingPath: [any CodingKey] { [ColumnKey(column)] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            throw mismatch("a keyed container")
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw mismatch("an unkeyed container") }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

        func decodeNil() -> Bool {
            if case .null = value { return true }
            return false
        }
        func decode(_ type: Bool.Type) throws -> Bool { try decode(Int64.self) != 0 }
        func decode(_ type: String.Type) throws -> String {
            guard case .text(let text) = value else { throw mismatch("text") }
            return text
        }
        func decode(_ type: Double.Type) throws -> Double {
            switch value {
            case .real(let number): return number
            case .integer(let number): return Double(number)
            default: throw mismatch("a number")
            }
        }
        func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
        func decode(_ type: Int64.Type) throws -> Int64 {
            guard case .integer(let number) = value else { throw mismatch("an integer") }
            return number
        }
        func decode(_ type: Int.Type) throws -> Int { try narrow(decode(Int64.self)) }
        func decode(_ type: Int8.Type) throws -> Int8 { try narrow(decode(Int64.self)) }
        func decode(_ type: Int16.Type) throws -> Int16 { try narrow(decode(Int64.self)) }
        func decode(_ type: Int32.Type) throws -> Int32 { try narrow(decode(Int64.self)) }
        func decode(_ type: UInt.Type) throws -> UInt { try narrow(decode(Int64.self)) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try narrow(decode(Int64.self)) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try narrow(decode(Int64.self)) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try narrow(decode(Int64.self)) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try narrow(decode(Int64.self)) }
        /// Blobs decode as `[UInt8]` (at the top and inside an optional); the rest goes
        /// through the single-value methods above.
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            if T.self == [UInt8].self, case .blob(let bytes) = value { return bytes as! T }
            return try T(from: self)
        }

        private func narrow<T: FixedWidthInteger>(_ number: Int64) throws -> T {
            guard let narrowed = T(exactly: number) else { throw mismatch("an integer that fits \(T.self)") }
            return narrowed
        }
        private func mismatch(_ expected: String) -> DecodingError {
            .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "column \(column) is not \(expected)"))
        }
    }
}
