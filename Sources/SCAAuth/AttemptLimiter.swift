import SCARules

/// Consecutive failed attempts of one factor (RTS Art. 4(3)(b)): after `failuresPerBlock`
/// the factor is blocked for a while, each block longer than the one before, and after the
/// last temporary block the next run of failures blocks it for good. One counter per
/// factor, kept in storage, so every token, session and node shares it.
public struct AttemptCounter: Sendable, Equatable {
    public var consecutiveFailures: Int
    /// Temporary blocks imposed since the last success.
    public var temporaryBlocks: Int
    public var blockedUntil: Instant?
    public var permanentlyBlocked: Bool

    public init(consecutiveFailures: Int = 0, temporaryBlocks: Int = 0, blockedUntil: Instant? = nil, permanentlyBlocked: Bool = false) {
        self.consecutiveFailures = consecutiveFailures
        self.temporaryBlocks = temporaryBlocks
        self.blockedUntil = blockedUntil
        self.permanentlyBlocked = permanentlyBlocked
    }
}

public struct AttemptPolicy: Sendable, Equatable {
    /// Consecutive failures that block a factor: at most RTS Art. 4(3)(b)'s 5
    /// (`RegulatoryLimits.failedAttemptsMax`; configuration may only be stricter).
    public let failuresPerBlock: Int
    /// The temporary blocks, in order; the run of failures after the last one blocks the
    /// factor permanently (until the bank unblocks or re-enrols it).
    public let temporaryBlockDurations: [Instant.Duration]

    /// The engine's choice of growing blocks (the RTS sets none): 15 minutes, 1 hour, 1 day.
    public static let temporaryBlockDurationsDefault: [Instant.Duration] = [.minutes(15), .minutes(60), .days(1)]

    /// `failuresPerBlock` is `rules.failedAttemptsMax` in service: configured, and already
    /// bounded by the regulation when the configuration was read.
    public init(
        failuresPerBlock: Int = RegulatoryLimits.failedAttemptsMax,
        temporaryBlockDurations: [Instant.Duration] = AttemptPolicy.temporaryBlockDurationsDefault
    ) {
        precondition(
            (1...RegulatoryLimits.failedAttemptsMax).contains(failuresPerBlock),
            "RTS Art. 4(3)(b) allows at most \(RegulatoryLimits.failedAttemptsMax) consecutive failures"
        )
        self.failuresPerBlock = failuresPerBlock
        self.temporaryBlockDurations = temporaryBlockDurations
    }

    public enum Availability: Sendable, Equatable {
        case open
        case blocked(until: Instant)
        case permanentlyBlocked
    }

    /// The outcome of a failed attempt, for the answer and the audit trail.
    public enum FailureOutcome: Sendable, Equatable {
        /// `remaining` more failures block the factor; `permanentNext` warns that the block
        /// they cause will be the permanent one.
        case failed(remaining: Int, permanentNext: Bool)
        /// Blocked until `until`; `permanentNext` warns that the next block is permanent.
        case temporarilyBlocked(until: Instant, permanentNext: Bool)
        case permanentlyBlocked
    }

    /// Whether the factor may be tried now. A blocked factor is not tried at all: its
    /// secret is not even checked, and the attempt does not count.
    public func availability(_ counter: AttemptCounter, at now: Instant) -> Availability {
        if counter.permanentlyBlocked { return .permanentlyBlocked }
        if let until = counter.blockedUntil, now < until { return .blocked(until: until) }
        return .open
    }

    public func recordFailure(_ counter: inout AttemptCounter, at now: Instant) -> FailureOutcome {
        precondition(availability(counter, at: now) == .open, "a blocked factor is not tried")
        counter.blockedUntil = nil
        counter.consecutiveFailures += 1
        let finalRound = counter.temporaryBlocks >= temporaryBlockDurations.count
        guard counter.consecutiveFailures >= failuresPerBlock else {
            return .failed(remaining: failuresPerBlock - counter.consecutiveFailures, permanentNext: finalRound)
        }
        counter.consecutiveFailures = 0
        if finalRound {
            counter.permanentlyBlocked = true
            return .permanentlyBlocked
        }
        let until = now + temporaryBlockDurations[counter.temporaryBlocks]
        counter.temporaryBlocks += 1
        counter.blockedUntil = until
        return .temporarilyBlocked(until: until, permanentNext: counter.temporaryBlocks >= temporaryBlockDurations.count)
    }

    /// A success ends the run of failures and the escalation.
    public func recordSuccess(_ counter: inout AttemptCounter) {
        precondition(!counter.permanentlyBlocked, "a blocked factor is not tried")
        counter = AttemptCounter()
    }
}
