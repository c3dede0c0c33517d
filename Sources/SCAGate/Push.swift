import SCAAudit
import SCAAuth
import SCAPrimitives
import SCARules
import SCAStore
import SQLKit

/// Decoupled approval: the challenge is pushed to the user's registered device (its device
/// key), which shows the payment and three numbers; the customer picks the one the other
/// screen shows, and the device signs the challenge with it. The number defeats approving
/// a push one did not start; the cap on pending pushes defeats push bombing.
extension AuthService {
    /// The numbers a push shows on the page, and how many the device offers to pick from
    /// (the right one among decoys).
    public static let pushNumbers = 10...99
    public static let pushChoices = 3

    static func pushMessage(_ record: TokenRecord, number: Int) -> [UInt8] {
        Secrets.sha256(record.signedChallenge + Array("number:\(number)".utf8))
    }

    /// Sends the token's challenge to the user's devices; returns the approval and the
    /// number to show.
    public func triggerPush(token: String?) async throws -> String {
        guard let token = Secrets.bearer(token) else { throw GateRefusal.verificationFailed }
        let policy = settings.attemptPolicy
        let pendingMax = Int64(settings.pushPendingMax)
        return try await store.transact { scope in
            guard let record = try await Self.lockedToken(token, scope: scope),
                case .success = record.challenge.accepts(.deviceKey, at: scope.now)
            else { throw GateRefusal.verificationFailed }
            let devices = try await scope.all(
                "SELECT " + FactorRecord.columns + " FROM auth_factors WHERE user_id = \(bind: record.userID) "
                    + "AND kind = 'device_key' AND status = 'active'"
            ).map(FactorRecord.init(row:)).filter { policy.availability($0.counter, at: scope.now) == .open }
            guard !devices.isEmpty else { throw GateRefusal.verificationFailed }
            let now = scope.now.millisecondsSinceEpoch
            let pending = try await scope.all(
                "SELECT id FROM auth_approvals WHERE user_id = \(bind: record.userID) AND status = 'pending' AND expires_at > \(bind: now)"
                    + scope.forUpdate
            )
            guard pending.count < pendingMax else {
                throw GateRefusal(.rateLimited, "too many approvals are waiting on the device; answer or let them expire first")
            }
            let id = Secrets.identifier("apr")
            let number = Int64(Int.random(in: Self.pushNumbers))
            try await scope.run(
                """
                INSERT INTO auth_approvals (id, user_id, token_hash, number, status, created_at, expires_at) VALUES \
                (\(bind: id), \(bind: record.userID), \(bind: record.hash), \(bind: number), 'pending', \(bind: now), \
                \(bind: record.challenge.expiresAt.millisecondsSinceEpoch))
                """)
            var payload = JSONBuilder()
            payload.string("approval_id", id)
            payload.string("token", record.reference)
            payload.string("user_id", record.userID)
            scope.audit("push_sent", payload: payload.json)
            var out = JSONBuilder()
            out.string("approval_id", id)
            out.integer("number", number)
            out.string("expires_at", record.challenge.expiresAt.rfc3339)
            return out.json
        }
    }

    /// The message a device signs to read its feed: "feed:<factor id>:<unix minute>".
    public static func feedMessage(factorID: String, minute: Int64) -> [UInt8] { Array("feed:\(factorID):\(minute)".utf8) }

    /// The pending approvals of the device's user, for a device that proves it holds the
    /// key (a signature over the feed message of this minute or the one before).
    public func deviceFeed(factorID: String, signature: [UInt8]?) async throws -> String {
        let now = store.clock.now()
        guard let signature,
            let factor = try await database.read(
                "SELECT " + FactorRecord.columns
                    + " FROM auth_factors WHERE id = \(bind: factorID) AND kind = 'device_key' AND status = 'active'"
            ).first.map(FactorRecord.init(row:)),
            let key = Base64URL.decode(factor.secret).flatMap({ try? DeviceKey(encoded: $0) })
        else { throw GateRefusal(.unauthenticated, "the device is not recognised") }
        let minute = now.millisecondsSinceEpoch / 60_000
        guard
            [minute, minute - 1].contains(where: {
                key.verify(signature: signature, over: Self.feedMessage(factorID: factorID, minute: $0))
            })
        else { throw GateRefusal(.unauthenticated, "the device is not recognised") }
        let approvals = try await database.read(
            """
            SELECT id, number, expires_at, token_hash FROM auth_approvals WHERE user_id = \(bind: factor.userID) \
            AND status = 'pending' AND expires_at > \(bind: now.millisecondsSinceEpoch) ORDER BY created_at
            """)
        let hashes = try approvals.map { try $0.decode(column: "token_hash", as: String.self) }
        var tokens: [String: TokenRecord] = [:]
        if !hashes.isEmpty {
            for record in try await database.read(
                "SELECT " + TokenRecord.columns + " FROM auth_tokens WHERE token_hash IN (\(binds: hashes))"
            ).map(TokenRecord.init(row:)) {
                tokens[record.hash] = record
            }
        }
        var items: [String] = []
        for (row, hash) in zip(approvals, hashes) {
            guard let record = tokens[hash] else { continue }
            let number = Int(try row.decode(column: "number", as: Int64.self))
            var choices: Set<Int> = [number]
            while choices.count < Self.pushChoices { choices.insert(Int.random(in: Self.pushNumbers)) }
            var out = JSONBuilder()
            out.string("id", try row.decode(column: "id", as: String.self))
            out.string("action_type", record.action)
            out.string("display_text", record.displayText ?? "Approve: \(record.action.replacingOccurrences(of: "_", with: " "))")
            out.array("numbers", choices.shuffled().map(String.init))
            out.string("challenge", Base64URL.encode(record.signedChallenge))
            out.string("expires_at", Instant(millisecondsSinceEpoch: try row.decode(column: "expires_at", as: Int64.self)).rfc3339)
            items.append(out.json)
        }
        return "{\"approvals\":[" + items.joined(separator: ",") + "]}"
    }

    /// The device's answer. Approve: the number and a signature over
    /// SHA-256(challenge ‖ "number:<n>") pass the device-key factor, a wrong one counts as a
    /// failure. Deny: the approval ends and nothing passes.
    public func answerPush(approvalID: String, factorID: String, approve: Bool, number: Int, signature: [UInt8]) async throws -> String {
        guard
            let row = try await database.read(
                "SELECT token_hash, status FROM auth_approvals WHERE id = \(bind: approvalID)"
            ).first, try row.decode(column: "status", as: String.self) == "pending"
        else { throw GateRefusal.verificationFailed }
        let hash = try row.decode(column: "token_hash", as: String.self)
        guard approve else {
            try await store.transact { scope in
                try await scope.run("UPDATE auth_approvals SET status = 'denied' WHERE id = \(bind: approvalID) AND status = 'pending'")
                var payload = JSONBuilder()
                payload.string("approval_id", approvalID)
                scope.audit("push_denied", payload: payload.json)
            }
            return #"{"status":"denied"}"#
        }
        return try await verify(
            hash: hash, token: nil, .push(approvalID: approvalID, factorID: factorID, number: number, signature: signature)
        )
    }
}
