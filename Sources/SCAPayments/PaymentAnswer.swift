import SCACards
import SCAPrimitives
import SCARules

extension PaymentService {
    /// The members of an outcome that both the stored outcome and the answer hold, encoded
    /// once.
    struct Parts: Sendable {
        let sca: String
        let threeDS: String?
        let optimizer: String?

        init(_ outcome: PaymentOutcome) throws {
            sca = try JSONValueEncoder.encode(outcome.sca)
            threeDS = try outcome.threeDS.map { try JSONValueEncoder.encode($0) }
            optimizer = try outcome.optimizer.map { try JSONValueEncoder.encode($0) }
        }
    }

}

/// The payment as the API shows it (Checkout.com's shape, with the engine's additions:
/// `path`, `sca`, `optimizer`, `liability`, `notes`), members always in this order.
public struct PaymentView: JSONAnswer {
    let id: String
    let request: StoredRequest
    let outcome: PaymentOutcome
    let captured: Int64
    let createdAt: Instant
    let parts: PaymentService.Parts

    /// `parts` when the caller has them encoded already (a new payment's), else encoded here.
    init(
        id: String, request: StoredRequest, outcome: PaymentOutcome, captured: Int64, createdAt: Instant,
        parts: PaymentService.Parts? = nil
    ) throws {
        self.id = id
        self.request = request
        self.outcome = outcome
        self.captured = captured
        self.createdAt = createdAt
        self.parts = try parts ?? .init(outcome)
    }

    public var status: PaymentStatus { outcome.status }

    public func write(to out: inout JSONBuilder) {
        let approved = outcome.status == .authorized || outcome.status == .captured || outcome.status == .partiallyCaptured
        out.string("id", id)
        out.string("status", outcome.status.rawValue)
        out.bool("approved", approved)
        out.string("response_code", outcome.responseCode)
        out.string("response_summary", outcome.responseCode.map(ResponseCode.summary))
        out.integer("amount", request.amount)
        out.string("currency", request.currency)
        out.integer("captured_amount", captured)
        out.string("reference", request.reference)
        out.string("payment_type", request.paymentType)
        out.bool("merchant_initiated", request.merchantInitiated)
        out.string("previous_payment_id", request.previousPaymentID)
        out.raw("source", Self.sourceJSON(request))
        out.string("path", outcome.path.rawValue)
        out.raw("3ds", optional: parts.threeDS)
        out.bool("liability_shift", outcome.liabilityShift)
        // Who carries fraud liability: only meaningful once a payment is approved.
        out.string("liability", outcome.status == .pending || outcome.status == .declined ? nil : outcome.liability)
        out.raw("sca", parts.sca)
        out.raw("optimizer", optional: parts.optimizer)
        out.string("next_action", outcome.nextAction)
        out.strings("notes", outcome.notes)
        out.string("created_at", createdAt.rfc3339)
        out.raw("_links", Self.linksJSON(id: id, outcome: outcome))
    }

    private static func sourceJSON(_ request: StoredRequest) -> String {
        var source = JSONBuilder()
        source.string("type", request.sourceType)
        source.string("id", request.sourceID)
        source.string("scheme", request.scheme)
        source.string("bin", request.bin)
        source.string("last4", request.last4)
        source.string("issuer", request.issuer)
        source.string("issuer_country", request.issuerCountry)
        source.integer("expiry_month", Int64(request.expiryMonth))
        source.integer("expiry_year", Int64(request.expiryYear))
        source.string("fingerprint", request.fingerprint)
        return source.json
    }

    private static func linksJSON(id: String, outcome: PaymentOutcome) -> String {
        func link(_ href: String) -> String { #"{"href":"# + JSONBuilder.quoted(href) + "}" }
        var links = JSONBuilder()
        links.raw("self", link("/v1/payments/\(id)"))
        links.raw("trace", link("/v1/payments/\(id)/trace"))
        if let url = outcome.challengeURL, outcome.status == .pending { links.raw("redirect", link(url)) }
        if outcome.status == .authorized || outcome.status == .partiallyCaptured {
            links.raw("capture", link("/v1/payments/\(id)/captures"))
        }
        return links.json
    }
}

/// The payment's 3DS messages and decisions, in order, for chargeback defence.
public struct PaymentTrace: Encodable, Sendable {
    public let paymentID: String
    public let sca: SCASummary
    public let optimizer: OptimizerRecord?
    public let notes: [String]
    public let messages: [TraceEntry]

    enum CodingKeys: String, CodingKey {
        case paymentID = "payment_id"
        case sca, optimizer, notes, messages
    }
}

/// What the engine tells the merchant about a payment (`GET /v1/notifications`).
public struct PaymentNotification: JSONAnswer {
    public let id: String
    public let paymentID: String
    public let kind: String
    public let message: String
    public let createdAt: Instant

    public func write(to out: inout JSONBuilder) {
        out.string("id", id)
        out.string("payment_id", paymentID)
        out.string("kind", kind)
        out.string("message", message)
        out.string("created_at", createdAt.rfc3339)
    }
}

/// A sandbox card and how its simulated issuer behaves.
public struct SandboxCard: JSONAnswer {
    public let number: String
    public let scheme: String
    public let issuer: String
    public let issuerCountry: String
    public let label: String
    public let behaviour: String

    public func write(to out: inout JSONBuilder) {
        out.string("number", number)
        out.string("scheme", scheme)
        out.string("issuer", issuer)
        out.string("issuer_country", issuerCountry)
        out.string("label", label)
        out.string("behaviour", behaviour)
    }
}
