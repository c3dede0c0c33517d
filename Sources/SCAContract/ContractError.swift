/// A request line that breaks the decision contract: a stable code and a readable message.
public struct ContractError: Error, Equatable, Sendable {
    /// Stable error codes; add, never rename (documented in docs/DECISION-CONTRACT.md).
    public enum Code: String, Sendable, CaseIterable {
        /// Not valid JSON, or not a JSON object.
        case invalidJSON = "invalid_json"
        /// The line is longer than the configured maximum.
        case lineTooLong = "line_too_long"
        case missingField = "missing_field"
        /// A field has the wrong JSON type.
        case invalidType = "invalid_type"
        /// A field has a value outside its allowed set or range.
        case invalidValue = "invalid_value"
        case unknownAction = "unknown_action"
        case invalidAmount = "invalid_amount"
        /// Not an ISO 4217 code, or not in the reference-rate table.
        case unsupportedCurrency = "unsupported_currency"
        /// Not an assigned ISO 3166-1 alpha-2 code.
        case invalidCountry = "invalid_country"
        case invalidTimestamp = "invalid_timestamp"
    }

    public let code: Code
    public let message: String
    /// The request's `id`, when the line had a readable one.
    public var requestID: String?

    public init(_ code: Code, _ message: String, requestID: String? = nil) {
        self.code = code
        self.message = message
        self.requestID = requestID
    }
}
