import Crypto
import Foundation
import SCAAudit
import SCAAuth
import SCACards
import SCAContract
import SCAGate
import SCAPrimitives
import SCARules
import SCAStore
import SQLKit
import Synchronization

/// What the payments API is configured with.
public struct PaymentSettings: Sendable {
    public var merchant: Merchant
    public var enabledExemptions: Set<CardExemption>
    public var threeDS1Fallback: Bool
    public var economics: ExemptionOptimizer.Economics
    /// The simulated issuers (the sandbox's when none are configured).
    public var issuers: [IssuerProfile]

    public static let demoMerchant = Merchant(id: "demo-shop", name: "Demo Shop", country: "NL")

    public init(
        merchant: Merchant = PaymentSettings.demoMerchant, enabledExemptions: Set<CardExemption> = Acquirer.Settings.defaultExemptions,
        threeDS1Fallback: Bool = false, economics: ExemptionOptimizer.Economics = .init(), issuers: [IssuerProfile] = Sandbox.issuers
    ) {
        self.merchant = merchant
        self.enabledExemptions = enabledExemptions
        self.threeDS1Fallback = threeDS1Fallback
        self.economics = economics
        self.issuers = issuers
    }
}

/// The payments API's service: validates, runs the acquirer's flow against the simulated
/// networks, and keeps every payment, its trace and its audit events in storage, each step
/// in one transaction. Idempotency keys make a retry return the first answer unchanged.
public final class PaymentService: Sendable {
    public let store: DecisionStore
    let repository: PaymentRepository
    public let acquirer: Acquirer
    let box: SecretBox
    let fingerprintKey: [UInt8]
    let optimizer: Mutex<ExemptionOptimizer>
    /// Requests under way per idempotency key: a concurrent duplicate waits for the first.
    let inFlight = Mutex<[String: Task<Answer, any Error>]>([:])
    /// The store's clock: the payment's own rules and its transactions see one `now`.
    var clock: EngineClock { store.clock }

    public struct Answer: Sendable {
        public let json: String
        public let created: Bool
        public let replayed: Bool
    }

    public init(store: DecisionStore, settings: PaymentSettings, masterKey: [UInt8], pepper: [UInt8]) async throws {
        self.store = store
        repository = PaymentRepository(database: store.database)
        box = try SecretBox(masterKey: masterKey)
        fingerprintKey = Array(SHA256.hash(data: pepper + Array("card-fingerprint".utf8)))
        let network = try CardNetwork(profiles: settings.issuers, rules: store.engine.configuration, key: masterKey)
        acquirer = Acquirer(
            settings: .init(
                merchant: settings.merchant, enabledExemptions: settings.enabledExemptions, threeDS1Fallback: settings.threeDS1Fallback),
            network: network, engine: store.engine
        )
        var learned = ExemptionOptimizer(economics: settings.economics)
        for stat in try await repository.optimizerStatistics() {
            learned.learner.load(key: stat.key, successes: Double(stat.successes), failures: Double(stat.failures))
        }
        optimizer = Mutex(learned)
    }

    static func invalid(_ message: String) -> GateRefusal { GateRefusal(.invalid, message) }

    /// An Idempotency-Key sent again with a different request.
    public struct IdempotencyKeyReused: Error, Sendable {}

    // MARK: Creating a payment

    /// A new payment of `owner`'s (a merchant's tenant); `idempotencyKey` is the client's own.
    public func create(body: [UInt8], idempotencyKey: String?, owner: ResourceOwner) async throws -> Answer {
        let value: JSONValue
        do { value = try JSONParser.parse(body) } catch {
            throw GateRefusal(.invalid, "the body is not valid JSON: \(error.message)")
        }
        guard case .object(let object) = value else { throw Self.invalid("the body must be a JSON object") }
        let request = try PaymentRequest.parse(object, rates: store.engine.configuration.referenceRates)
        let digest = hex(Array(SHA256.hash(data: body)))
        guard let key = owner.storedKey(idempotencyKey) else { return try await process(request, digest: digest, key: nil, owner: owner) }
        if let stored = try await replay(key: key, digest: digest) { return stored }
        let (task, leads): (Task<Answer, any Error>, Bool) = inFlight.withLock { running in
            if let task = running[key] { return (task, false) }
            let task = Task { try await self.process(request, digest: digest, key: key, owner: owner) }
            running[key] = task
            return (task, true)
        }
        defer { if leads { inFlight.withLock { $0[key] = nil } } }
        do {
            let answer = try await task.value
            return leads ? answer : Answer(json: answer.json, created: false, replayed: true)
        } catch let refusal as GateRefusal {
            throw refusal
        } catch let reused as IdempotencyKeyReused {
            throw reused
        } catch {
            // Another node may have stored this key first: its answer stands.
            if let stored = try await replay(key: key, digest: digest) { return stored }
            throw error
        }
    }

