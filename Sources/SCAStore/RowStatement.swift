import Foundation
import SQLKit

/// A value bound into a statement: the two column types the engine's tables use, each
/// possibly NULL (a typed NULL, as PostgreSQL wants it).
enum SQLValue: Sendable {
    case text(String?)
    case integer(Int64?)
}

/// One statement over a list of rows: `head`, then a parenthesised row of `width` values
/// for each row, then `tail`. That is the shape of a multi-row `INSERT … VALUES … ON
/// CONFLICT … RETURNING` and of a lookup `WHERE (a, b) IN (VALUES …)`.
///
/// Each backend runs it the way it runs best, with the same rows back: PostgreSQL as one
/// statement with every row in its VALUES list (one round trip for the batch); SQLite, where
/// a statement costs no round trip, as a one-row statement prepared once and stepped for
/// each row with its values bound directly, so no SQL text is built or parsed per batch.
struct RowStatement {
    struct Shape: Sendable {
        let head: String
        let width: Int
        let tail: String
        /// The statement for one row, with `?` placeholders (SQLite's form).
        let oneRow: String

        /// `oneRow` defaults to the statement with a single row; a lookup (`lookup`) gives
        /// its own (`WHERE a = ? AND b = ?`), since SQLite builds a temporary table for an
        /// `IN (VALUES …)` list even of one row.
        init(_ head: String, width: Int, _ tail: String = "", oneRow: String? = nil) {
            precondition(width > 0, "a row has at least one value")
            self.head = head
            self.width = width
            self.tail = tail
            self.oneRow = oneRow ?? head + "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")" + tail
        }

        /// An insert of `columns` (comma-separated) into `table`, a row of them each, then `tail`.
        static func insert(into table: String, _ columns: String, _ tail: String = "") -> Shape {
            Shape("INSERT INTO \(table) (\(columns)) VALUES ", width: names(columns).count, tail)
        }

        /// An insert of `columns` into `table`. A row whose `key` exists takes the other
        /// columns' new values, or is left as it is when every column is part of the key.
        static func upsert(into table: String, _ columns: String, key: String...) -> Shape {
            let others = names(columns).filter { !key.contains($0) }
            return insert(
                into: table, columns,
                others.isEmpty
                    ? " ON CONFLICT DO NOTHING"
                    : " ON CONFLICT (" + key.joined(separator: ", ") + ") DO UPDATE SET "
                        + others.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            )
        }

        private static func names(_ columns: String) -> [String] {
            columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }

        /// A lookup of `columns` from `table` by the values of `keys`, a row of keys each:
        /// `WHERE (k1, k2) IN (VALUES …)` for the batch, `WHERE k1 = ? AND k2 = ?` for one row.
        static func lookup(_ columns: String, from table: String, by keys: String...) -> Shape {
            let select = "SELECT \(columns) FROM \(table) WHERE "
            return Shape(
                select + "(" + keys.joined(separator: ", ") + ") IN (VALUES ", width: keys.count, ")",
                oneRow: select + keys.map { "\($0) = ?" }.joined(separator: " AND ")
            )
        }
    }

    let shape: Shape
    private(set) var values: [SQLValue] = []

    init(_ shape: Shape, reservingRows rows: Int = 0) {
        self.shape = shape
        values.reserveCapacity(rows * shape.width)
    }

    var rowCount: Int { values.count / shape.width }
    var isEmpty: Bool { values.isEmpty }

    /// Adds one row; it must have `shape.width` values.
    mutating func add(_ row: SQLValue...) {
        precondition(row.count == shape.width, "a row of \(shape.width) values")
        values.append(contentsOf: row)
    }

    /// The whole statement as SQLKit text with binds (PostgreSQL's form).
    var query: SQLQueryString {
        var query = SQLQueryString(shape.head)
        for row in 0..<rowCount {
            query += row == 0 ? "(" : ", ("
            for column in 0..<shape.width {
                if column > 0 { query += ", " }
                switch values[row * shape.width + column] {
                case .text(let text): query += "\(bind: text)"
                case .integer(let number): query += "\(bind: number)"
                }
            }
            query += ")"
        }
        query += SQLQueryString(shape.tail)
        return query
    }
}
