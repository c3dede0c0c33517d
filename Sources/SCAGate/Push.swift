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
    public func triggerPush(token: String?) async throws -> PushSent {
        guard let token = Secrets.bearer(token) else { throw GateRefusal.verificationFailed }
        let policy = settings.attemptPolicy
        let pendingMax = Int64(settings.pushPendingMax)
        return try await store.transact { scope in
            guard let record = try await Self.lockedToken(token, scope: scope),
                case .success = record.challenge.accepts(.deviceKey, at: scope.now)
            else { throw GateRefusal.verificationFailed }
            let devices = try await AuthRepository.activeDevices(userID: record.userID, scope: scope).filter {
                policy.availability($0.counter, at: scope.now) == .open
            }
            guard !devices.isEmpty else { throw GateRefusal.verificationFailed }
            guard try await AuthRepository.pendingApprovalCount(userID: record.userID, scope: scope) < pendingMax else {
                throw GateRefusal(.rateLimited, "too many approvals are waiting on the device; answer or let them expire first")
            }
            let id = Secrets.identifier("apr")
            let number = Int.random(in: Self.pushNumbers)
            try await AuthRepository.insertApproval(
                id: id, userID: record.userID, tokenHash: record.hash, number: Int64(number), expiresAt: record.challenge.expiresAt,
                scope: scope)
            var payload = JSONBuilder()
            payload.string("approval_id", id)
            payload.string("token", record.reference)
            payload.string("user_id", record.userID)
            scope.audit("push_sent", payload: payload.json)
            return PushSent(approvalID: id, number: number, expiresAt: record.challenge.expiresAt)
        }
    }

    /// The message a device signs to read its feed: "feed:<factor id>:<unix minute>".
    public static func feedMessage(factorID: String, minute: Int64) -> [UInt8] { Array("feed:\(factorID):\(minute)".utf8) }

    /// The pending approvals of the device's user, for a device that proves it holds the
    /// key (a signature over the feed message of this minute or the one before).
    public func deviceFeed(factorID: String, signature: [UInt8]?) async throws -> JSONList<PendingApproval> {
        let now = store.clock.now()
        guard let signature,
            let factor = try await AuthRepository.activeDevice(factorID, database: database),
            let key = Base64URL.decode(factor.secret).flatMap({ try? DeviceKey(encoded: $0) })
        else { throw GateRefusal(.unauthenticated, "the device is not recognised") }
        let minute = now.millisecondsSinceEpoch / 60_000
        guard
            [minute, minute - 1].contains(where: {
                key.verify(signature: signature, over: Self.feedMessage(factorID: factorID, minute: $0))
            })
        else { throw GateRefusal(.unauthenticated, "the device is not recognised") }
        let approvals = try await AuthRepository.pendingApprovals(userID: factor.userID, at: now, database: database)
        var tokens: [String: TokenRecord] = [:]
        for record in try await AuthRepository.tokens(hashes: approvals.map(\.tokenHash), database: database) {
            tokens[record.hash] = record
        }
        let items = approvals.compactMap { approval -> PendingApproval? in
            guard let record = tokens[approval.tokenHash] else { return nil }
            let number = Int(approval.number)
            var choices: Set<Int> = [number]
            while choices.count < Self.pushChoices { choices.insert(Int.random(in: Self.pushNumbers)) }
            return PendingApproval(
                id: approval.id, actionType: record.action,
                displayText: record.displayText ?? "Approve: \(record.action.replacingOccurrences(of: "_", with: " "))",
                numbers: choices.shuffled(), challenge: record.signedChallenge, expiresAt: approval.expiresAt)
        }
        return JSONList("approvals", items)
    }

    /// The device's answer. Approve: the number and a signature over
    /// SHA-256(challenge ‖ "number:<n>") pass the device-key factor, a wrong one counts as a
    /// failure. Deny: the approval ends and nothing passes.
    public func answerPush(approvalID: String, factorID: String, approve: Bool, number: Int, signature: [UInt8]) async throws -> PushResult
    {
        guard
            let approval = try await AuthRepository.approval(approvalID, database: database), approval.status == "pending"
        else { throw GateRefusal.verificationFailed }
        let hash = approval.tokenHash
        guard approve else {
            try await store.transact { scope in
                try await AuthRepository.setApprovalStatus(approvalID, to: "denied", onlyIfPending: true, scope: scope)
                var payload = JSONBuilder()
                payload.string("approval_id", approvalID)
                scope.audit("push_denied", payload: payload.json)
            }
            return .denied
        }
        _ = try await verify(
            hash: hash, token: nil, .push(approvalID: approvalID, factorID: factorID, number: number, signature: signature)
        )
        return .approved
    }
}
