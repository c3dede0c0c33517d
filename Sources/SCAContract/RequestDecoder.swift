import SCARules

/// Turns one line of the decision contract into a validated `DecisionRequest`.
///
/// Everything is checked here, at the edge: types, enumerations, amounts (exact decimal
/// strings), currencies (ISO 4217 and in the reference-rate table), countries (assigned
/// ISO 3166-1 codes), timestamps (RFC 3339 with a zone) and the fields each action needs.
/// Unknown members are ignored; `null` means absent.
public struct RequestDecoder: Sendable {
    public let referenceRates: ReferenceRates
    /// How a request without `sca` is read: `passed` in replay, pending over HTTP.
    public let absentSCA: SCAResult?

    /// Longest identifier accepted (ids, payer, payee, instrument, consent).
    public static let identifierBytesMax = 256
    /// Most risk signals accepted on one request, and the longest signal code.
    public static let riskSignalsMax = 16
    public static let riskSignalBytesMax = 64

    public init(referenceRates: ReferenceRates, absentSCA: SCAResult?) {
        self.referenceRates = referenceRates
        self.absentSCA = absentSCA
    }

    /// Parses and validates one line.
    public func decode(line: some Collection<UInt8>) -> Result<DecisionRequest, ContractError> {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            return .failure(ContractError(.invalidJSON, "line is not valid JSON: \(error.message) at byte \(error.offset)"))
        }
        return decode(value)
    }

    public func decode(_ value: JSONValue) -> Result<DecisionRequest, ContractError> {
        guard case .object(let object) = value else {
            return .failure(ContractError(.invalidJSON, "a request must be a JSON object, not \(value.typeName)"))
        }
        var id: String?
        if case .string(let text)? = object["id"] { id = text }
        do {
            return .success(try decodeRequest(object))
        } catch var error {
            error.requestID = id
            return .failure(error)
        }
    }

    private func decodeRequest(_ object: JSONObject) throws(ContractError) -> DecisionRequest {
        let root = Fields(object: object, path: "")
        let id = try root.identifier("id").map(RequestID.init)
        guard let atText = try root.string("at") else { throw .missing("at") }
        guard let at = Instant(rfc3339: atText) else {
            throw ContractError(
                .invalidTimestamp, "at: \"\(atText.prefix(64))\" is not an RFC 3339 timestamp with a zone, e.g. 2026-11-21T08:05:00Z")
        }
        guard let actionText = try root.string("action") else { throw .missing("action") }
        guard let action = Action(rawValue: actionText) else {
            throw ContractError(
                .unknownAction,
                "action: \"\(actionText.prefix(64))\" is not one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }

        guard let payerFields = try root.object("payer") else { throw .missing("payer") }
        guard let payerID = try payerFields.identifier("id") else { throw .missing("payer.id") }
        guard let payerCountry = try payerFields.country("psp_country") else { throw .missing("payer.psp_country") }
        let payer = Payer(
            id: PayerID(payerID), pspCountry: payerCountry,
            instrument: try payerFields.identifier("instrument").map(InstrumentID.init),
            consumer: try payerFields.bool("consumer") ?? true
        )

        var payee: Payee?
        if let payeeFields = try root.object("payee") {
            payee = Payee(
                id: try payeeFields.identifier("id").map(PayeeID.init), pspCountry: try payeeFields.country("psp_country")
            )
        }

        let amount = try decodeAmount(root)
        let payment = try decodePayment(root)
        let risk = try decodeRisk(root)

        var requestedExemption: Exemption?
        if let name = try root.string("requested_exemption") {
            guard let exemption = Exemption(requestName: name) else {
                throw ContractError(
                    .invalidValue,
                    "requested_exemption: \"\(name.prefix(64))\" is not an exemption reason code (\(Exemption.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            requestedExemption = exemption
        }

        var consent: ConsentID?
        if let consentFields = try root.object("consent") {
            guard let consentID = try consentFields.identifier("id") else { throw .missing("consent.id") }
            consent = ConsentID(consentID)
        }

        var sca = absentSCA
        if let scaText = try root.string("sca") {
            guard let result = SCAResult(rawValue: scaText) else {
                throw ContractError(.invalidValue, "sca: \"\(scaText.prefix(64))\" is not one of passed, failed")
            }
            sca = result
        }

        let request = DecisionRequest(
            id: id, at: at, action: action, payer: payer, payee: payee, amount: amount, payment: payment, risk: risk,
            requestedExemption: requestedExemption, consent: consent,
            customerPresent: try root.bool("customer_present") ?? true, sca: sca
        )
        try checkActionNeeds(request)
        return request
    }

    /// The fields each action cannot do without.
    private func checkActionNeeds(_ request: DecisionRequest) throws(ContractError) {
        switch request.action {
        case .payment:
            guard request.amount != nil else { throw .missing("amount") }
            guard let payee = request.payee else { throw .missing("payee") }
            guard payee.pspCountry != nil else { throw .missing("payee.psp_country") }
            guard let payment = request.payment else { throw .missing("payment") }
            if payment.recurring && payee.id == nil { throw .missing("payee.id") }
        case .trustBeneficiary:
            guard request.payee?.id != nil else { throw .missing("payee.id") }
        case .aisAccess:
            guard request.consent != nil else { throw .missing("consent") }
        case .login, .addBeneficiary, .sensitiveAction, .storeCredential:
            break
        }
    }

    private func decodeAmount(_ root: Fields) throws(ContractError) -> Money? {
        guard let fields = try root.object("amount") else { return nil }
        guard let value = fields.object["value"], value != .null else { throw .missing("amount.value") }
        guard case .string(let text) = value else {
            throw ContractError(.invalidAmount, "amount.value must be a decimal string such as \"15.00\", not a \(value.typeName)")
        }
        guard let code = try fields.string("currency") else { throw .missing("amount.currency") }
        guard let currency = Currency(code: code), referenceRates.supports(currency) else {
            throw ContractError(
                .unsupportedCurrency,
                "amount.currency: \"\(code.prefix(16))\" is not a currency in the reference-rate table (\(referenceRates.perEuro.keys.map(\.code).sorted().joined(separator: ", ")))"
            )
        }
        guard let money = Money(decimal: text, currency: currency) else {
            throw ContractError(
                .invalidAmount,
                "amount.value: \"\(text.prefix(32))\" is not a positive decimal with at most \(currency.minorDigits) decimals for \(currency.code)"
            )
        }
        return money
    }

    private func decodePayment(_ root: Fields) throws(ContractError) -> PaymentDetails? {
        guard let fields = try root.object("payment") else { return nil }
        guard let method = try fields.enumeration("method", PaymentDetails.Method.self) else { throw .missing("payment.method") }
        return PaymentDetails(
            // A remote electronic payment is the case PSD2 Art. 97(1)(b) is about: the default.
            method: method, channel: try fields.enumeration("channel", PaymentDetails.Channel.self) ?? .remote,
            initiator: try fields.enumeration("initiator", PaymentDetails.Initiator.self) ?? .payer,
            recurring: try fields.bool("recurring") ?? false,
            mandateRef: try fields.identifier("mandate_ref").map(RequestID.init),
            anonymousPrepaid: try fields.bool("anonymous_prepaid") ?? false,
            secureCorporate: try fields.bool("secure_corporate") ?? false,
            samePerson: try fields.bool("same_person") ?? false
        )
    }

    private func decodeRisk(_ root: Fields) throws(ContractError) -> RiskAssessment? {
        guard let fields = try root.object("risk") else { return nil }
        var score: Double?
        if let value = fields.object["score"], value != .null {
            guard case .number(let number) = value else { throw .wrongType("risk.score", "number", value) }
            guard (0...1).contains(number) else {
                throw ContractError(.invalidValue, "risk.score: \(number) is outside 0...1 (0 = no risk, 1 = certain fraud)")
            }
            score = number
        }
        var signals: [String] = []
        if let value = fields.object["signals"], value != .null {
            guard case .array(let elements) = value else { throw .wrongType("risk.signals", "array", value) }
            guard elements.count <= RequestDecoder.riskSignalsMax else {
                throw ContractError(.invalidValue, "risk.signals: more than \(RequestDecoder.riskSignalsMax) signals")
            }
            for element in elements {
                guard case .string(let signal) = element, !signal.isEmpty, signal.utf8.count <= RequestDecoder.riskSignalBytesMax else {
                    throw ContractError(
                        .invalidValue,
                        "risk.signals: each signal must be a non-empty string of at most \(RequestDecoder.riskSignalBytesMax) bytes"
                    )
                }
                signals.append(signal)
            }
        }
        return RiskAssessment(score: score, signals: signals)
    }
}

/// Typed access to the members of one JSON object, with the dotted path for messages.
private struct Fields {
    let object: JSONObject
    let path: String

    func name(_ member: String) -> String { path.isEmpty ? member : path + "." + member }

    /// The member's value, `nil` when absent or `null`.
    private func value(_ member: String) -> JSONValue? {
        guard let value = object[member], value != .null else { return nil }
        return value
    }

    func string(_ member: String) throws(ContractError) -> String? {
        guard let value = value(member) else { return nil }
        guard case .string(let text) = value else { throw .wrongType(name(member), "string", value) }
        return text
    }

    func bool(_ member: String) throws(ContractError) -> Bool? {
        guard let value = value(member) else { return nil }
        guard case .bool(let flag) = value else { throw .wrongType(name(member), "boolean", value) }
        return flag
    }

    func object(_ member: String) throws(ContractError) -> Fields? {
        guard let value = value(member) else { return nil }
        guard case .object(let nested) = value else { throw .wrongType(name(member), "object", value) }
        return Fields(object: nested, path: name(member))
    }

    func identifier(_ member: String) throws(ContractError) -> String? {
        guard let text = try string(member) else { return nil }
        guard !text.isEmpty, text.utf8.count <= RequestDecoder.identifierBytesMax else {
            throw ContractError(
                .invalidValue, "\(name(member)) must be a non-empty string of at most \(RequestDecoder.identifierBytesMax) bytes")
        }
        return text
    }

    func country(_ member: String) throws(ContractError) -> CountryCode? {
        guard let text = try string(member) else { return nil }
        guard let country = CountryCode(text) else {
            throw ContractError(
                .invalidCountry, "\(name(member)): \"\(text.prefix(16))\" is not an assigned ISO 3166-1 alpha-2 country code")
        }
        return country
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ member: String, _: E.Type) throws(ContractError) -> E?
    where E.RawValue == String {
        guard let text = try string(member) else { return nil }
        guard let value = E(rawValue: text) else {
            throw ContractError(
                .invalidValue,
                "\(name(member)): \"\(text.prefix(64))\" is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return value
    }
}

extension ContractError {
    static func missing(_ field: String) -> ContractError {
        ContractError(.missingField, "\(field) is required")
    }

    static func wrongType(_ field: String, _ expected: String, _ value: JSONValue) -> ContractError {
        ContractError(.invalidType, "\(field) must be a \(expected), not \(value.typeName)")
    }
}