    /// The first answer given for the payment `key` names, when there is one.
    func replay(key: String, digest: String) async throws -> Answer? {
        try Self.replayed(try await repository.paymentAnswer(idempotencyKey: key), digest: digest)
    }

    /// The first answer given for the capture `key` names, when there is one.
    func captureReplay(key: String, digest: String) async throws -> Answer? {
        try Self.replayed(try await repository.captureAnswer(idempotencyKey: key), digest: digest)
    }

    /// A stored answer as a replay; a different request under the same key (another
    /// digest) is refused.
    private static func replayed(_ stored: (digest: String, answer: String)?, digest: String) throws -> Answer? {
        guard let stored else { return nil }
        guard stored.digest == digest else { throw IdempotencyKeyReused() }
        return Answer(json: stored.answer, created: false, replayed: true)
    }

    func process(_ request: PaymentRequest, digest: String, key: String?, owner: ResourceOwner) async throws -> Answer {
        let tenant = owner.tenant
        let id = Secrets.identifier("pay")
        let now = clock.now()
        let card: CardNumber
        let expiry: (month: Int, year: Int)
        var sourceID: String?
        switch request.source {
        case .card(let number, let month, let year):
            card = number
            expiry = (month, year)
        case .stored(let stored):
            guard let sealed = try await repository.sealedSource(stored, tenant: tenant),
                let parsed = openSealed(sealed, context: "source:" + stored)
            else { throw GateRefusal(.notFound, "source.id: no stored card \(stored)") }
            card = parsed.card
            expiry = (parsed.month, parsed.year)
            sourceID = stored
        }
        let fingerprint = card.fingerprint(key: fingerprintKey)
        var mandateValid = false
        if request.merchantInitiated, let previous = request.previousPaymentID {
            mandateValid = try await repository.isMandate(previous, fingerprint: fingerprint, tenant: tenant)
        }
        let instruction = PaymentInstruction(
            id: id, card: card, amount: request.amount, merchant: acquirer.settings.merchant, paymentType: request.paymentType,
            merchantInitiated: request.merchantInitiated, previousPaymentID: request.previousPaymentID, mandateValid: mandateValid,
            setsUpMandate: !request.merchantInitiated && (request.storeForFutureUse || request.paymentType.startsSeries),
            threeDS: request.threeDS, risk: request.risk
        )
        var outcome: PaymentOutcome
        if Self.expired(month: expiry.month, year: expiry.year, at: now) {
            outcome = Acquirer.declined(
                ResponseCode.expiredCard, path: .declined,
                sca: SCASummary(regime: nil, outcome: "refused", reason: "expired_card", citation: "", notApplied: []),
                notes: ["the card has expired"], trace: []
            )
        } else {
            outcome = acquirer.begin(instruction, at: now, chooser: { context in self.choose(context) })
        }
        let issuer = acquirer.network.issuer(of: card)?.profile
        let stored = StoredRequest(
            request: request, card: card, fingerprint: fingerprint, sourceID: sourceID, expiry: expiry,
            scheme: issuer?.scheme.rawValue, issuer: issuer?.name, issuerCountry: issuer?.country
        )
        let observations = outcome.observations
        outcome.observations = []
        let final = outcome
        // Sealed and encoded before the transaction: the writer's thread only runs statements.
        var record = stored
        let newSource = final.status == .authorized && request.storeForFutureUse && stored.sourceID == nil ? sealSource(card, expiry) : nil
        if let newSource { record.sourceID = newSource.id }
        let encoded = try Encoded(id: id, request: record, outcome: final, createdAt: now)
        let sealed =
            final.status == .pending ? Base64URL.encode(box.seal(Array(Self.sealedText(card, expiry).utf8), context: "payment:" + id)) : nil
        let answer = try await store.transact { scope in
            let outcome = final
            if let newSource {
                try await PaymentRepository.insertSource(
                    id: newSource.id, tenant: tenant, fingerprint: fingerprint, sealedCard: newSource.sealed, scope: scope)
            }
            try await PaymentRepository.insertPayment(
                id: id, tenant: tenant, idempotencyKey: key, digest: digest, outcome: outcome, fingerprint: fingerprint, sealedCard: sealed,
                amount: request.amount, encoded: encoded, scope: scope
            )
            try await self.recordSideEffects(
                id: id, step: "created", outcome: outcome, traceDigest: encoded.traceDigest, observations: observations,
                offSession: request.merchantInitiated, scope: scope
            )
            return encoded.answer
        }
        learn(observations)
        return Answer(json: answer, created: true, replayed: false)
    }

