import Foundation
import SCACards
import SCARules

extension PaymentService {
    /// The payment as the API shows it (Checkout.com's shape, with the engine's additions:
    /// `path`, `sca`, `optimizer`, `liability`, `notes`).
    static func answerJSON(id: String, request: StoredRequest, outcome: PaymentOutcome, captured: Int64, createdAt: Instant) throws
        -> String
    {
        func json(_ value: some Encodable) throws -> Any {
            try JSONSerialization.jsonObject(with: Data(try encode(value).utf8), options: [.fragmentsAllowed])
        }
        let null = NSNull()
        var links: [String: Any] = [
            "self": ["href": "/v1/payments/\(id)"], "trace": ["href": "/v1/payments/\(id)/trace"],
        ]
        if let url = outcome.challengeURL, outcome.status == .pending { links["redirect"] = ["href": url] }
        if outcome.status == .authorized || outcome.status == .partiallyCaptured {
            links["capture"] = ["href": "/v1/payments/\(id)/captures"]
        }
        let code = outcome.responseCode
        let object: [String: Any] = [
            "id": id,
            "status": outcome.status.rawValue,
            "approved": outcome.status == .authorized || outcome.status == .captured || outcome.status == .partiallyCaptured,
            "response_code": code ?? null,
            "response_summary": code.map(ResponseCode.summary) ?? null,
            "amount": request.amount,
            "currency": request.currency,
            "captured_amount": captured,
            "reference": request.reference ?? null,
            "payment_type": request.paymentType,
            "merchant_initiated": request.merchantInitiated,
            "previous_payment_id": request.previousPaymentID ?? null,
            "source": [
                "type": request.sourceType, "id": request.sourceID ?? null, "scheme": request.scheme ?? null, "bin": request.bin,
                "last4": request.last4, "issuer": request.issuer ?? null, "issuer_country": request.issuerCountry ?? null,
                "expiry_month": request.expiryMonth, "expiry_year": request.expiryYear, "fingerprint": request.fingerprint,
            ] as [String: Any],
            "path": outcome.path.rawValue,
            "3ds": try outcome.threeDS.map(json) ?? null,
            "liability_shift": outcome.liabilityShift,
            // Who carries fraud liability: only meaningful once a payment is approved.
            "liability": (outcome.status == .pending || outcome.status == .declined) ? null : outcome.liability as Any,
            "sca": try json(outcome.sca),
            "optimizer": try outcome.optimizer.map(json) ?? null,
            "next_action": outcome.nextAction ?? null,
            "notes": outcome.notes,
            "created_at": createdAt.rfc3339,
            "_links": links,
        ]
        // Unsorted: Foundation sorts keys with ICU collation, which took a quarter of the
        // payments API's time (BENCHMARKS.md); members are found by name, not by order.
        let data = try JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
