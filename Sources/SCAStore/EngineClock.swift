import Foundation
import SCARules
import Synchronization

/// The engine's one source of the current instant, to the millisecond. The store holds it
/// (`DecisionStore.clock`) and every shell around the rules reads it from there: the
/// transaction's `now`, token and session expiry, pending payments, retention sweeps. Rules
/// never read it: requests carry their own `at`.
public struct EngineClock: Sendable {
    private let read: @Sendable () -> Instant

    public init(_ read: @escaping @Sendable () -> Instant) { self.read = read }

    public func now() -> Instant { read() }

    /// The system's wall clock.
    public static let system = EngineClock {
        Instant(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// A clock that stands still until it is moved: for tests, and for replaying a day.
    public static func manual(_ manual: ManualClock) -> EngineClock { EngineClock { manual.now } }
}

/// A clock moved by hand (see `EngineClock.manual`).
public final class ManualClock: Sendable {
    private let instant: Mutex<Instant>

    public init(_ start: Instant) { instant = Mutex(start) }

    public var now: Instant { instant.withLock { $0 } }

    public func advance(_ duration: Instant.Duration) { instant.withLock { $0 = $0 + duration } }
}
