import SCACards
import SCARules

/// What a payment keeps of its request: everything but the card number (only its BIN,
/// last four digits and fingerprint) and never the CVV.
struct StoredRequest: Codable, Sendable {
    var amount: Int64
    var currency: String
    var reference: String?
    var paymentType: String
    var merchantInitiated: Bool
    var previousPaymentID: String?
    var storeForFutureUse: Bool
    var threeDSEnabled: Bool
    var challengeIndicator: String
    var exemption: String?
    var allowUpgrade: Bool
    var riskScore: Double?
    var riskSignals: [String]
    var sourceType: String
    var sourceID: String?
    var scheme: String?
    var bin: String
    var last4: String
    var issuer: String?
    var issuerCountry: String?
    var expiryMonth: Int
    var expiryYear: Int
    var fingerprint: String

    init(
        request: PaymentRequest, card: CardNumber, fingerprint: String, sourceID: String?, expiry: (month: Int, year: Int),
        scheme: String?, issuer: String?, issuerCountry: String?
    ) {
        amount = request.amount.minorUnits
        currency = request.amount.currency.code
        reference = request.reference
        paymentType = request.paymentType.rawValue
        merchantInitiated = request.merchantInitiated
        previousPaymentID = request.previousPaymentID
        storeForFutureUse = request.storeForFutureUse
        threeDSEnabled = request.threeDS.enabled
        challengeIndicator = request.threeDS.challengeIndicator.rawValue
        exemption = request.threeDS.exemption?.rawValue
        allowUpgrade = request.threeDS.allowUpgrade
        riskScore = request.risk?.score
        riskSignals = request.risk?.signals ?? []
        if case .stored = request.source { sourceType = "id" } else { sourceType = "card" }
        self.sourceID = sourceID
        self.scheme = scheme
        bin = card.bin6
        last4 = card.last4
        self.issuer = issuer
        self.issuerCountry = issuerCountry
        expiryMonth = expiry.month
        expiryYear = expiry.year
        self.fingerprint = fingerprint
    }

    /// The instruction again, to go on after a challenge (the card comes from its seal).
    func instruction(id: String, card: CardNumber, merchant: Merchant) -> PaymentInstruction {
        let type = PaymentType(rawValue: paymentType) ?? .regular
        return PaymentInstruction(
            id: id, card: card, amount: Money(minorUnits: amount, currency: Currency(code: currency) ?? .eur), merchant: merchant,
            paymentType: type, merchantInitiated: merchantInitiated, previousPaymentID: previousPaymentID,
            setsUpMandate: !merchantInitiated && (storeForFutureUse || type.startsSeries),
            threeDS: ThreeDSOptions(
                enabled: threeDSEnabled, challengeIndicator: ChallengeIndicator(rawValue: challengeIndicator) ?? .noPreference,
                exemption: exemption.flatMap(CardExemption.init(rawValue:)), allowUpgrade: allowUpgrade
            ),
            risk: riskScore.map { RiskAssessment(score: $0, signals: riskSignals) }
        )
    }
}
