/// An assigned ISO 3166-1 alpha-2 country code, the country of a payment service provider.
///
/// A code that is not assigned ("XX", "UK", "EU") is invalid input, never "one leg out"
/// (SCA-RULES §1).
public struct CountryCode: Hashable, Sendable, CustomStringConvertible {
    public let code: String
    /// EEA, UK or elsewhere, worked out once when the code is read.
    private let zone: Zone

    private enum Zone: Hashable, Sendable {
        case eea
        case uk
        case elsewhere
    }

    public init?(_ code: String) {
        guard CountryCode.assigned.contains(code) else { return nil }
        self.code = code
        zone = CountryCode.eea.contains(code) ? .eea : CountryCode.uk.contains(code) ? .uk : .elsewhere
    }

    public var description: String { code }

    /// The 27 member states of the European Union plus Iceland, Liechtenstein and Norway.
    public static let eea: Set<String> = [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
        "IS", "LI", "NO",
    ]

    /// The United Kingdom, and Gibraltar, whose PSPs the UK regime covers (SCA-RULES §1).
    public static let uk: Set<String> = ["GB", "GI"]

    public var isEEA: Bool { zone == .eea }
    public var isUK: Bool { zone == .uk }

    /// The 249 officially assigned ISO 3166-1 alpha-2 codes.
    static let assigned: Set<String> = Set(
        """
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO \
        BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ \
        DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP \
        GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG \
        KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML \
        MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE \
        PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL \
        SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM \
        US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
        """.split(separator: " ").map(String.init)
    )
}
