import Foundation
import SCAAudit
import SCAAuth
import SCAContract
import SCAPrimitives
import SCARules
import SCAStore
import SQLKit

/// The one-time tokens of protected calls: issued with a challenge bound to the exact
/// request (and the payment, for a payment), passed factor by factor, used once.
extension AuthService {
    /// The token's own random part of the bytes a device key or passkey signs.
    static let tokenNonceBytes = 16
    /// SMS codes: digits, and sends counted per user in windows of this length
    /// (`auth.sms.sends_per_hour`).
    public static let smsCodeDigits = 6
    public static let smsWindow: Instant.Duration = .minutes(60)

    /// The binding of a request: SHA-256 over its method, path with query, body digest and
    /// acting user. The approval is only good for this exact request by this user.
    public static func binding(method: String, path: String, body: [UInt8], userID: String) -> [UInt8] {
        Secrets.sha256(Array("\(method)\n\(path)\n\(hex(Secrets.sha256(body)))\n\(userID)".utf8))
    }

    /// Issues a token for `userID` inside the protected call's transaction.
    nonisolated(nonsending) func issueToken(
        scope: TransactionScope, userID: String, action: String, binding: [UInt8], link: PaymentLink?, decisionID: String?
    ) async throws -> String {
        let factors = try await AuthRepository.usableFactorKinds(userID: userID, scope: scope)
        let offered = Set(factors.compactMap(FactorKind.init(rawValue:))).sorted()
        guard isStrong(offered) else {
            throw GateRefusal(.scaUnavailable, "the user has no two usable factors of different categories")
        }
        let token = Secrets.bearerToken()
        let hash = sha256Hex(token)
        try await AuthRepository.insertToken(
            hash: hash, userID: userID, action: action, binding: binding, link: link, decisionID: decisionID,
            nonce: Secrets.randomBytes(Self.tokenNonceBytes), offered: offered, expiresAt: scope.now + settings.challengeLifetime,
            scope: scope
        )
        var payload = JSONBuilder()
        payload.string("token", String(hash.prefix(16)))
        payload.string("user_id", userID)
        payload.string("action", action)
        payload.string("decision_id", decisionID)
        payload.string("display_text", link?.displayText)
        scope.audit("token_issued", payload: payload.json)
        return token
    }

    func token(_ token: String?) async throws -> TokenRecord? {
        guard let token = Secrets.bearer(token) else { return nil }
        return try await AuthRepository.token(hash: sha256Hex(token), database: database)
    }

    nonisolated(nonsending) static func lockedToken(_ token: String, scope: TransactionScope) async throws -> TokenRecord? {
        try await AuthRepository.lockedToken(hash: sha256Hex(token), scope: scope)
    }

    // MARK: Status

    /// `GET /v1/one-time-token/status`; nil for an unknown token.
    public func status(token: String?) async throws -> TokenStatus? {
        guard let record = try await self.token(token), let token else { return nil }
        return Self.status(record, token: token, at: store.clock.now())
    }

    static let preference: [FactorKind] = [.pin, .deviceKey, .totp, .sms, .webauthn]

    static func status(_ record: TokenRecord, token: String, at now: Instant) -> TokenStatus {
        let challenge = record.challenge
        let offeredCategories = Set(challenge.offered.map(\.category))
        let groups = FactorCategory.allCases.filter(offeredCategories.contains).map { category in
            let kinds = preference.filter { $0.category == category && challenge.offered.contains($0) }
            return TokenStatus.Group(
                category: category, primary: kinds[0], alternatives: Array(kinds.dropFirst()),
                required: offeredCategories.count <= 2, passed: challenge.passed.contains { $0.category == category })
        }
        return TokenStatus(
            oneTimeToken: token, actionType: record.action, state: challenge.state(at: now).rawValue,
            validitySeconds: max(0, (challenge.expiresAt - now).milliseconds / 1000), expiresAt: challenge.expiresAt,
            displayText: record.displayText, categoriesRequired: 2, challenges: groups)
    }

    // MARK: Challenges to sign

    public func deviceKeyChallenge(token: String?) async throws -> SigningChallenge {
        guard let record = try await self.token(token), record.challenge.offered.contains(.deviceKey) else {
            throw GateRefusal.verificationFailed
        }
        return SigningChallenge(challenge: record.signedChallenge)
    }

