import Crypto
import Foundation
import SCAAudit
import SCAPrimitives
import SCARules
import Synchronization

/// Where a decision's SCA stands.
public enum SCAStatus: String, Sendable, Equatable {
    /// The outcome needed no SCA.
    case notRequired = "not_required"
    /// SCA is required and its outcome has not been reported yet (HTTP without `sca`).
    case pending
    case passed
    case failed

    init(outcome: Outcome, sca: SCAResult?) {
        guard outcome == .scaRequired else {
            self = .notRequired
            return
        }
        switch sca {
        case nil: self = .pending
        case .passed?: self = .passed
        case .failed?: self = .failed
        }
    }

    /// The request's `sca` that gives this status back when the request is decided again.
    var requestSCA: SCAResult? {
        switch self {
        case .pending: return nil
        case .passed, .notRequired: return .passed
        case .failed: return .failed
        }
    }
}

/// Whose a resource is: a decision (and so the rules state it reads and writes), a card
/// payment, a stored card, a notification, an idempotency key. The engine's own decisions
/// (the gate, the demo bank, `sca decide --db`) use the payers' ids as they are; a tenant's
/// (the decisions API) use them inside the tenant's namespace, so that no API call can read
/// or change the trusted payees, counters or consents the gate relies on, or another
/// tenant's. Another tenant's resource is not found; an SCA result is accepted only from a
/// decision's owner.
public struct ResourceOwner: Sendable, Hashable {
    /// The tenant whose namespace the resource is in; empty for the engine's own.
    public let tenant: String
    /// The client that asked for it: its idempotency keys are its own. Empty for the engine.
    public let client: String

    /// The gate's, the bank's and the command line's.
    public static let engine = ResourceOwner(tenant: "", client: "")

    /// A client's. A tenant is a-z, 0-9, `_` and `-` (`ClientRegistry`), never
    /// empty and never with `:`, so no tenant's namespace meets the engine's or another's.
    public static func client(_ client: String, tenant: String) -> ResourceOwner {
        precondition(!tenant.isEmpty && !tenant.contains(":") && !client.isEmpty)
        return ResourceOwner(tenant: tenant, client: client)
    }

    /// The request as the rules state sees it: its payer inside the owner's namespace.
    func namespaced(_ request: DecisionRequest) -> DecisionRequest { Self.namespaced(request, tenant: tenant) }

    /// A stored decision's request inside its tenant's namespace (the engine's: '').
    static func namespaced(_ request: DecisionRequest, tenant: String) -> DecisionRequest {
        guard !tenant.isEmpty else { return request }
        var request = request
        request.payer.id = PayerID(tenant + ":" + request.payer.id.value)
        return request
    }

    /// An idempotency key as stored: inside the client's own scope.
    public func storedKey(_ key: String?) -> String? {
        guard let key, !client.isEmpty else { return key }
        return client + ":" + key
    }
}

/// A decision as stored: the answer of the decision contract, byte for byte as first given.
public struct StoredDecision: Sendable, Equatable {
    public let id: String
    /// The tenant that owns it; empty for the engine's own (see `ResourceOwner`).
    public let tenant: String
    public let createdAt: String
    /// The decision contract's answer, one JSON object.
    public let answer: String
    /// The answer's `outcome` and `reason` codes, for metrics and queries.
    public let outcome: String
    public let reason: String
    public var sca: SCAStatus
    public let auditSequence: Int64
}

/// One request for a decision, as received.
public struct DecisionSubmission: Sendable {
    /// The request, its payer inside the owner's namespace (`ResourceOwner.namespaced`).
    public let request: DecisionRequest
    /// The request as received (UTF-8 JSON), kept with the decision.
    public let requestText: String
    public let owner: ResourceOwner
    /// The digest of the API key it came with, checked again in its transaction
    /// (`CredentialCheck`); nil for the engine's own.
    public let credential: String?
    /// The key as stored, inside the owner's scope.
    public let idempotencyKey: String?
    /// SHA-256 of the request text: a retry under the same key must send the same request.
    let digest: String
    /// The id the decision gets if this request is decided (not if it replays a key). Made
    /// by the caller (`DecisionStore.submission`), so that the random bits and the digest
    /// cost the group committer nothing.
    let id: String

