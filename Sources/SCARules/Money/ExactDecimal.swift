/// A non-negative exact decimal, `mantissa × 10^-scale`: reference rates and fraud rates.
///
/// Parsed from text ("4.26", "0.0005"); binary floating point never enters a comparison
/// that decides whether an exemption applies.
public struct ExactDecimal: Hashable, Sendable, CustomStringConvertible {
    public let mantissa: Int64
    public let scale: Int

    /// Digits allowed after the point; keeps products of rates inside `Int128`.
    public static let scaleMax = 8
    /// Significant digits allowed in all.
    public static let digitsMax = 10

    public init(mantissa: Int64, scale: Int) {
        precondition(mantissa >= 0 && (0...ExactDecimal.scaleMax).contains(scale))
        self.mantissa = mantissa
        self.scale = scale
    }

    /// Parses "4.26", "0.0005" or "1"; refuses exponents, signs, empty parts and more than
    /// `scaleMax` decimals or `digitsMax` significant digits.
    public init?(_ text: String) {
        var mantissa: Int64 = 0
        var scale = 0
        var digits = 0
        var seenDot = false
        var integerDigits = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if seenDot { scale += 1 } else { integerDigits += 1 }
                if mantissa > 0 || byte != UInt8(ascii: "0") { digits += 1 }
                guard digits <= ExactDecimal.digitsMax, scale <= ExactDecimal.scaleMax else { return nil }
                mantissa = mantissa * 10 + Int64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "."):
                guard !seenDot, integerDigits > 0 else { return nil }
                seenDot = true
            default:
                return nil
            }
        }
        guard integerDigits > 0, !seenDot || scale > 0 else { return nil }
        self.init(mantissa: mantissa, scale: scale)
    }

    /// Parses the shortest decimal form of a `Double` read from a configuration file
    /// (Swift prints 0.00005 as "5e-05": the exponent moves the point).
    public init?(_ value: Double) {
        guard value.isFinite, value >= 0 else { return nil }
        var text = "\(value)"
        var exponent = 0
        if let e = text.firstIndex(of: "e") {
            guard let parsed = Int(text[text.index(after: e)...]) else { return nil }
            exponent = parsed
            text = String(text[..<e])
        }
        if text.hasSuffix(".0") { text.removeLast(2) }
        guard let base = ExactDecimal(text) else { return nil }
        var mantissa = base.mantissa
        var scale = base.scale - exponent
        while scale < 0 {
            mantissa *= 10
            scale += 1
        }
        guard scale <= ExactDecimal.scaleMax, mantissa < Money.scale(ExactDecimal.digitsMax) else { return nil }
        self.init(mantissa: mantissa, scale: scale)
    }

    public var isZero: Bool { mantissa == 0 }

    public var description: String {
        guard scale > 0 else { return String(mantissa) }
        var digits = String(mantissa)
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        return digits
    }
}

extension ExactDecimal: Comparable {
    public static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        let scale = max(lhs.scale, rhs.scale)
        let left = Int128(lhs.mantissa) * Int128(Money.scale(scale - lhs.scale))
        let right = Int128(rhs.mantissa) * Int128(Money.scale(scale - rhs.scale))
        return left < right
    }

    public static func == (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        !(lhs < rhs) && !(rhs < lhs)
    }

    public func hash(into hasher: inout Hasher) {
        var mantissa = self.mantissa
        var scale = self.scale
        while scale > 0 && mantissa % 10 == 0 {
            mantissa /= 10
            scale -= 1
        }
        hasher.combine(mantissa)
        hasher.combine(scale)
    }
}
