/// An ISO 4217 currency: its three-letter code and the number of digits of its minor unit.
///
/// Only codes listed in ISO 4217 are currencies; whether the engine accepts one for a
/// decision is a separate question, answered by the reference-rate table.
public struct Currency: Hashable, Sendable, CustomStringConvertible {
    /// The three ASCII letters packed in an integer. A currency is a plain value (no
    /// `String` inside), so `Money` and every counter holding it copy as bare bytes.
    private let packed: UInt32
    /// Digits after the decimal point in the minor unit (EUR 2, ISK 0, KWD 3).
    private let digits: UInt8

    public var minorDigits: Int { Int(digits) }

    /// The ISO 4217 code, e.g. "EUR".
    public var code: String {
        let letters = [UInt8(truncatingIfNeeded: packed >> 16), UInt8(truncatingIfNeeded: packed >> 8), UInt8(truncatingIfNeeded: packed)]
        return String(decoding: letters, as: UTF8.self)
    }

    public var description: String { code }

    /// The currency with this ISO 4217 code, or `nil` if the code is not one.
    public init?(code: String) {
        guard let digits = Currency.iso4217MinorDigits[code] else { return nil }
        self.packed = code.utf8.reduce(0) { $0 << 8 | UInt32($1) }
        self.digits = UInt8(digits)
    }

    private init(known code: String) {
        self.init(code: code)!
    }

    public static let eur = Currency(known: "EUR")
    public static let gbp = Currency(known: "GBP")

    /// ISO 4217 active codes with their minor-unit exponent (list of 2024; funds codes left out).
    static let iso4217MinorDigits: [String: Int] = {
        var table: [String: Int] = [:]
        let twoDigits = """
            AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP \
            BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP \
            GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT \
            LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN \
            NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP \
            SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES \
            WST XCD YER ZAR ZMW ZWG
            """
        for code in twoDigits.split(separator: " ") { table[String(code)] = 2 }
        for code in "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(separator: " ") {
            table[String(code)] = 0
        }
        for code in "BHD IQD JOD KWD LYD OMR TND".split(separator: " ") { table[String(code)] = 3 }
        return table
    }()

    /// Every ISO 4217 code this engine knows, sorted.
    public static var allCodes: [String] { iso4217MinorDigits.keys.sorted() }
}
