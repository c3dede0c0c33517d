import SCAPrimitives
import SCARules

/// Who calls the engine's machine-facing APIs. Each client has a kind (what it is), a
/// tenant (whose resources it sees) and the scopes its kind grants.
public enum ClientKind: String, Sendable, CaseIterable {
    /// Card payments, its stored cards, its notifications.
    case merchant
    /// A fintech whose users pass SCA through the one-time-token protocol.
    case partner
    /// A third-party provider (open banking): reserved for the XS2A interface.
    case tpp
    /// The decisions API.
    case decider
    /// Audit, compliance and client administration.
    case `operator`

    /// The kinds, for a refusal's message: "one of merchant, partner, …".
    public static let choices = "one of " + allCases.map(\.rawValue).joined(separator: ", ")

    /// What a key of this kind may do. A route names the scope it needs.
    public var scopes: [ClientScope] {
        switch self {
        case .merchant: [.payments]
        case .partner: [.approvals]
        case .tpp: [.openBanking]
        case .decider: [.decisions]
        case .operator: [.audit, .clients, .metrics, .developmentMessages]
        }
    }
}

/// One thing a client may do: each machine-facing route requires one.
public enum ClientScope: String, Sendable, CaseIterable {
    case payments
    case approvals
    case openBanking = "open_banking"
    case decisions
    case audit
    case clients
    case metrics
    case developmentMessages = "development_messages"
}

/// Sandbox (`sk_test_`) or production (`sk_live_`): a key says which it is, so that a
/// sandbox key pasted into production (or the reverse) is seen at a glance.
public enum KeyEnvironment: String, Sendable, CaseIterable {
    case test, live
}

/// A client as stored: never its keys, only their hints.
public struct Client: Sendable, Equatable, JSONAnswer {
    public let id: String
    public let kind: ClientKind
    public let name: String
    public let tenant: String
    public let environment: KeyEnvironment
    public internal(set) var status: Status
    public let createdAt: Instant

    public enum Status: String, Sendable {
        case active, revoked
    }

    public var scopes: [ClientScope] { kind.scopes }

    public func may(_ scope: ClientScope) -> Bool { status == .active && scopes.contains(scope) }

    public func write(to out: inout JSONBuilder) {
        out.string("id", id)
        out.string("kind", kind.rawValue)
        out.string("name", name)
        out.string("tenant", tenant)
        out.string("environment", environment.rawValue)
        out.strings("scopes", scopes.map(\.rawValue))
        out.string("status", status.rawValue)
        out.string("created_at", createdAt.rfc3339)
    }
}

/// A client with the key it was just given: the only time the key is shown.
public struct IssuedKey: Sendable, JSONAnswer {
    public let client: Client
    public let key: String
    /// When the key it replaces stops working (a rotation), if any.
    public let previousKeyExpiresAt: Instant?

    public func write(to out: inout JSONBuilder) {
        out.object("client", client)
        out.string("key", key)
        if let previousKeyExpiresAt { out.string("previous_key_expires_at", previousKeyExpiresAt.rfc3339) }
    }
}