    /// `madeAt` orders the new decision's id (see `DecisionID`); it is not a rule's `now`.
    public init(
        request: DecisionRequest, requestText: String, owner: ResourceOwner = .engine, credential: String? = nil,
        idempotencyKey: String? = nil, madeAt: Instant
    ) {
        self.request = owner.namespaced(request)
        self.requestText = requestText
        self.owner = owner
        self.credential = credential
        self.idempotencyKey = owner.storedKey(idempotencyKey)
        self.digest = sha256Hex(requestText)
        self.id = DecisionID.make(now: madeAt)
    }
}

public enum DecisionResult: Sendable, Equatable {
    /// Decided now (`replayed` false) or earlier under the same idempotency key.
    case decided(StoredDecision, replayed: Bool)
    /// The idempotency key was used before for a different request.
    case idempotencyConflict
    /// The API key it came with was revoked or ended before its transaction: nothing was
    /// written.
    case unauthenticated
    /// The writer's queue was full; nothing was written, and the call may be retried.
    case busy
    /// The store failed; nothing was written.
    case unavailable(String)
}

public enum SCAReportResult: Sendable, Equatable {
    /// Recorded now, or (`replayed`) the same result had been recorded before.
    case recorded(StoredDecision, replayed: Bool)
    case notFound
    /// The decision needed no SCA, or another result was recorded for it.
    case notPending(StoredDecision)
    /// The writer's queue was full; nothing was recorded, and the call may be retried.
    case busy
    case unavailable(String)
}

/// Decision ids: `dec_` and 26 base32 characters of 128 bits, the first 48 the time in
/// milliseconds and the other 80 random. Ids sort by time, so new ones land at the end of
/// the index instead of on random pages (fewer pages written a commit).
enum DecisionID {
    static let prefix = "dec_"
    /// RFC 4648's base32 characters in lower case, 5 bits each, valued in ASCII order
    /// (the digits 2-7 first), so that ids sort as their bits do.
    private static let alphabet = Array("234567abcdefghijklmnopqrstuvwxyz".utf8)
    /// 128 bits in 5-bit characters: 26, the first holding the top 3 bits.
    private static let characters = 26
    private static let randomBits = 80

    static func make(now: Instant) -> String {
        let time = UInt128(UInt64(clamping: now.millisecondsSinceEpoch) & 0xFFFF_FFFF_FFFF)  // 48 bits
        let bits = time << randomBits | RandomPool.shared.next128() & ((1 << randomBits) - 1)
        var out: [UInt8] = []
        out.reserveCapacity(prefix.utf8.count + characters)
        out.append(contentsOf: prefix.utf8)
        for shift in stride(from: 5 * (characters - 1), through: 0, by: -5) {
            out.append(alphabet[Int((bits >> UInt128(shift)) & 31)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Ids are ours: anything else is not looked up.
    static func isWellFormed(_ id: String) -> Bool {
        id.utf8.count == prefix.utf8.count + characters && id.hasPrefix(prefix)
            && id.utf8.dropFirst(prefix.utf8.count).allSatisfy(alphabet.contains)
    }
}

/// Random bits from the kernel's generator, read 4 KiB at a time from `/dev/urandom` (the
/// source `getrandom` draws from): one system call for 256 decision ids, where the
/// standard library's generator makes one for every 8 bytes. If the device cannot be read,
/// the standard library's generator is used.
final class RandomPool: Sendable {
    static let shared = RandomPool()

    private static let blockBytes = 4096
    private let file: Int32
    private let block = Mutex((bytes: [UInt8](), used: 0))

    init() { file = open("/dev/urandom", O_RDONLY | O_CLOEXEC) }
    deinit { if file >= 0 { close(file) } }

    func next128() -> UInt128 {
        block.withLock { block in
            if block.used + 16 > block.bytes.count {
                block.bytes = read() ?? []
                block.used = 0
            }
            guard block.used + 16 <= block.bytes.count else {
                var generator = SystemRandomNumberGenerator()
                return UInt128(generator.next() as UInt64) << 64 | UInt128(generator.next() as UInt64)
            }
            var value: UInt128 = 0
            for byte in block.bytes[block.used..<block.used + 16] { value = value << 8 | UInt128(byte) }
            block.used += 16
            return value
        }
    }

    /// A fresh block, or nil when the device gives less.
    private func read() -> [UInt8]? {
        guard file >= 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Self.blockBytes)
        let count = bytes.withUnsafeMutableBytes { Foundation.read(file, $0.baseAddress, Self.blockBytes) }
        return count == Self.blockBytes ? bytes : nil
    }
}