    public func passkeyOptions(token: String?) async throws -> PasskeyRequestOptions {
        guard let record = try await self.token(token), record.challenge.offered.contains(.webauthn) else {
            throw GateRefusal.verificationFailed
        }
        let credentials = try await factorRecords(userID: record.userID).filter { $0.kind == .webauthn && $0.isActive }
            .compactMap(\.credentialID)
        return PasskeyRequestOptions(
            challenge: record.signedChallenge, relyingPartyID: settings.relyingParty.id, allowCredentials: credentials,
            timeoutMilliseconds: settings.challengeLifetime.milliseconds)
    }

    // MARK: Verification

    /// The answer a verification checks, with what it needs.
    public enum Answer: Sendable {
        case pin(String)
        case totp(String)
        case sms(String)
        case deviceKey(factorID: String, signature: [UInt8])
        case webauthn(credentialID: String, clientDataJSON: [UInt8], authenticatorData: [UInt8], signature: [UInt8])
        /// A decoupled approval on the device: the number picked and the signature over it.
        case push(approvalID: String, factorID: String, number: Int, signature: [UInt8])

        var kind: FactorKind {
            switch self {
            case .pin: .pin
            case .totp: .totp
            case .sms: .sms
            case .deviceKey, .push: .deviceKey
            case .webauthn: .webauthn
            }
        }
    }

    private enum Verdict: Sendable {
        case passed(TokenStatus?)
        case failed
    }

    /// Checks one answer against the token's challenge and the user's factor; returns the
    /// token's status. Every refusal is `GateRefusal.verificationFailed`, whatever its
    /// cause; a wrong answer counts against the factor (and may block it), an answer to a
    /// blocked factor is not even checked.
    public func verify(token: String?, _ answer: Answer) async throws -> TokenStatus {
        guard let token = Secrets.bearer(token) else { throw GateRefusal.verificationFailed }
        guard let status = try await verify(hash: sha256Hex(token), token: token, answer) else {
            throw StorageError.corrupt("a verification with the token answered no status")
        }
        return status
    }

    /// `token` is the token itself when the caller holds it (its status is answered), nil
    /// for a decoupled approval, which only knows the token's hash (and gets nil).
    func verify(hash: String, token: String?, _ answer: Answer) async throws -> TokenStatus? {
        // The expensive checks (a PIN's hash, a signature) run first, outside the writer's
        // transaction; the transaction applies their results to the rows as it finds them.
        let checkedPIN = try await checkPIN(hash: hash, answer)
        let signed = try await checkSignature(hash: hash, answer)
        let verdict: Verdict = try await store.transact { scope in
            var (record, factor) = try await self.lockTokenAndFactor(
                hash: hash, answer, checkedPIN: checkedPIN, signed: signed, scope: scope)
            let correct = try await self.isCorrect(
                answer, factor: &factor, record: &record, checkedPIN: checkedPIN, signed: signed, scope: scope)
            guard correct else {
                try await self.recordFailure(of: &factor, record: record, scope: scope)
                return .failed
            }
            try await self.recordPass(of: &factor, record: &record, answer: answer, scope: scope)
            return .passed(token.map { Self.status(record, token: $0, at: scope.now) })
        }
        switch verdict {
        case .passed(let status): return status
        case .failed: throw GateRefusal.verificationFailed
        }
    }

    /// The token and the factor `answer` is for, locked: refused uncounted when the token
    /// does not take this kind now, no factor is open, or a signature checked before does
    /// not apply to them any more.
    nonisolated(nonsending) private func lockTokenAndFactor(
        hash: String, _ answer: Answer, checkedPIN: CheckedPIN?, signed: SignatureCheck?, scope: TransactionScope
    ) async throws -> (TokenRecord, FactorRecord) {
        let policy = settings.attemptPolicy
        guard
            let record = try await AuthRepository.lockedToken(hash: hash, scope: scope)
        else { throw GateRefusal.verificationFailed }
        let now = scope.now
        guard case .success = record.challenge.accepts(answer.kind, at: now) else { throw GateRefusal.verificationFailed }
        let selector: AuthRepository.FactorSelector
        switch answer {
        case .deviceKey(let factorID, _), .push(_, let factorID, _, _): selector = .id(factorID)
        case .webauthn(let credentialID, _, _, _): selector = .credential(credentialID)
        case .pin: selector = .id(checkedPIN?.factorID ?? "")
        case .totp, .sms: selector = .any
        }
        let factors = try await AuthRepository.lockedFactors(userID: record.userID, kind: answer.kind, selector, scope: scope)
        guard let factor = factors.first(where: { policy.availability($0.counter, at: now) == .open }) else {
            throw GateRefusal.verificationFailed
        }
        // A signature was checked against this factor's key and this token's challenge:
        // anything else now (a race with a change of either) is refused uncounted.
        if let signed, !signed.applies(to: factor, record) { throw GateRefusal.verificationFailed }
        return (record, factor)
    }

