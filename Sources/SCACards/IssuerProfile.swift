import SCARules

/// How a simulated issuer behaves, from configuration: which cards are its (BIN prefixes),
/// its scheme and country, whether it takes part in 3DS, which exemptions it grants and
/// how often, when it lets a payment through without a challenge, and what its cards can
/// pay. Rates are fractions (1 = always); a simulated issuer draws against them with a
/// value derived from the transaction id, so one transaction always gets one answer.
public struct IssuerProfile: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    /// Prefixes of the card numbers it issues (the longest matching prefix wins).
    public var bins: [String]
    public var scheme: CardScheme
    /// ISO 3166-1 alpha-2 country of the issuer: decides the regime with the acquirer's.
    public var country: String
    /// Enrolled in 3DS2 (its cards can be authenticated).
    public var enrolled: Bool = true
    /// Still runs a 3DS1 ACS (used only when the PSP enables the fallback).
    public var threeDS1: Bool = false
    public var frictionless: FrictionlessPolicy = .engine
    /// Shown on the challenge page: how this issuer authenticates its cardholders.
    public var challengeMethod: String = "password and one-time code"
    /// How often it grants each exemption, per stage; an exemption not listed is refused.
    public var accepts: [String: Acceptance] = [:]
    /// How often it authorises a merchant-initiated payment without asking for SCA.
    public var acceptsMerchantInitiated: Double = 1
    public var anonymousPrepaid: Bool = false
    /// Corporate cards (lodge / virtual) on a dedicated secure process: RTS Art. 17.
    public var corporate: Bool = false
    /// What each card can spend, in EUR; `nil` is unlimited.
    public var fundsEUR: String? = nil
    /// Declines every authorisation with this response code (e.g. "20005").
    public var declineCode: String? = nil
    /// Rejects every authentication (transStatus R): a card the issuer will not let pay.
    public var rejectsAuthentication: Bool = false
    /// The issuer's own risk score for the payments it sees (its risk-based authentication).
    public var riskScore: Double = 0.01
    /// The issuer's monitored fraud rate for remote cards: opens its own TRA bands.
    public var fraudRate: String = "0.0005"

    public enum FrictionlessPolicy: String, Sendable, Codable {
        /// The issuer's rules engine decides: frictionless when one of its own exemptions fits.
        case engine
        /// Every payment that the merchant does not ask to challenge is frictionless.
        case always
        /// Every authentication is a challenge unless a requested exemption is granted.
        case never
    }

    public struct Acceptance: Sendable, Codable, Equatable {
        public var authentication: Double
        public var authorisation: Double
        public init(authentication: Double, authorisation: Double) {
            self.authentication = authentication
            self.authorisation = authorisation
        }
        public static let always = Acceptance(authentication: 1, authorisation: 1)
        public static let never = Acceptance(authentication: 0, authorisation: 0)
    }

    enum CodingKeys: String, CodingKey {
        case id, name, bins, scheme, country, enrolled, frictionless, accepts, corporate
        case threeDS1 = "three_ds1"
        case challengeMethod = "challenge_method"
        case acceptsMerchantInitiated = "accepts_merchant_initiated"
        case anonymousPrepaid = "anonymous_prepaid"
        case fundsEUR = "funds_eur"
        case declineCode = "decline_code"
        case rejectsAuthentication = "rejects_authentication"
        case riskScore = "risk_score"
        case fraudRate = "fraud_rate"
    }

    public init(id: String, name: String, bins: [String], scheme: CardScheme, country: String) {
        self.id = id
        self.name = name
        self.bins = bins
        self.scheme = scheme
        self.country = country
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        bins = try c.decode([String].self, forKey: .bins)
        scheme = try c.decode(CardScheme.self, forKey: .scheme)
        country = try c.decode(String.self, forKey: .country)
        enrolled = try c.decodeIfPresent(Bool.self, forKey: .enrolled) ?? true
        threeDS1 = try c.decodeIfPresent(Bool.self, forKey: .threeDS1) ?? false
        frictionless = try c.decodeIfPresent(FrictionlessPolicy.self, forKey: .frictionless) ?? .engine
        challengeMethod = try c.decodeIfPresent(String.self, forKey: .challengeMethod) ?? "password and one-time code"
        accepts = try c.decodeIfPresent([String: Acceptance].self, forKey: .accepts) ?? [:]
        acceptsMerchantInitiated = try c.decodeIfPresent(Double.self, forKey: .acceptsMerchantInitiated) ?? 1
        anonymousPrepaid = try c.decodeIfPresent(Bool.self, forKey: .anonymousPrepaid) ?? false
        corporate = try c.decodeIfPresent(Bool.self, forKey: .corporate) ?? false
        fundsEUR = try c.decodeIfPresent(String.self, forKey: .fundsEUR)
        declineCode = try c.decodeIfPresent(String.self, forKey: .declineCode)
        rejectsAuthentication = try c.decodeIfPresent(Bool.self, forKey: .rejectsAuthentication) ?? false
        riskScore = try c.decodeIfPresent(Double.self, forKey: .riskScore) ?? 0.01
        fraudRate = try c.decodeIfPresent(String.self, forKey: .fraudRate) ?? "0.0005"
    }

    public func acceptance(_ exemption: CardExemption, at stage: ExemptionStage) -> Double {
        guard let rates = accepts[exemption.rawValue] else { return 0 }
        return stage == .authentication ? rates.authentication : rates.authorisation
    }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case invalid(String, String)
        public var description: String {
            switch self {
            case .invalid(let id, let why): "issuer profile \(id): \(why)"
            }
        }
    }

    /// Checks what the types cannot: countries, prefixes, rates, amounts and codes.
    public func validate() throws(Problem) {
        guard !id.isEmpty, id.count <= 64 else { throw .invalid(id, "id: 1 to 64 characters") }
        guard CountryCode(country) != nil else { throw .invalid(id, "country: not an ISO 3166-1 alpha-2 code") }
        guard !bins.isEmpty, bins.allSatisfy({ (1...8).contains($0.count) && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } })
        else { throw .invalid(id, "bins: 1 to 8 digits each, at least one") }
        let rates = accepts.values.flatMap { [$0.authentication, $0.authorisation] } + [acceptsMerchantInitiated, riskScore]
        guard rates.allSatisfy({ (0...1).contains($0) }) else { throw .invalid(id, "rates and risk score are fractions from 0 to 1") }
        guard accepts.keys.allSatisfy({ CardExemption(rawValue: $0) != nil }) else {
            throw .invalid(id, "accepts: keys are the payments API's exemption names")
        }
        if let fundsEUR, Money(decimal: fundsEUR, currency: .eur) == nil { throw .invalid(id, "funds_eur: a decimal amount") }
        guard ExactDecimal(fraudRate) != nil else { throw .invalid(id, "fraud_rate: a decimal fraction") }
        if let declineCode, !ResponseCode.declines.contains(declineCode) {
            throw .invalid(id, "decline_code: one of \(ResponseCode.declines.sorted().joined(separator: ", "))")
        }
    }
}
