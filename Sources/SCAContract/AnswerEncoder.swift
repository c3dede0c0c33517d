import SCAPrimitives
import SCARules

/// Writes answers of the decision contract as single JSON lines, keys in a fixed order:
/// `id, outcome, reason, citation, regime, amount_in_regime_currency, not_applied, counters`.
public enum AnswerEncoder {
    /// The `regime` value of a request outside both regimes (SCA-RULES §1).
    public static let outOfScopeRegime = "out_of_scope"

    public static func encode(_ decision: Decision, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"id":"#.utf8)
        appendOptionalString(decision.requestID?.value, into: &out)
        out.append(contentsOf: #","outcome":""#.utf8)
        out.append(contentsOf: decision.outcome.rawValue.utf8)
        out.append(contentsOf: #"","reason":""#.utf8)
        out.append(contentsOf: decision.reason.rawValue.utf8)
        out.append(contentsOf: #"","citation":""#.utf8)
        out.append(contentsOf: decision.citationText.utf8)
        out.append(contentsOf: #"","regime":""#.utf8)
        out.append(contentsOf: (decision.regime?.rawValue ?? outOfScopeRegime).utf8)
        out.append(contentsOf: #"","amount_in_regime_currency":"#.utf8)
        if let amount = decision.amountInRegimeCurrency {
            appendMoney(amount, into: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","not_applied":["#.utf8)
        for (index, entry) in decision.notApplied.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"reason":""#.utf8)
            out.append(contentsOf: entry.exemption.rawValue.utf8)
            out.append(contentsOf: #"","why":""#.utf8)
            out.append(contentsOf: entry.why.rawValue.utf8)
            out.append(contentsOf: #"","message":""#.utf8)
            out.append(contentsOf: entry.why.message.utf8)
            out.append(contentsOf: #""}"#.utf8)
        }
        out.append(contentsOf: #"],"counters":{"#.utf8)
        var first = true
        func key(_ name: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: #"":"#.utf8)
        }
        let counters = decision.counters
        if let count = counters.lowValueCount {
            key("low_value_count")
            appendInteger(Int64(count), into: &out)
        }
        if let total = counters.lowValueTotal {
            key("low_value_total")
            appendQuotedDecimal(total, into: &out)
        }
        if let count = counters.contactlessCount {
            key("contactless_count")
            appendInteger(Int64(count), into: &out)
        }
        if let total = counters.contactlessTotal {
            key("contactless_total")
            appendQuotedDecimal(total, into: &out)
        }
        if let count = counters.aisUnattendedToday {
            key("ais_unattended_today")
            appendInteger(Int64(count), into: &out)
        }
        out.append(contentsOf: "}}".utf8)
    }

    public static func encode(_ error: ContractError, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"id":"#.utf8)
        appendOptionalString(error.requestID, into: &out)
        out.append(contentsOf: #","error":{"code":""#.utf8)
        out.append(contentsOf: error.code.rawValue.utf8)
        out.append(contentsOf: #"","message":"#.utf8)
        appendString(error.message, into: &out)
        out.append(contentsOf: "}}".utf8)
    }

    public static func line(_ decision: Decision) -> String {
        var out: [UInt8] = []
        encode(decision, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func line(_ error: ContractError) -> String {
        var out: [UInt8] = []
        encode(error, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendMoney(_ money: Money, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"value":"#.utf8)
        appendQuotedDecimal(money, into: &out)
        out.append(contentsOf: #","currency":""#.utf8)
        out.append(contentsOf: money.currency.code.utf8)
        out.append(contentsOf: #""}"#.utf8)
    }

    /// Digits written straight into the buffer: no `String` per number.
    static func appendInteger(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        Money.appendDigits(of: value.magnitude, into: &out)
    }

    /// `"3.52"`: the amount with exactly its currency's minor digits, quoted.
    static func appendQuotedDecimal(_ money: Money, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        money.appendDecimal(into: &out)
        out.append(UInt8(ascii: "\""))
    }

    static func appendOptionalString(_ text: String?, into out: inout [UInt8]) {
        JSONWriter.appendOptionalString(text, into: &out)
    }

    static func appendString(_ text: String, into out: inout [UInt8]) { JSONWriter.appendString(text, into: &out) }
}