    // MARK: The challenge

    public func challengeView(_ acsTransID: String) -> SimulatedIssuer.ChallengeView? {
        acquirer.network.issuer(ofChallenge: acsTransID)?.challengeView(acsTransID)
    }

    public enum ChallengeReply: Sendable, Equatable {
        case retry(remaining: Int)
        case finished(paymentID: String, transStatus: String)
    }

    /// A CReq from the challenge page; when the challenge ends, the RReq completes the payment.
    public func answerChallenge(_ acsTransID: String, _ answer: SimulatedIssuer.ChallengeAnswer) async throws -> ChallengeReply {
        guard let issuer = acquirer.network.issuer(ofChallenge: acsTransID) else { throw GateRefusal(.notFound, "no such challenge") }
        switch issuer.answerChallenge(acsTransID, answer, at: clock.now()) {
        case .unknown: throw GateRefusal(.notFound, "no such challenge")
        case .retry(let remaining): return .retry(remaining: remaining)
        case .finished(let result):
            let id = try await complete(acsTransID: acsTransID, result: result)
            return .finished(paymentID: id, transStatus: result.transStatus.rawValue)
        }
    }

    /// Applies a finished challenge's result to its pending payment, once.
    func complete(acsTransID: String, result: AuthenticationResult?) async throws -> String {
        guard let row = try await repository.payment(challenge: acsTransID) else {
            throw GateRefusal(.notFound, "no payment waits for this challenge")
        }
        let id = row.id
        var outcome = try Self.decode(PaymentOutcome.self, row.outcome)
        guard outcome.status == .pending else { return id }
        let request = try Self.decode(StoredRequest.self, row.request)
        let now = clock.now()
        // The card, unsealed once: to authorise after the challenge and to store it if asked.
        let sealed = row.sealedCard
        let card = sealed.flatMap { openSealed($0, context: "payment:" + id) }
        if let result, let card {
            outcome = acquirer.completeChallenge(
                request.instruction(id: id, card: card.card, merchant: acquirer.settings.merchant), outcome: outcome, result: result,
                at: now
            )
        } else {
            // The issuer no longer knows the challenge (a restart): it was never completed.
            outcome.notes.append("the challenge was not completed in time")
            outcome.nextAction = nil
            outcome.challengeURL = nil
            outcome.status = .declined
            outcome.responseCode = ResponseCode.authenticationNotCompleted
        }
        let observations = outcome.observations
        outcome.observations = []
        // Sealed and encoded before the transaction: the writer's thread only runs statements.
        var record = request
        let newSource =
            outcome.status == .authorized && record.storeForFutureUse && record.sourceID == nil
            ? card.map { sealSource($0.card, (month: $0.month, year: $0.year)) } : nil
        if let newSource { record.sourceID = newSource.id }
        let final = outcome
        let encodedOutcome = try Self.encode(final)
        let encodedRequest = try Self.encode(record)
        let traceDigest = try Encoded.traceDigest(final)
        let stillSealed = final.status == .pending ? sealed : nil
        let (fingerprint, offSession, tenant) = (record.fingerprint, record.merchantInitiated, row.tenant)
        let applied = try await store.transact { scope -> Bool in
            // Conditional: of two completions racing, one applies.
            guard try await PaymentRepository.lockedStatus(id, scope: scope) == PaymentStatus.pending.rawValue else { return false }
            if let newSource {
                try await PaymentRepository.insertSource(
                    id: newSource.id, tenant: tenant, fingerprint: fingerprint, sealedCard: newSource.sealed, scope: scope)
            }
            try await PaymentRepository.updateAfterChallenge(
                id, outcome: final, encodedOutcome: encodedOutcome, encodedRequest: encodedRequest, sealedCard: stillSealed, scope: scope
            )
            try await self.recordSideEffects(
                id: id, step: "challenge_completed", outcome: final, traceDigest: traceDigest, observations: observations,
                offSession: offSession, scope: scope
            )
            return true
        }
        // Of two completions racing, only the one that applied teaches the optimizer.
        if applied { learn(final.observations) }
        return id
    }

