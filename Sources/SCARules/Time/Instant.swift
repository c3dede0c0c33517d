/// A point in time: milliseconds since 1970-01-01T00:00:00Z.
///
/// The rules core never reads a clock: every instant comes in with the request.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        Instant(millisecondsSinceEpoch: lhs.millisecondsSinceEpoch + rhs.milliseconds)
    }

    public static func - (lhs: Instant, rhs: Instant) -> Duration {
        Duration(milliseconds: lhs.millisecondsSinceEpoch - rhs.millisecondsSinceEpoch)
    }

    /// A span of time in milliseconds; windows and idle times are measured with it.
    public struct Duration: Hashable, Comparable, Sendable {
        public let milliseconds: Int64
        public init(milliseconds: Int64) { self.milliseconds = milliseconds }
        public static func seconds(_ seconds: Int64) -> Duration { Duration(milliseconds: seconds * 1000) }
        public static func minutes(_ minutes: Int64) -> Duration { .seconds(minutes * 60) }
        public static func days(_ days: Int64) -> Duration { .seconds(days * 86_400) }
        public static func < (lhs: Duration, rhs: Duration) -> Bool { lhs.milliseconds < rhs.milliseconds }
    }

    /// The day number (days since 1970-01-01) of this instant in a zone `offsetSeconds`
    /// east of UTC.
    public func dayNumber(utcOffsetSeconds offsetSeconds: Int64) -> Int64 {
        let local = millisecondsSinceEpoch + offsetSeconds * 1000
        let day: Int64 = 86_400_000
        return local >= 0 ? local / day : (local - day + 1) / day
    }

    public var description: String { rfc3339 }
}

extension Instant {
    /// Parses an RFC 3339 timestamp with a zone: `2026-11-21T08:05:00Z`,
    /// `2026-11-21T09:05:00.250+01:00`. Fractions beyond milliseconds are truncated.
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40 else { return nil }
        func number(_ start: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for index in start..<(start + count) {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            (1...12).contains(month), day >= 1, day <= Instant.daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var index = 19
        var milliseconds: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if digits < 3 { milliseconds = milliseconds * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            guard digits >= 1, digits <= 9 else { return nil }
            if digits < 3 { for _ in digits..<3 { milliseconds *= 10 } }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let offsetHours = number(index + 1, 2), let offsetMinutes = number(index + 4, 2),
                offsetHours <= 23, offsetMinutes <= 59
            else { return nil }
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        let days = Instant.daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        self.init(millisecondsSinceEpoch: seconds * 1000 + milliseconds)
    }

    /// The instant in RFC 3339 form, in UTC, with milliseconds when there are any.
    public var rfc3339: String {
        let totalMilliseconds = millisecondsSinceEpoch
        let millisecondsPerDay: Int64 = 86_400_000
        let days =
            totalMilliseconds >= 0
            ? totalMilliseconds / millisecondsPerDay
            : (totalMilliseconds - millisecondsPerDay + 1) / millisecondsPerDay
        let inDay = totalMilliseconds - days * millisecondsPerDay
        let (year, month, day) = Instant.civilFromDays(days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let seconds = inDay / 1000
        var text = "\(year)-\(two(month))-\(two(day))T\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
        let milliseconds = inDay % 1000
        if milliseconds > 0 {
            text += "." + String(String(milliseconds + 1000).dropFirst())
        }
        return text + "Z"
    }

    static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
