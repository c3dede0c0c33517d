/// An exact amount of money: an integer count of the currency's minor unit.
///
/// Never a floating-point number: `15.00 PLN` is `1500` minor units of PLN.
public struct Money: Hashable, Sendable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Digits allowed before the decimal point: keeps every conversion inside `Int128`.
    public static let integerDigitsMax = 12

    /// Parses a positive decimal string with a dot and at most the currency's minor digits
    /// ("15", "15.5", "15.00" for PLN; not "15.001", "-1", "0", "1e3", ".5" or "15.").
    public init?(decimal text: String, currency: Currency) {
        var integerPart: Int64 = 0
        var fractionPart: Int64 = 0
        var integerDigits = 0
        var fractionDigits = 0
        var seenDot = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = Int64(byte - UInt8(ascii: "0"))
                if seenDot {
                    fractionDigits += 1
                    guard fractionDigits <= currency.minorDigits else { return nil }
                    fractionPart = fractionPart * 10 + digit
                } else {
                    integerDigits += 1
                    guard integerDigits <= Money.integerDigitsMax else { return nil }
                    integerPart = integerPart * 10 + digit
                }
            case UInt8(ascii: "."):
                guard !seenDot, integerDigits > 0 else { return nil }
                seenDot = true
            default:
                return nil
            }
        }
        guard integerDigits > 0, !seenDot || fractionDigits > 0 else { return nil }
        for _ in fractionDigits..<currency.minorDigits { fractionPart *= 10 }
        let minor = integerPart * Money.scale(currency.minorDigits) + fractionPart
        guard minor > 0 else { return nil }
        self.init(minorUnits: minor, currency: currency)
    }

    /// The amount as a decimal string with exactly the currency's minor digits ("3.52").
    public var decimalString: String {
        var bytes: [UInt8] = []
        appendDecimal(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the decimal form ("3.52") straight into a byte buffer: the one formatter,
    /// used by `decimalString` and by the answer encoder without making a `String`.
    public func appendDecimal(into out: inout [UInt8]) {
        if minorUnits < 0 { out.append(UInt8(ascii: "-")) }
        let digits = currency.minorDigits
        let scale = UInt64(Money.scale(digits))
        let magnitude = minorUnits.magnitude
        Money.appendDigits(of: magnitude / scale, into: &out)
        guard digits > 0 else { return }
        out.append(UInt8(ascii: "."))
        var fraction = magnitude % scale
        var divisor = scale / 10
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
    }

    /// The decimal digits of `value`, most significant first.
    public static func appendDigits(of value: UInt64, into out: inout [UInt8]) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    public var description: String { decimalString + " " + currency.code }

    static func scale(_ digits: Int) -> Int64 {
        var result: Int64 = 1
        for _ in 0..<digits { result *= 10 }
        return result
    }

    public static func + (lhs: Money, rhs: Money) -> Money {
        precondition(lhs.currency == rhs.currency, "adding amounts in different currencies")
        return Money(minorUnits: lhs.minorUnits + rhs.minorUnits, currency: lhs.currency)
    }

    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }
}

extension Money: Comparable {
    public static func < (lhs: Money, rhs: Money) -> Bool {
        precondition(lhs.currency == rhs.currency, "comparing amounts in different currencies")
        return lhs.minorUnits < rhs.minorUnits
    }
}

extension Money {
    /// A whole or decimal amount written in code, for thresholds: `Money(30, .eur)`.
    public init(_ major: Int64, _ currency: Currency) {
        self.init(minorUnits: major * Money.scale(currency.minorDigits), currency: currency)
    }
}