    /// Whether `answer` is right for `factor`; moves what a right answer uses up (a TOTP
    /// step, an SMS code, a passkey's counter, a push approval).
    nonisolated(nonsending) private func isCorrect(
        _ answer: Answer, factor: inout FactorRecord, record: inout TokenRecord, checkedPIN: CheckedPIN?, signed: SignatureCheck?,
        scope: TransactionScope
    ) async throws -> Bool {
        let now = scope.now
        let correct: Bool
        switch answer {
        case .pin:
            correct = checkedPIN?.correct ?? false
        case .totp(let code):
            guard let sealed = Base64URL.decode(factor.secret),
                let seed = try? box.open(sealed, context: "totp:" + factor.id)
            else { throw StorageError.corrupt("TOTP seed of \(factor.id) does not open") }
            if let step = totp.acceptedStep(
                code: code, seed: String(decoding: seed, as: UTF8.self), at: now, lastAcceptedStep: factor.lastStep
            ) {
                factor.lastStep = step
                correct = true
            } else {
                correct = false
            }
        case .sms(let code):
            let expected = Secrets.hmac(key: pepper, Array("sms:\(record.hash):\(code)".utf8))
            correct =
                record.otpHash.flatMap(bytes(fromHex:)).map { constantTimeEqual($0, expected) } == true
                && (record.otpExpiresAt ?? 0) > now.millisecondsSinceEpoch
            if correct {
                record.otpHash = nil
                record.otpExpiresAt = nil
            }
        case .deviceKey:
            correct = signed?.valid == true
        case .push(let approvalID, _, let number, _):
            // Number matching: the device signs the challenge with the number the
            // customer picked; only the number shown on the other screen passes.
            guard
                let approval = try await AuthRepository.lockedApproval(approvalID, tokenHash: record.hash, scope: scope),
                approval.status == "pending", approval.expiresAt > now
            else { throw GateRefusal.verificationFailed }
            correct = Int64(number) == approval.number && signed?.valid == true
            try await AuthRepository.setApprovalStatus(approvalID, to: correct ? "approved" : "failed", scope: scope)
        case .webauthn:
            if let count = signed?.signCount,
                (try? WebAuthnRelyingParty.checkSignCount(count, stored: UInt32(clamping: factor.signCount))) != nil
            {
                factor.signCount = Int64(count)
                correct = true
            } else {
                correct = false
            }
        }
        return correct
    }

    /// A wrong answer: counted against the factor (RTS Art. 4(3)(b)), with its audit events.
    nonisolated(nonsending) private func recordFailure(of factor: inout FactorRecord, record: TokenRecord, scope: TransactionScope)
        async throws
    {
        let policy = settings.attemptPolicy
        let now = scope.now
        var payload = Self.attemptPayload(factor: factor, record: record)
        let outcome = policy.recordFailure(&factor.counter, at: now)
        try await factor.saveCounters(scope)
        switch outcome {
        case .failed(let remaining, let permanentNext):
            payload.integer("remaining", Int64(remaining))
            scope.audit("factor_failed", payload: payload.json)
            if permanentNext, remaining == 1 { scope.audit("factor_block_warning", payload: payload.json) }
        case .temporarilyBlocked(let until, let permanentNext):
            payload.integer("remaining", 0)
            scope.audit("factor_failed", payload: payload.json)
            payload.string("blocked_until", until.rfc3339)
            payload.bool("permanent_next", permanentNext)
            scope.audit("factor_blocked", payload: payload.json)
        case .permanentlyBlocked:
            payload.integer("remaining", 0)
            scope.audit("factor_failed", payload: payload.json)
            scope.audit("factor_blocked_permanently", payload: payload.json)
        }
    }

    /// A right answer: the factor's counter reset, the pass recorded on the token, and the
    /// approval audited once the token has two categories.
    nonisolated(nonsending) private func recordPass(
        of factor: inout FactorRecord, record: inout TokenRecord, answer: Answer, scope: TransactionScope
    ) async throws {
        let now = scope.now
        settings.attemptPolicy.recordSuccess(&factor.counter)
        try await factor.saveCounters(scope)
        try record.challenge.recordPass(answer.kind, at: now)
        try await AuthRepository.savePasses(of: record, scope: scope)
        scope.audit("factor_passed", payload: Self.attemptPayload(factor: factor, record: record).json)
        if record.challenge.state(at: now) == .approved {
            var approved = JSONBuilder()
            approved.string("token", record.reference)
            approved.string("user_id", record.userID)
            approved.string("factors", record.challenge.passed.map(\.rawValue).joined(separator: ","))
            scope.audit("challenge_approved", payload: approved.json)
        }
    }

