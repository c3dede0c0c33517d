/// The reference-rate table: how many units of each currency one euro buys.
///
/// SCA-RULES §1: amounts in other currencies are converted to the regime's currency
/// before any threshold is compared: convert, round half-up to the regime currency's
/// minor unit, then compare. A currency that is not in the table is unsupported.
public struct ReferenceRates: Sendable, Equatable {
    /// Units of the currency per 1 EUR. EUR itself is always 1.
    public private(set) var perEuro: [Currency: ExactDecimal]
    /// The date the rates were taken, for the record (the default table is illustrative).
    public var asOf: String

    public init(perEuro: [Currency: ExactDecimal], asOf: String) {
        var rates = perEuro
        rates[.eur] = ExactDecimal(mantissa: 1, scale: 0)
        self.perEuro = rates
        self.asOf = asOf
    }

    /// An illustrative default table (not market data): the EEA currencies, GBP, CHF, USD.
    /// BGN keeps its fixed conversion rate although Bulgaria adopted the euro in 2026.
    public static let illustrative = ReferenceRates(
        perEuro: [
            Currency(code: "BGN")!: ExactDecimal("1.95583")!,
            Currency(code: "CZK")!: ExactDecimal("24.30")!,
            Currency(code: "DKK")!: ExactDecimal("7.46")!,
            Currency(code: "HUF")!: ExactDecimal("390")!,
            Currency(code: "ISK")!: ExactDecimal("150")!,
            Currency(code: "NOK")!: ExactDecimal("11.60")!,
            Currency(code: "PLN")!: ExactDecimal("4.26")!,
            Currency(code: "RON")!: ExactDecimal("5.05")!,
            Currency(code: "SEK")!: ExactDecimal("11.10")!,
            Currency(code: "CHF")!: ExactDecimal("0.94")!,
            Currency(code: "GBP")!: ExactDecimal("0.87")!,
            Currency(code: "USD")!: ExactDecimal("1.08")!,
        ],
        asOf: "2026-11-01 (illustrative)"
    )

    public func supports(_ currency: Currency) -> Bool { perEuro[currency] != nil }

    /// Sets or replaces one currency's rate; a zero rate is refused by the caller's validation.
    public mutating func set(_ currency: Currency, perEuro rate: ExactDecimal) {
        precondition(!rate.isZero, "a reference rate must be positive")
        if currency != .eur { perEuro[currency] = rate }
    }

    /// Converts `amount` into `target`, rounding half-up to the target's minor unit;
    /// `nil` if either currency is missing from the table.
    public func convert(_ amount: Money, to target: Currency) -> Money? {
        if amount.currency == target { return amount }
        guard let from = perEuro[amount.currency], let to = perEuro[target] else { return nil }
        return ReferenceRates.convert(amount, to: target, from: from, to: to)
    }

    /// value_target = value_source × to / from, in minor units of each side, rounded half-up:
    /// minor_t = minor_s × 10^dt × m_to × 10^s_from / (10^ds × m_from × 10^s_to).
    static func convert(_ amount: Money, to target: Currency, from: ExactDecimal, to: ExactDecimal) -> Money {
        let numerator =
            Int128(amount.minorUnits) * Int128(Money.scale(target.minorDigits))
            * Int128(to.mantissa) * Int128(Money.scale(from.scale))
        let denominator =
            Int128(Money.scale(amount.currency.minorDigits)) * Int128(from.mantissa)
            * Int128(Money.scale(to.scale))
        let rounded = (2 * numerator + denominator) / (2 * denominator)
        return Money(minorUnits: Int64(rounded), currency: target)
    }
}
