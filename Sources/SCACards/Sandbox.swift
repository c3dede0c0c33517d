/// The issuers and test cards `sca serve` starts with when no issuer profiles are
/// configured. Their rates are all 0 or 1, so a card answers a given request always the same
/// way (docs/CARD-PAYMENTS.md, "Sandbox test cards"); with no exemption and `no_preference` the optimizer
/// chooses what to ask for, and that choice explores. Expiry: any future date; CVV: any 3 or
/// 4 digits; challenge password `sca-sandbox` and the one-time code the challenge page shows.
public enum Sandbox {
    public struct TestCard: Sendable, Codable, Equatable {
        public let number: String
        public let issuer: String
        public let label: String
        public let behaviour: String
    }

    static func profile(
        _ id: String, _ name: String, _ bin: String, _ scheme: CardScheme, _ country: String,
        _ configure: (inout IssuerProfile) -> Void = { _ in }
    ) -> IssuerProfile {
        var profile = IssuerProfile(id: id, name: name, bins: [bin], scheme: scheme, country: country)
        configure(&profile)
        return profile
    }

    static let all = IssuerProfile.Acceptance.always
    static let authenticationOnly = IssuerProfile.Acceptance(authentication: 1, authorisation: 0)
    static func accepting(_ exemptions: [CardExemption], _ rates: IssuerProfile.Acceptance = all) -> [String: IssuerProfile.Acceptance] {
        Dictionary(uniqueKeysWithValues: exemptions.map { ($0.rawValue, rates) })
    }

    public static let issuers: [IssuerProfile] = [
        profile("frictionless-fr", "Frictionless Bank", "400001", .visa, "FR") {
            $0.frictionless = .always
            $0.accepts = accepting(CardExemption.allCases)
        },
        profile("challenge-de", "Challenge Bank", "400002", .visa, "DE") { $0.frictionless = .never },
        profile("exemptions-nl", "Exemption Bank", "400003", .visa, "NL") {
            $0.frictionless = .never
            $0.accepts = accepting(CardExemption.allCases)
        },
        profile("strict-es", "Strict Authorisation Bank", "400004", .visa, "ES") {
            $0.frictionless = .never
            $0.accepts = accepting(CardExemption.allCases, authenticationOnly)
        },
        profile("legacy-it", "Legacy Bank", "400005", .visa, "IT") {
            $0.enrolled = false
            $0.threeDS1 = true
        },
        profile("thrifty-pl", "Thrifty Bank", "400006", .visa, "PL") {
            $0.frictionless = .always
            $0.fundsEUR = "10.00"
        },
        profile("cautious-be", "Cautious Bank", "400007", .visa, "BE") {
            $0.frictionless = .always
            $0.declineCode = ResponseCode.doNotHonour
        },
        profile("overseas-us", "Overseas Bank", "400008", .visa, "US") { $0.frictionless = .always },
        profile("gift-fr", "Gift Card Bank", "400009", .visa, "FR") {
            $0.anonymousPrepaid = true
            $0.frictionless = .always
        },
        profile("corporate-fr", "Corporate Bank", "400010", .visa, "FR") {
            $0.corporate = true
            $0.frictionless = .never
            $0.accepts = accepting([.secureCorporatePayment])
        },
        profile("watchful-fr", "Watchful Bank", "400011", .visa, "FR") {
            $0.frictionless = .never
            $0.acceptsMerchantInitiated = 0
        },
        profile("fraudwatch-fr", "Fraud Watch Bank", "400012", .visa, "FR") { $0.rejectsAuthentication = true },
        profile("london-gb", "London Bank", "410001", .visa, "GB") { $0.frictionless = .always },
        profile("mc-frictionless-fr", "Frictionless Mastercard Bank", "510001", .mastercard, "FR") {
            $0.frictionless = .always
            $0.accepts = accepting(CardExemption.allCases)
        },
        profile("mc-challenge-de", "Challenge Mastercard Bank", "510002", .mastercard, "DE") {
            $0.frictionless = .never
            $0.accepts = accepting([.lowValue, .transactionRiskAssessment])
        },
        profile("amex-fr", "American Express Europe", "340001", .amex, "FR") {
            $0.frictionless = .engine
            $0.accepts = accepting([.lowValue, .transactionRiskAssessment, .secureCorporatePayment])
        },
        profile("diners-fr", "Diners Club Europe", "360001", .diners, "FR") {
            $0.frictionless = .never
            $0.accepts = accepting([.lowValue, .transactionRiskAssessment])
        },
    ]

