/// Which rules apply: the EEA's (thresholds in EUR) or the UK's (thresholds in GBP).
/// SCA-RULES §1.
public enum Regime: String, Sendable, CaseIterable {
    case eea = "EEA"
    case uk = "UK"

    /// Position in `allCases`, for the engine's precomputed tables.
    var tableIndex: Int {
        switch self {
        case .eea: return 0
        case .uk: return 1
        }
    }

    public var currency: Currency {
        switch self {
        case .eea: return .eur
        case .uk: return .gbp
        }
    }

    /// The regime of a single PSP's country (login, beneficiaries, account access...).
    public init?(pspCountry country: CountryCode) {
        if country.isEEA {
            self = .eea
        } else if country.isUK {
            self = .uk
        } else {
            return nil
        }
    }

    /// The regime of a payment: both PSPs in the EEA, or both in the UK; anything else is
    /// one leg out (PSD2 Art. 97, "best effort").
    public init?(payerPSP payer: CountryCode, payeePSP payee: CountryCode) {
        if payer.isEEA && payee.isEEA {
            self = .eea
        } else if payer.isUK && payee.isUK {
            self = .uk
        } else {
            return nil
        }
    }

    /// The thresholds of the RTS (EEA) and the UK-RTS, in the regime's currency.
    public var limits: RegimeLimits {
        switch self {
        case .eea: return .eea
        case .uk: return .uk
        }
    }
}

/// The amounts and counts of SCA-RULES §4 for one regime.
public struct RegimeLimits: Sendable, Equatable {
    /// RTS Art. 16(a): a single remote payment of at most this amount.
    public let lowValueSingleMax: Money
    /// RTS Art. 16(b): cumulative remote payments without SCA, counting this one.
    public let lowValueTotalMax: Money
    /// RTS Art. 16(b): consecutive remote payments without SCA, counting this one.
    public let lowValueCountMax: Int
    /// RTS Art. 11(a): a single contactless payment of at most this amount.
    public let contactlessSingleMax: Money
    /// RTS Art. 11(b): cumulative contactless payments without SCA, counting this one.
    public let contactlessTotalMax: Money
    /// RTS Art. 11(b): consecutive contactless payments without SCA, counting this one.
    public let contactlessCountMax: Int
    /// RTS Annex: the exemption threshold values of the three TRA bands, lowest first
    /// (fields, not an array: the limits are read on every decision and must copy as bytes).
    public let traBandLow: Money
    public let traBandMiddle: Money
    public let traBandHigh: Money

    public static let eea = RegimeLimits(
        lowValueSingleMax: Money(30, .eur), lowValueTotalMax: Money(100, .eur), lowValueCountMax: 5,
        contactlessSingleMax: Money(50, .eur), contactlessTotalMax: Money(150, .eur), contactlessCountMax: 5,
        traBandLow: Money(100, .eur), traBandMiddle: Money(250, .eur), traBandHigh: Money(500, .eur)
    )

    public static let uk = RegimeLimits(
        lowValueSingleMax: Money(25, .gbp), lowValueTotalMax: Money(85, .gbp), lowValueCountMax: 5,
        contactlessSingleMax: Money(100, .gbp), contactlessTotalMax: Money(300, .gbp), contactlessCountMax: 5,
        traBandLow: Money(85, .gbp), traBandMiddle: Money(220, .gbp), traBandHigh: Money(440, .gbp)
    )

    /// The three bands' thresholds, lowest first.
    public var traBandThresholds: [Money] { [traBandLow, traBandMiddle, traBandHigh] }

    /// Above the highest band's threshold there is no TRA, ever.
    public var traMaximum: Money { traBandHigh }
}
