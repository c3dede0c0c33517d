/// The limits the regulation sets, as named constants. Defaults start here, and
/// configuration may be stricter, never laxer: the loader's ranges end at these values.
public enum RegulatoryLimits {
    /// RTS Art. 4(3)(d): an authenticated session ends after 5 minutes without activity.
    public static let sessionInactivityMax: Instant.Duration = .minutes(5)
    /// RTS Art. 4(3)(b): at most 5 consecutive failed authentication attempts.
    public static let failedAttemptsMax = 5
    /// SCA-RULES §5: an authentication code is valid at most 5 minutes.
    public static let authenticationCodeLifetimeMax: Instant.Duration = .minutes(5)
    /// RTS Art. 10 / 10a (as amended by 2022/2360): AIS renewal window, EEA.
    public static let aisWindowDaysEEA: Int64 = 180
    /// UK-RTS Art. 10a: AIS renewal window under the UK regime (SCA-RULES §4 default).
    public static let aisWindowDaysUK: Int64 = 90
    /// RTS Art. 36(5)(b): unattended AISP accesses per consent per calendar day.
    public static let aisUnattendedAccessesPerDayMax = 4
}

/// The calendar a "day" is counted in (the AIS daily limit): its name and its offset
/// from UTC at a given instant (which changes with daylight-saving time). One value, so
/// the name and the offset cannot disagree.
public struct CalendarZone: Sendable {
    public let name: String
    private let utcOffsetSeconds: @Sendable (Instant) -> Int64

    public init(name: String, utcOffsetSeconds: @escaping @Sendable (Instant) -> Int64) {
        self.name = name
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    public static let utc = CalendarZone(name: "UTC") { _ in 0 }

    /// Days since 1970-01-01 of `instant`'s local date in this zone.
    public func dayNumber(of instant: Instant) -> Int64 {
        instant.dayNumber(utcOffsetSeconds: utcOffsetSeconds(instant))
    }
}
