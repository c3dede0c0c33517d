import SCACards
import SCAContract
import SCAGate
import SCARules

/// A `POST /v1/payments` body, validated: every field typed, every limit checked. Errors
/// are `GateRefusal(.invalid, ...)` naming the field (HTTP 422), and nothing is written.
struct PaymentRequest: Sendable {
    enum Source: Sendable {
        case card(number: CardNumber, expiryMonth: Int, expiryYear: Int)
        case stored(id: String)
    }

    var source: Source
    var amount: Money
    var reference: String?
    var paymentType: PaymentType
    var merchantInitiated: Bool
    var previousPaymentID: String?
    var storeForFutureUse: Bool
    var threeDS: ThreeDSOptions
    var risk: RiskAssessment?

    static let referenceCharactersMax = 80
    static let amountMax: Int64 = 999_999_999_999
    static let signalsMax = 16

    static func parse(_ body: JSONObject, rates: ReferenceRates) throws(GateRefusal) -> PaymentRequest {
        guard case .object(let sourceObject)? = body["source"] else { throw invalid("source: an object is required") }
        let source: Source
        switch try text(sourceObject, "type", in: "source") {
        case "card":
            guard let number = CardNumber(try text(sourceObject, "number", in: "source")) else {
                throw invalid("source.number: 12 to 19 digits with a valid check digit")
            }
            let month = try integer(sourceObject, "expiry_month", in: "source", 1...12)
            let year = try integer(sourceObject, "expiry_year", in: "source", 2000...2099)
            if let cvv = try optionalText(sourceObject, "cvv", in: "source") {
                guard (3...4).contains(cvv.count), cvv.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                    throw invalid("source.cvv: 3 or 4 digits")
                }
            }
            source = .card(number: number, expiryMonth: month, expiryYear: year)
        case "id":
            let id = try text(sourceObject, "id", in: "source")
            guard id.hasPrefix("src_"), id.count <= 40 else { throw invalid("source.id: a stored card id (src_...)") }
            source = .stored(id: id)
        default:
            throw invalid("source.type: card or id")
        }
        guard case .number(let value)? = body["amount"], value == value.rounded(), value >= 1, value <= Double(amountMax) else {
            throw invalid("amount: a positive integer in the currency's minor unit (2000 is 20.00 EUR)")
        }
        let code = try text(body, "currency", in: nil)
        guard let currency = Currency(code: code) else { throw invalid("currency: an ISO 4217 code") }
        guard rates.supports(currency) else {
            throw GateRefusal(.invalid, "currency: \(code) has no reference rate (unsupported_currency)")
        }
        let reference = try optionalText(body, "reference", in: nil)
        if let reference, reference.count > referenceCharactersMax {
            throw invalid("reference: at most \(referenceCharactersMax) characters")
        }
        var paymentType = PaymentType.regular
        if let name = try optionalText(body, "payment_type", in: nil) {
            guard let type = PaymentType.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
                throw invalid("payment_type: one of " + PaymentType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            paymentType = type
        }
        var threeDS = ThreeDSOptions(enabled: false)
        if let value = body["3ds"], value != .null {
            guard case .object(let object) = value else { throw invalid("3ds: an object") }
            threeDS.enabled = try flag(object, "enabled", in: "3ds") ?? false
            threeDS.allowUpgrade = try flag(object, "allow_upgrade", in: "3ds") ?? true
            if let name = try optionalText(object, "challenge_indicator", in: "3ds") {
                guard let indicator = ChallengeIndicator(rawValue: name) else {
                    throw invalid("3ds.challenge_indicator: one of " + ChallengeIndicator.allCases.map(\.rawValue).joined(separator: ", "))
                }
                threeDS.challengeIndicator = indicator
            }
            if let name = try optionalText(object, "exemption", in: "3ds") {
                guard let exemption = CardExemption(rawValue: name) else {
                    throw invalid("3ds.exemption: one of " + CardExemption.allCases.map(\.rawValue).joined(separator: ", "))
                }
                threeDS.exemption = exemption
            }
        }
        var risk: RiskAssessment?
        if let value = body["risk"], value != .null {
            guard case .object(let object) = value else { throw invalid("risk: an object") }
            var score: Double?
            if let raw = object["score"], raw != .null {
                guard case .number(let number) = raw, (0...1).contains(number) else { throw invalid("risk.score: a number from 0 to 1") }
                score = number
            }
            var signals: [String] = []
            if let raw = object["signals"], raw != .null {
                guard case .array(let items) = raw, items.count <= signalsMax else {
                    throw invalid("risk.signals: an array of at most \(signalsMax) strings")
                }
                for item in items {
                    guard case .string(let signal) = item, RiskAssessment.documentedSignals.contains(signal) else {
                        throw invalid("risk.signals: each one of " + RiskAssessment.documentedSignals.joined(separator: ", "))
                    }
                    signals.append(signal)
                }
            }
            risk = RiskAssessment(score: score, signals: signals)
        }
        let merchantInitiated = try flag(body, "merchant_initiated", in: nil) ?? false
        let previous = try optionalText(body, "previous_payment_id", in: nil)
        if let previous, !(previous.hasPrefix("pay_") && previous.count <= 40) {
            throw invalid("previous_payment_id: a payment id (pay_...)")
        }
        let topLevelStore = try flag(body, "store_for_future_use", in: nil)
        let sourceStore = try flag(sourceObject, "store_for_future_use", in: "source")
        let store = topLevelStore ?? sourceStore ?? false
        return PaymentRequest(
            source: source, amount: Money(minorUnits: Int64(value), currency: currency), reference: reference,
            paymentType: paymentType, merchantInitiated: merchantInitiated, previousPaymentID: previous,
            storeForFutureUse: store, threeDS: threeDS, risk: risk
        )
    }

    static func invalid(_ message: String) -> GateRefusal { GateRefusal(.invalid, message) }

    static func name(_ key: String, _ parent: String?) -> String { parent.map { "\($0).\(key)" } ?? key }

    static func optionalText(_ object: JSONObject, _ key: String, in parent: String?) throws(GateRefusal) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?:
            guard value.utf8.count <= 256 else { throw invalid("\(name(key, parent)): at most 256 bytes") }
            return value
        default: throw invalid("\(name(key, parent)): a string")
        }
    }

    static func text(_ object: JSONObject, _ key: String, in parent: String?) throws(GateRefusal) -> String {
        guard let value = try optionalText(object, key, in: parent) else { throw invalid("\(name(key, parent)): required") }
        return value
    }

    static func flag(_ object: JSONObject, _ key: String, in parent: String?) throws(GateRefusal) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw invalid("\(name(key, parent)): true or false")
        }
    }

    static func integer(_ object: JSONObject, _ key: String, in parent: String?, _ range: ClosedRange<Int>) throws(GateRefusal) -> Int {
        guard case .number(let value)? = object[key], value == value.rounded(), value >= Double(range.lowerBound),
            value <= Double(range.upperBound)
        else {
            throw invalid("\(name(key, parent)): an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(value)
    }
}