    // MARK: Reading

    /// A payment of `owner`'s; another tenant's is not found.
    public func payment(_ id: String, owner: ResourceOwner) async throws -> PaymentView {
        try await expireIfStale(id, tenant: owner.tenant)
        guard let row = try await repository.payment(id, tenant: owner.tenant) else { throw GateRefusal(.notFound, "payment not found") }
        return try PaymentView(
            id: id, request: try Self.decode(StoredRequest.self, row.request), outcome: try Self.decode(PaymentOutcome.self, row.outcome),
            captured: row.captured, createdAt: row.createdAt
        )
    }

    /// A pending payment whose challenge has outlived its lifetime ends as not completed; so
    /// does one whose challenge the issuer no longer knows (it restarted) after that lifetime.
    func expireIfStale(_ id: String, tenant: String) async throws {
        guard let (acs, since) = try await repository.pendingChallenge(id, tenant: tenant) else { return }
        let now = clock.now()
        if let issuer = acquirer.network.issuer(ofChallenge: acs) {
            guard issuer.challengeExpired(acs, at: now) == true,
                case .finished(let result) = issuer.answerChallenge(acs, .cancel, at: now)
            else { return }
            _ = try await complete(acsTransID: acs, result: result)
            return
        }
        guard now > since + store.engine.configuration.authenticationCodeLifetime else { return }
        _ = try await complete(acsTransID: acs, result: nil)
    }

    /// The payment's 3DS messages and decisions, in order, for chargeback defence.
    public func trace(_ id: String, owner: ResourceOwner) async throws -> PaymentTrace {
        guard let row = try await repository.payment(id, tenant: owner.tenant) else { throw GateRefusal(.notFound, "payment not found") }
        let outcome = try Self.decode(PaymentOutcome.self, row.outcome)
        return PaymentTrace(paymentID: id, sca: outcome.sca, optimizer: outcome.optimizer, notes: outcome.notes, messages: outcome.trace)
    }

    public static let notificationsMax = 100

    /// The newest notifications of `owner`'s payments.
    public func notifications(owner: ResourceOwner) async throws -> JSONList<PaymentNotification> {
        JSONList("notifications", try await repository.notifications(tenant: owner.tenant, limit: Self.notificationsMax))
    }

    public func sandboxCards() -> JSONList<SandboxCard> {
        let profiles = Dictionary(uniqueKeysWithValues: acquirer.network.issuers.map { ($0.profile.id, $0.profile) })
        let cards = Sandbox.cards.compactMap { card -> SandboxCard? in
            guard let profile = profiles[card.issuer] else { return nil }
            return SandboxCard(
                number: card.number, scheme: profile.scheme.rawValue, issuer: profile.name, issuerCountry: profile.country,
                label: card.label, behaviour: card.behaviour)
        }
        return JSONList("cards", cards)
    }

    // MARK: Captures

    public static let captureReferenceMax = 80

