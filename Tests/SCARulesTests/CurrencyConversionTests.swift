import Testing

@testable import SCARules

/// SCA-RULES §1: amounts in other currencies are converted with the reference-rate table,
/// rounded half-up to the regime currency's minor unit, then compared.
@Suite("Currency conversion")
struct CurrencyConversionTests {
    @Test("Anna's 15.00 PLN is 3.52 EUR and exempt as low value")
    func annasFifteenZlotyIsLowValue() {
        var harness = Harness()
        let decision = harness.decide(payment("15.00", "PLN", at: instant("2026-11-21T08:05:00Z"), payee: "bakery"))
        expect(decision, .exempt, .lowValue, citation: "RTS Art. 16")
        #expect(decision.regime == .eea)
        #expect(decision.amountInRegimeCurrency == eur("3.52"))
        #expect(decision.counters == Counters(lowValueCount: 1, lowValueTotal: eur("3.52")))
        #expect(decision.notApplied == [NotApplied(.trustedBeneficiary, .payeeNotTrusted)])
    }

    struct Conversion: Sendable, CustomTestStringConvertible {
        let from: Money
        let to: Money
        var testDescription: String { "\(from) → \(to)" }
    }

    static let illustrative: [Conversion] = [
        Conversion(from: money("15.00", "PLN"), to: eur("3.52")),  // 3.5211
        Conversion(from: money("15.00", "PLN"), to: gbp("3.06")),  // 15 × 0.87 / 4.26 = 3.0634
        Conversion(from: eur("10.00"), to: gbp("8.70")),
        Conversion(from: gbp("87.00"), to: eur("100.00")),
        Conversion(from: money("150", "ISK"), to: eur("1.00")),  // zero-digit currency
        Conversion(from: money("1.96", "BGN"), to: eur("1.00")),  // 1.0021
        Conversion(from: money("1.00", "USD"), to: eur("0.93")),  // 0.9259
        Conversion(from: eur("12.34"), to: eur("12.34")),  // identity
        Conversion(from: gbp("12.34"), to: gbp("12.34")),
    ]

    @Test("The illustrative table converts and rounds half-up", arguments: illustrative)
    func illustrativeTableConverts(conversion: Conversion) {
        #expect(ReferenceRates.illustrative.convert(conversion.from, to: conversion.to.currency) == conversion.to)
    }

    @Test(
        "Exact halves round up",
        arguments: [
            ("0.01", "0.01"),  // 0.005 → 0.01
            ("0.03", "0.02"),  // 0.015 → 0.02
            ("0.05", "0.03"),  // 0.025 → 0.03
            ("0.02", "0.01"),  // exact
            ("2.01", "1.01"),  // 1.005 → 1.01
        ])
    func exactHalvesRoundUp(pln: String, euros: String) {
        let rates = ReferenceRates(perEuro: [Currency(code: "PLN")!: ExactDecimal("2")!], asOf: "test")
        #expect(rates.convert(money(pln, "PLN"), to: .eur) == eur(euros))
    }

    @Test("Just below a half rounds down")
    func justBelowHalfRoundsDown() {
        let rates = ReferenceRates(perEuro: [Currency(code: "PLN")!: ExactDecimal("4")!], asOf: "test")
        #expect(rates.convert(money("0.05", "PLN"), to: .eur) == eur("0.01"))  // 0.0125
        #expect(rates.convert(money("0.07", "PLN"), to: .eur) == eur("0.02"))  // 0.0175
    }

    @Test(
        "Thresholds are compared after rounding",
        arguments: [
            ("127.80", true),  // 30.0000 EUR
            ("127.82", true),  // 30.0047 → 30.00 EUR
            ("127.83", false),  // 30.0070 → 30.01 EUR
        ])
    func thresholdsAreComparedAfterRounding(pln: String, exempt: Bool) {
        var harness = Harness()
        let decision = harness.decide(payment(pln, "PLN"))
        #expect(decision.reason == (exempt ? .lowValue : .noExemption))
    }

    @Test("A configured table replaces the illustrative one")
    func configuredTableIsUsed() {
        var harness = Harness { configuration in
            var rates = ReferenceRates.illustrative
            rates.set(Currency(code: "PLN")!, perEuro: ExactDecimal("0.5")!)
            configuration.referenceRates = rates
        }
        let decision = harness.decide(payment("15.00", "PLN"))
        #expect(decision.amountInRegimeCurrency == eur("30.00"))
        expect(decision, .exempt, .lowValue)
    }

    @Test("A currency outside the table is unsupported", arguments: ["JPY", "AUD", "KWD"])
    func currencyOutsideTableIsUnsupported(code: String) {
        let currency = Currency(code: code)!
        #expect(!ReferenceRates.illustrative.supports(currency))
        #expect(ReferenceRates.illustrative.convert(Money(minorUnits: 100, currency: currency), to: .eur) == nil)
    }

    @Test("The default table is documented as illustrative, with its date")
    func defaultTableIsIllustrative() {
        #expect(ReferenceRates.illustrative.asOf.contains("illustrative"))
        #expect(RulesConfiguration().referenceRates == .illustrative)
    }

    @Test(
        "Amounts are positive decimals with at most the currency's minor digits",
        arguments: [
            ("15", true), ("15.5", true), ("15.00", true), ("15.001", false), ("-1", false), ("0", false),
            ("0.00", false), ("1e3", false), (".5", false), ("15.", false), ("1,5", false), ("", false),
        ])
    func amountSyntax(text: String, valid: Bool) {
        #expect((Money(decimal: text, currency: .eur) != nil) == valid)
    }
}

/// The one decimal formatter: exactly the currency's minor digits, no exponent, a sign
/// only when negative.
struct MoneyFormattingTests {
    @Test(arguments: [
        (Int64(352), "EUR", "3.52"), (5, "EUR", "0.05"), (10_000, "EUR", "100.00"), (0, "EUR", "0.00"),
        (-50, "EUR", "-0.50"), (150, "ISK", "150"), (1_005, "KWD", "1.005"), (999_999_999_999_99, "PLN", "999999999999.99"),
    ])
    func formatsWithTheCurrencysMinorDigits(minorUnits: Int64, code: String, expected: String) {
        let money = Money(minorUnits: minorUnits, currency: Currency(code: code)!)
        #expect(money.decimalString == expected)
        var bytes: [UInt8] = []
        money.appendDecimal(into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }
}