    static func attemptPayload(factor: FactorRecord, record: TokenRecord) -> JSONBuilder {
        var payload = JSONBuilder()
        payload.string("token", record.reference)
        payload.string("user_id", record.userID)
        payload.string("factor_id", factor.id)
        payload.string("kind", factor.kind.rawValue)
        return payload
    }

    /// A PIN checked against the user's active PIN factor, off the request threads (the
    /// hash is the expensive part); the attempt is recorded in the transaction, against the
    /// same factor, or refused if that factor got blocked meanwhile. Nil for other answers.
    /// A PIN's check, made before the transaction: which factor, and whether it was right.
    typealias CheckedPIN = (factorID: String, correct: Bool)

    private func checkPIN(hash: String, _ answer: Answer) async throws -> CheckedPIN? {
        guard case .pin(let pin) = answer else { return nil }
        let now = store.clock.now()
        guard
            let record = try await AuthRepository.token(hash: hash, database: database),
            case .success = record.challenge.accepts(.pin, at: now),
            let factor = try await factorRecords(userID: record.userID).first(where: { $0.kind == .pin && $0.isActive }),
            settings.attemptPolicy.availability(factor.counter, at: now) == .open
        else { throw GateRefusal.verificationFailed }
        let hasher = self.hasher
        let stored = factor.secret
        guard let correct = await pins.run({ hasher.verify(pin, against: stored) }) else {
            throw GateRefusal(.busy, "too many PIN checks in progress; try again")
        }
        return (factor.id, correct)
    }

    /// A signature (device key, push, passkey) checked before the transaction, against
    /// what the reader sees of the token and the factor.
    struct SignatureCheck: Sendable {
        let factorID: String
        /// The factor's public key as stored, and the challenge that was signed over.
        let key: String
        let challenge: [UInt8]
        let valid: Bool
        /// A passkey's signature counter; the transaction checks it against the stored one.
        let signCount: UInt32?

        /// Whether the check was made against this factor's key and this token's challenge.
        func applies(to factor: FactorRecord, _ record: TokenRecord) -> Bool {
            factor.id == factorID && factor.secret == key && record.signedChallenge == challenge
        }
    }

    /// Checks the answer's signature, if it carries one, on the caller's thread. A token or
    /// factor that cannot be found is refused as the transaction would refuse it.
    private func checkSignature(hash: String, _ answer: Answer) async throws -> SignatureCheck? {
        let selector: AuthRepository.FactorSelector
        switch answer {
        case .pin, .totp, .sms: return nil
        case .deviceKey(let factorID, _), .push(_, let factorID, _, _): selector = .id(factorID)
        case .webauthn(let credentialID, _, _, _): selector = .credential(credentialID)
        }
        guard
            let record = try await AuthRepository.token(hash: hash, database: database),
            let factor = try await AuthRepository.activeFactor(userID: record.userID, kind: answer.kind, selector, database: database)
        else { throw GateRefusal.verificationFailed }
        signatureChecks.withLock {
            $0.total += 1
            if database.isOnWriterThread { $0.onWriter += 1 }
        }
        let challenge = record.signedChallenge
        var valid = false
        var signCount: UInt32?
        switch answer {
        case .pin, .totp, .sms:
            return nil
        case .deviceKey(_, let signature):
            let key = Base64URL.decode(factor.secret).flatMap { try? DeviceKey(encoded: $0) }
            valid = key?.verify(signature: signature, over: challenge) == true
        case .push(_, _, let number, let signature):
            let key = Base64URL.decode(factor.secret).flatMap { try? DeviceKey(encoded: $0) }
            valid = key?.verify(signature: signature, over: Self.pushMessage(record, number: number)) == true
        case .webauthn(_, let clientData, let authenticatorData, let signature):
            guard let keyBytes = Base64URL.decode(factor.secret), let key = try? CBOR.decode(keyBytes) else {
                throw StorageError.corrupt("passkey of \(factor.id) does not decode")
            }
            signCount = try? settings.relyingParty.verifyAssertion(
                publicKey: key, clientDataJSON: clientData, authenticatorData: authenticatorData,
                signature: signature, challenge: challenge
            )
            valid = signCount != nil
        }
        return SignatureCheck(factorID: factor.id, key: factor.secret, challenge: challenge, valid: valid, signCount: signCount)
    }

