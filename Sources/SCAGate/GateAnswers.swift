import HTTPTypes
import Hummingbird
import SCAHTTP
import SCAPrimitives

extension GateRefusal: APIRefusal {
    /// Each refusal's status in the API's one error shape; a rejected approval also says so
    /// in `x-2fa-approval-result`.
    public var apiError: APIError {
        let status: HTTPResponse.Status
        var headers = HTTPFields()
        switch kind {
        case .notFound: status = .notFound
        case .conflict, .usernameTaken, .scaUnavailable: status = .conflict
        case .invalid, .verificationFailed, .insufficientFunds: status = .unprocessableContent
        case .unauthenticated: status = .unauthorized
        case .approvalInvalid:
            status = .forbidden
            headers[.approvalResult] = "REJECTED"
        case .forbidden: status = .forbidden
        case .rateLimited: status = .tooManyRequests
        case .busy: status = .serviceUnavailable
        }
        return APIError(status: status, code: kind.rawValue, message: message, headers: headers)
    }
}

extension GateOutcome {
    /// The gate's outcome as HTTP: the action's answer, or 403 with a one-time token.
    public func response(created: Bool) -> Response {
        switch self {
        case .done(let body, let approved, let decision):
            var headers = HTTPFields()
            if let decision { headers[.decisionID] = decision.id }
            if approved { headers[.approvalResult] = "APPROVED" }
            return .json(body, status: created ? .created : .ok, headers: headers)
        case .challenge(let token, let decision, let actionType, let displayText):
            var headers = HTTPFields()
            headers[.approval] = token
            headers[.approvalResult] = "REJECTED"
            var out = JSONBuilder()
            out.raw(
                "error",
                #"{"code":"sca_required","message":"strong customer authentication is required: pass the one-time token's challenges, then repeat this request with the x-2fa-approval header"}"#
            )
            out.string("one_time_token", token)
            out.string("action_type", actionType)
            out.string("decision_id", decision.id)
            out.string("reason", decision.reason)
            out.string("display_text", displayText)
            return .json(out.json, status: .forbidden, headers: headers)
        case .refused(let decision):
            var out = JSONBuilder()
            out.raw("error", #"{"code":"refused","message":"the rules engine refused this action ("# + decision.reason + #")"}"#)
            out.string("decision_id", decision.id)
            out.string("reason", decision.reason)
            return .json(out.json, status: .forbidden)
        }
    }
}