    /// Captures all or part of an authorized payment. With an Idempotency-Key, a retry gets
    /// the first answer and captures nothing more; the key with another request is refused.
    public func capture(
        _ id: String, body: JSONObject?, bodyBytes: [UInt8] = [], idempotencyKey: String? = nil, owner: ResourceOwner
    ) async throws -> Answer {
        let digest = hex(Array(SHA256.hash(data: Array(id.utf8) + [0] + bodyBytes)))
        let idempotencyKey = owner.storedKey(idempotencyKey)
        let tenant = owner.tenant
        if let key = idempotencyKey, let stored = try await captureReplay(key: key, digest: digest) { return stored }
        var amount: Int64?
        var reference = ""
        if let body {
            if let raw = body["amount"], raw != .null {
                guard case .number(let value) = raw, value == value.rounded(), value >= 1, value <= Double(PaymentRequest.amountMax) else {
                    throw Self.invalid("amount: a positive integer in minor units")
                }
                amount = Int64(value)
            }
            reference = try PaymentRequest.optionalText(body, "reference", in: nil) ?? ""
            guard reference.count <= Self.captureReferenceMax else {
                throw Self.invalid("reference: at most \(Self.captureReferenceMax) characters")
            }
        }
        let requested = amount
        let reference2 = reference
        do {
            let json = try await store.transact { scope in
                guard let row = try await PaymentRepository.lockedForCapture(id, tenant: tenant, scope: scope) else {
                    throw GateRefusal(.notFound, "payment not found")
                }
                let (status, total, captured) = (row.status, row.amount, row.captured)
                guard status == PaymentStatus.authorized.rawValue || status == PaymentStatus.partiallyCaptured.rawValue else {
                    throw GateRefusal(.conflict, "only an authorized payment can be captured (this one is \(status))")
                }
                let take = requested ?? (total - captured)
                guard take >= 1, captured + take <= total else {
                    throw Self.invalid("amount: at most the \(total - captured) minor units not yet captured")
                }
                let newStatus = captured + take == total ? PaymentStatus.captured : .partiallyCaptured
                let actionID = Secrets.identifier("act")
                var out = JSONBuilder()
                out.string("action_id", actionID)
                out.string("payment_id", id)
                out.integer("amount", take)
                out.string("status", newStatus.rawValue)
                out.string("reference", reference2)
                try await PaymentRepository.insertCapture(
                    id: actionID, paymentID: id, idempotencyKey: idempotencyKey, digest: digest, amount: take, reference: reference2,
                    answer: out.json, scope: scope
                )
                var outcome = try Self.decode(PaymentOutcome.self, row.outcome)
                outcome.status = newStatus
                try await PaymentRepository.addCaptured(
                    take, to: id, status: newStatus, encodedOutcome: try Self.encode(outcome), scope: scope)
                var payload = JSONBuilder()
                payload.string("payment_id", id)
                payload.string("action_id", actionID)
                payload.integer("amount", take)
                payload.string("status", newStatus.rawValue)
                scope.audit("card_payment_captured", payload: payload.json)
                return out.json
            }
            return Answer(json: json, created: true, replayed: false)
        } catch let refusal as GateRefusal {
            throw refusal
        } catch {
            // A concurrent retry under the same key committed first: its answer stands.
            if let key = idempotencyKey, let stored = try await captureReplay(key: key, digest: digest) { return stored }
            throw error
        }
    }

    // MARK: Helpers

    func choose(_ context: ExemptionOptimizer.Context) -> ExemptionOptimizer.Choice {
        optimizer.withLock { optimizer in
            var generator = SystemRandomNumberGenerator()
            return optimizer.choose(context, rates: optimizer.estimatedRates(context, using: &generator, explore: true))
        }
    }

    func learn(_ observations: [ExemptionOptimizer.Learner.Observation]) {
        guard !observations.isEmpty else { return }
        optimizer.withLock { optimizer in observations.forEach { optimizer.learner.observe($0) } }
    }