    public static let cards: [TestCard] = [
        TestCard(
            number: "4000010000000019", issuer: "frictionless-fr", label: "Visa FR, frictionless",
            behaviour:
                "3DS frictionless (Y, ECI 05, liability issuer); grants an exemption asked for when it fits its rules (I, ECI 07, liability merchant)"
        ),
        TestCard(
            number: "4000020000000018", issuer: "challenge-de", label: "Visa DE, always challenges",
            behaviour:
                "every 3DS authentication is a challenge and every exemption is refused: during authentication it becomes a challenge, at authorisation soft decline 20154 then a retry with 3DS; Cancel in the challenge declines with 20151; merchant-initiated payments are accepted"
        ),
        TestCard(
            number: "4000030000000017", issuer: "exemptions-nl", label: "Visa NL, grants exemptions",
            behaviour:
                "grants the exemptions that fit its rules (low value, TRA, trusted listing once the merchant is trusted) during authentication, and low value and TRA at authorisation (liability merchant); without an exemption: a challenge"
        ),
        TestCard(
            number: "4000040000000016", issuer: "strict-es", label: "Visa ES, exemptions only during authentication",
            behaviour:
                "grants exemptions during authentication; refuses them at authorisation with soft decline 20154, after which the payment is retried with 3DS and challenge_requested_mandate (upgrade_reason sca_retry)"
        ),
        TestCard(
            number: "4000050000000015", issuer: "legacy-it", label: "Visa IT, no 3DS2",
            behaviour:
                "not enrolled in 3DS2: with 3DS declined 20150, unless the 3DS1 fallback is enabled (payments.threeds1_fallback), then 3DS1 attempted (A, ECI 06)"
        ),
        TestCard(
            number: "4000060000000014", issuer: "thrifty-pl", label: "Visa PL, 10 EUR of funds",
            behaviour: "frictionless, then declined 20051 (insufficient funds) above 10.00 EUR"),
        TestCard(
            number: "4000070000000013", issuer: "cautious-be", label: "Visa BE, do not honour",
            behaviour: "frictionless, then declined 20005 (do not honour)"),
        TestCard(
            number: "4000080000000012", issuer: "overseas-us", label: "Visa US, one leg out",
            behaviour:
                "issuer outside the EEA and the UK: out of scope (one_leg_out, PSD2 Art. 97); authorised without 3DS when 3DS is off (liability merchant), frictionless when on"
        ),
        TestCard(
            number: "4000090000000011", issuer: "gift-fr", label: "Visa FR, anonymous prepaid",
            behaviour: "anonymous prepaid card: out of scope (anonymous_prepaid); authorised without 3DS when 3DS is off"),
        TestCard(
            number: "4000100000000018", issuer: "corporate-fr", label: "Visa FR, corporate lodge card",
            behaviour: "secure corporate payment: grants secure_corporate_payment (RTS Art. 17); otherwise a challenge"),
        TestCard(
            number: "4000110000000017", issuer: "watchful-fr", label: "Visa FR, refuses merchant-initiated payments",
            behaviour:
                "challenges every authentication; answers merchant-initiated payments with 20154, so an off-session payment is declined with next_action customer_must_authenticate and a notification"
        ),
        TestCard(
            number: "4000120000000016", issuer: "fraudwatch-fr", label: "Visa FR, rejected",
            behaviour: "the ACS rejects every authentication (R, reason 11): declined 20151"),
        TestCard(
            number: "4100010000000018", issuer: "london-gb", label: "Visa GB, UK issuer",
            behaviour: "UK issuer with the demo's EEA acquirer: one leg out (EEA + UK), no SCA required; frictionless with 3DS"),
        TestCard(
            number: "5100010000000015", issuer: "mc-frictionless-fr", label: "Mastercard FR, frictionless",
            behaviour: "3DS frictionless (Y, ECI 02, liability issuer); grants every exemption (ECI 00, liability merchant)"),
        TestCard(
            number: "5100020000000014", issuer: "mc-challenge-de", label: "Mastercard DE, challenges",
            behaviour: "challenge (ECI 02 when passed); grants low value and TRA"),
        TestCard(
            number: "340001000000015", issuer: "amex-fr", label: "American Express FR",
            behaviour:
                "trusted listing is never requested for Amex (the scheme keeps the list itself): a challenge offers to trust the merchant, and later payments to it are frictionless; the issuer's own low-value and TRA rules make small payments frictionless; grants low value and TRA when asked"
        ),
        TestCard(
            number: "36000100000015", issuer: "diners-fr", label: "Diners Club FR",
            behaviour: "challenges; the scheme carries only low value and TRA (other exemptions fall back to the challenge indicator)"),
    ]
}