    // MARK: SMS

    /// Sends a one-time code to the user's phone for this token (SMS, WhatsApp or voice):
    /// stored only as an HMAC under the pepper, limited per user and hour.
    public func triggerSMS(token: String?, channel requested: String?) async throws -> CodeSent {
        guard let messages else { throw GateRefusal(.scaUnavailable, "no SMS sender is configured") }
        guard let token = Secrets.bearer(token) else { throw GateRefusal.verificationFailed }
        if let requested, !Self.smsChannels.contains(requested) { throw GateRefusal(.invalid, "channel: sms, whatsapp or voice") }
        let policy = settings.attemptPolicy
        let perHour = Int64(settings.smsSendsPerHour)
        let box = self.box
        let pepper = self.pepper
        let (phone, channel, code, hint, expires): (String, String, String, String, Int64) = try await store.transact { scope in
            guard var record = try await Self.lockedToken(token, scope: scope),
                case .success = record.challenge.accepts(.sms, at: scope.now)
            else { throw GateRefusal.verificationFailed }
            let factors = try await AuthRepository.lockedFactors(userID: record.userID, kind: .sms, .any, scope: scope)
            guard let factor = factors.first(where: { policy.availability($0.counter, at: scope.now) == .open }) else {
                throw GateRefusal.verificationFailed
            }
            let now = scope.now.millisecondsSinceEpoch
            guard
                let window = try await AuthRepository.lockedSMSWindow(userID: record.userID, scope: scope)
            else { throw GateRefusal.verificationFailed }
            var (start, count) = window
            if now - start >= Self.smsWindow.milliseconds {
                start = now
                count = 0
            }
            guard count < perHour else { throw GateRefusal(.rateLimited, "too many codes sent; try again later") }
            try await AuthRepository.saveSMSWindow(userID: record.userID, start: start, count: count + 1, scope: scope)
            guard let sealed = Base64URL.decode(factor.secret), let opened = try? box.open(sealed, context: "phone:" + factor.id)
            else { throw StorageError.corrupt("phone of \(factor.id) does not open") }
            let parts = String(decoding: opened, as: UTF8.self).split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw StorageError.corrupt("phone of \(factor.id) is malformed") }
            let code = OneTimeCode.numeric(digits: Self.smsCodeDigits)
            record.otpHash = hex(Secrets.hmac(key: pepper, Array("sms:\(record.hash):\(code)".utf8)))
            // The code lives as long as the token (at most the code lifetime, RTS Art. 4).
            let expires = record.challenge.expiresAt.millisecondsSinceEpoch
            try await AuthRepository.saveCode(of: record, expiresAt: expires, scope: scope)
            var payload = JSONBuilder()
            payload.string("token", record.reference)
            payload.string("factor_id", factor.id)
            payload.string("channel", requested ?? parts[0])
            scope.audit("otp_sent", payload: payload.json)
            return (parts[1], requested ?? parts[0], code, factor.hint ?? "", (expires - now) / 1000)
        }
        messages.send(
            .init(
                to: phone, channel: channel, text: "Your SCA demo bank code is \(code). Never share it.", at: store.clock.now().rfc3339
            ))
        return CodeSent(sentTo: hint, channel: channel, expiresInSeconds: expires)
    }

    // MARK: Using an approval

    /// Uses an approved token for the request it was bound to, once, by its user: inside
    /// the protected call's transaction, so the action and the use commit together.
    nonisolated(nonsending) static func consumeToken(_ token: String, binding: [UInt8], userID: String, scope: TransactionScope)
        async throws -> TokenRecord
    {
        guard var record = try await lockedToken(token, scope: scope), record.userID == userID else {
            throw GateRefusal(.approvalInvalid, "the approval is unknown or was given to another user")
        }
        do {
            try record.challenge.consume(binding: binding, at: scope.now)
        } catch {
            throw GateRefusal(.approvalInvalid, "the approval cannot be used: \(error.rawValue)")
        }
        try await AuthRepository.consumeToken(hash: record.hash, scope: scope)
        var payload = JSONBuilder()
        payload.string("token", record.reference)
        payload.string("user_id", userID)
        payload.string("action", record.action)
        payload.string("decision_id", record.decisionID)
        scope.audit("approval_used", payload: payload.json)
        return record
    }
}