    /// Audit event, optimizer statistics and notification of one payment step.
    nonisolated(nonsending) func recordSideEffects(
        id: String, step: String, outcome: PaymentOutcome, traceDigest: String, observations: [ExemptionOptimizer.Learner.Observation],
        offSession: Bool, scope: TransactionScope
    ) async throws {
        var payload = JSONBuilder()
        payload.string("payment_id", id)
        payload.string("step", step)
        payload.string("status", outcome.status.rawValue)
        payload.string("response_code", outcome.responseCode)
        payload.string("path", outcome.path.rawValue)
        payload.string("sca_outcome", outcome.sca.outcome)
        payload.string("sca_reason", outcome.sca.reason)
        payload.string("trans_status", outcome.threeDS?.transStatus)
        payload.string("eci", outcome.threeDS?.eci)
        payload.string("exemption_applied", outcome.threeDS?.exemptionApplied)
        payload.string("liability", outcome.liability)
        payload.string("trace_digest", traceDigest)
        scope.audit("card_payment", payload: payload.json)
        for observation in observations {
            let (key, success) = ExemptionOptimizer.Learner.storageKey(observation)
            try await PaymentRepository.countOptimizerResult(key: key, success: success, scope: scope)
        }
        if outcome.nextAction == "customer_must_authenticate", offSession {
            let message = "payment \(id) needs the customer to come back and authenticate (soft decline 20154)"
            try await PaymentRepository.insertNotification(
                paymentID: id, kind: "customer_must_authenticate", message: message, scope: scope)
            var note = JSONBuilder()
            note.string("payment_id", id)
            note.string("kind", "customer_must_authenticate")
            scope.audit("card_payment_notification", payload: note.json)
        }
    }

    /// A stored card to be: its id and the card sealed under it (made before the
    /// transaction that inserts it).
    func sealSource(_ card: CardNumber, _ expiry: (month: Int, year: Int)) -> (id: String, sealed: String) {
        let id = Secrets.identifier("src")
        return (id, Base64URL.encode(box.seal(Array(Self.sealedText(card, expiry).utf8), context: "source:" + id)))
    }

    /// A payment's stored texts: its request, its outcome, its answer, and the digest of its
    /// trace that the audit event carries.
    struct Encoded: Sendable {
        var request: String
        var outcome: String
        var answer: String
        var traceDigest: String

        init(id: String, request stored: StoredRequest, outcome: PaymentOutcome, createdAt: Instant) throws {
            request = try PaymentService.encode(stored)
            // The parts the outcome shares with its digest (the trace, most of it) and with
            // the answer are encoded once.
            let parts = try PaymentService.Parts(outcome)
            let trace = try JSONValueEncoder.bytes(outcome.trace)
            var rest = outcome
            rest.trace = []
            rest.threeDS = nil
            rest.optimizer = nil
            var setting = ["trace": trace, "sca": Array(parts.sca.utf8)]
            if let threeDS = parts.threeDS { setting["3ds"] = Array(threeDS.utf8) }
            if let optimizer = parts.optimizer { setting["optimizer"] = Array(optimizer.utf8) }
            self.outcome = String(decoding: try JSONValueEncoder.bytes(rest, setting: setting), as: UTF8.self)
            answer =
                try PaymentView(
                    id: id, request: stored, outcome: outcome, captured: 0, createdAt: createdAt, parts: parts
                ).json
            traceDigest = Self.digest(ofTrace: trace)
        }

        static func traceDigest(_ outcome: PaymentOutcome) throws -> String {
            digest(ofTrace: try JSONValueEncoder.bytes(outcome.trace))
        }

        static func digest(ofTrace json: [UInt8]) -> String { hex(Array(SHA256.hash(data: json))) }
    }

    static func sealedText(_ card: CardNumber, _ expiry: (month: Int, year: Int)) -> String {
        "\(card.digits)|\(expiry.month)|\(expiry.year)"
    }

    /// A card sealed by `sealedText` (a pending payment's or a stored card's), or `nil`.
    func openSealed(_ text: String, context: String) -> (card: CardNumber, month: Int, year: Int)? {
        guard let sealed = Base64URL.decode(text), let opened = try? box.open(sealed, context: context) else { return nil }
        return Self.parseSealed(opened)
    }

    static func parseSealed(_ bytes: [UInt8]) -> (card: CardNumber, month: Int, year: Int)? {
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "|")
        guard parts.count == 3, let card = CardNumber(String(parts[0])), let month = Int(parts[1]), let year = Int(parts[2]) else {
            return nil
        }
        return (card, month, year)
    }

    static func expired(month: Int, year: Int, at now: Instant) -> Bool {
        let date = now.rfc3339
        guard let currentYear = Int(date.prefix(4)), let currentMonth = Int(date.dropFirst(5).prefix(2)) else { return false }
        return year < currentYear || (year == currentYear && month < currentMonth)
    }

    static func encode(_ value: some Encodable) throws -> String { try JSONValueEncoder.encode(value) }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch {
            throw StorageError.corrupt("a stored payment does not decode: \(error)")
        }
    }
}
