import SCAAudit
import SCAPrimitives
import SCARules

/// One SCA challenge: the factors the customer may use, those passed so far, and what the
/// approval is for. Approved once two passed factors are of different categories; used
/// once; dead when its lifetime is over, at most five minutes after it was created
/// (SCA-RULES §5, `RegulatoryLimits.authenticationCodeLifetimeMax`).
///
/// States: `created` → `partly_passed` → `approved` → `consumed`; from any state before
/// `consumed`, time makes it `expired` and a refusal (the customer denies it, or no
/// usable factor is left) makes it `failed`. Every transition takes `now` as an input.
public struct Challenge: Sendable, Equatable {
    public enum State: String, Sendable {
        case created
        case partlyPassed = "partly_passed"
        case approved, consumed, expired, failed
    }

    public enum Refusal: String, Error, Sendable {
        case expired = "the challenge has expired"
        case consumed = "the challenge has been used"
        case failed = "the challenge has failed"
        case notOffered = "this factor is not one of the challenge's"
        case alreadyPassed = "this factor has already been passed"
        case notApproved = "the challenge is not approved"
        case bindingMismatch = "the approval was given for another request"
    }

    public let createdAt: Instant
    public let expiresAt: Instant
    /// The factors the customer may answer with (their enrolled, unrevoked ones).
    public let offered: [FactorKind]
    /// SHA-256 of what is being approved (the exact request, the payment link).
    public let binding: [UInt8]
    public private(set) var passed: [FactorKind] = []
    public private(set) var consumedAt: Instant?
    public private(set) var failedAt: Instant?

    /// `lifetime` is `rules.authenticationCodeLifetime` in service (configured, never
    /// longer than the regulation allows).
    public init(
        offered: [FactorKind], binding: [UInt8], at now: Instant,
        lifetime: Instant.Duration = RegulatoryLimits.authenticationCodeLifetimeMax
    ) {
        precondition(
            lifetime > Instant.Duration(milliseconds: 0) && lifetime <= RegulatoryLimits.authenticationCodeLifetimeMax,
            "an authentication code lives at most \(RegulatoryLimits.authenticationCodeLifetimeMax.milliseconds / 1000) s"
        )
        self.offered = offered
        self.binding = binding
        createdAt = now
        expiresAt = now + lifetime
    }

    /// A challenge as storage recorded it. The lifetime it was created with is not checked
    /// again (the configuration may have changed since), but it can never exceed the
    /// regulation's.
    public init(
        restoring offered: [FactorKind], binding: [UInt8], createdAt: Instant, expiresAt: Instant,
        passed: [FactorKind], consumedAt: Instant?, failedAt: Instant?
    ) {
        self.offered = offered
        self.binding = binding
        self.createdAt = createdAt
        self.expiresAt = min(expiresAt, createdAt + RegulatoryLimits.authenticationCodeLifetimeMax)
        self.passed = passed
        self.consumedAt = consumedAt
        self.failedAt = failedAt
    }

    /// The factors the customer's enrolment allows could make this challenge strong.
    public var isSatisfiable: Bool { isStrong(offered) }

    public func state(at now: Instant) -> State {
        if consumedAt != nil { return .consumed }
        if failedAt != nil { return .failed }
        if now >= expiresAt { return .expired }
        if isStrong(passed) { return .approved }
        return passed.isEmpty ? .created : .partlyPassed
    }

    /// The categories still missing for an approval (empty once approved).
    public var missingCategories: [FactorCategory] {
        let have = Set(passed.map(\.category))
        if have.count >= 2 { return [] }
        let available = Set(offered.map(\.category))
        return FactorCategory.allCases.filter { !have.contains($0) && available.contains($0) }
    }

    /// Whether `kind` may still be answered now.
    public func accepts(_ kind: FactorKind, at now: Instant) -> Result<Void, Refusal> {
        switch state(at: now) {
        case .expired: return .failure(.expired)
        case .consumed: return .failure(.consumed)
        case .failed: return .failure(.failed)
        case .approved: return .failure(.alreadyPassed)
        case .created, .partlyPassed: break
        }
        guard offered.contains(kind) else { return .failure(.notOffered) }
        // A second factor of a category already passed adds nothing (Art. 4).
        guard !passed.contains(where: { $0.category == kind.category }) else { return .failure(.alreadyPassed) }
        return .success(())
    }

    public mutating func recordPass(_ kind: FactorKind, at now: Instant) throws(Refusal) {
        if case .failure(let refusal) = accepts(kind, at: now) { throw refusal }
        passed.append(kind)
    }

    /// The customer refused, or no factor that could complete it is usable any more.
    public mutating func fail(at now: Instant) throws(Refusal) {
        switch state(at: now) {
        case .expired: throw .expired
        case .consumed: throw .consumed
        case .failed: return
        case .created, .partlyPassed, .approved: failedAt = now
        }
    }

    /// Uses the approval, once, for the request it was given for.
    public mutating func consume(binding presented: [UInt8], at now: Instant) throws(Refusal) {
        switch state(at: now) {
        case .approved: break
        case .expired: throw .expired
        case .consumed: throw .consumed
        case .failed: throw .failed
        case .created, .partlyPassed: throw .notApproved
        }
        guard constantTimeEqual(presented, binding) else { throw .bindingMismatch }
        consumedAt = now
    }
}
