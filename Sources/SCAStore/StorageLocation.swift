import Foundation

/// Where the engine keeps its state: an SQLite file (the default, nothing to install) or
/// a PostgreSQL database shared by several nodes.
public enum StorageLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// The default file inside a data directory.
    public static func defaultFile(in dataDirectory: String) -> StorageLocation {
        .sqlite(path: (dataDirectory as NSString).appendingPathComponent("sca.sqlite"))
    }

    /// Reads `postgres://…` / `postgresql://…`, `sqlite:PATH` / `sqlite://PATH`, or a plain
    /// file path.
    public init(_ text: String) throws(StorageError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw StorageError.invalidLocation("the database location is empty") }
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            self = .postgres(url: trimmed)
        } else if trimmed.hasPrefix("sqlite://") {
            self = .sqlite(path: String(trimmed.dropFirst("sqlite://".count)))
        } else if trimmed.hasPrefix("sqlite:") {
            self = .sqlite(path: String(trimmed.dropFirst("sqlite:".count)))
        } else if trimmed.contains("://") {
            throw StorageError.invalidLocation("unsupported database URL scheme (use postgres:// or a file path)")
        } else {
            self = .sqlite(path: trimmed)
        }
    }

    /// For logs: never the password of a PostgreSQL URL.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url):
            guard var components = URLComponents(string: url) else { return "postgres://(unparsable)" }
            if components.password != nil { components.password = "***" }
            return components.string ?? "postgres://(unparsable)"
        }
    }
}

public enum StorageError: Error, Equatable, CustomStringConvertible {
    case invalidLocation(String)
    case unavailable(String)
    /// The writer's queue is full: nothing was written; retry after a moment.
    case busy
    case schemaTooNew(found: Int, known: Int)
    case corrupt(String)

    public var description: String {
        switch self {
        case .invalidLocation(let message): return "invalid database location: \(message)"
        case .unavailable(let message): return "database unavailable: \(message)"
        case .busy: return "the store is busy: nothing was written; retry after a moment"
        case .schemaTooNew(let found, let known):
            return "the database has schema version \(found); this build knows up to \(known)"
        case .corrupt(let message): return "stored data is not readable: \(message)"
        }
    }
}
