import SCARules
import Testing

@testable import SCAContract

/// The stream answers one line per request line, in order, goes on after errors and
/// carries state from line to line.
struct DecisionStreamTests {
    static func payment(_ id: String, _ value: String) -> String {
        #"{"id":"\#(id)","at":"2026-11-21T08:05:00Z","action":"payment","payer":{"id":"anna","psp_country":"PL","instrument":"card-1"},"payee":{"id":"bakery","psp_country":"PL"},"amount":{"value":"\#(value)","currency":"EUR"},"payment":{"method":"card","channel":"remote"}}"#
    }

    @Test func answersEachLineInOrderAndGoesOnAfterErrors() {
        var stream = DecisionStream(configuration: RulesConfiguration())
        let input = [
            Self.payment("a", "10.00"), "not json", Self.payment("b", "-1"), Self.payment("c", "10.00"),
        ].joined(separator: "\n")
        let answers = stream.answer(text: input)
        #expect(answers.count == 4)
        #expect(answers[0].contains(#""id":"a","outcome":"exempt","reason":"low_value""#))
        #expect(answers[1] == #"{"id":null,"error":{"code":"invalid_json","message":"line is not valid JSON: invalid literal at byte 0"}}"#)
        #expect(answers[2].hasPrefix(#"{"id":"b","error":{"code":"invalid_amount""#))
        #expect(answers[3].contains(#""counters":{"low_value_count":2,"low_value_total":"20.00"}"#), "the erred line changed nothing")
        #expect(stream.erroredLines == 2)
    }

    @Test func encodesTheContractExample() {
        var stream = DecisionStream(configuration: RulesConfiguration())
        let line =
            #"{"id": "e1", "at": "2026-11-21T08:05:00Z", "action": "payment", "payer": {"id": "anna", "psp_country": "PL", "instrument": "card-1", "consumer": true}, "payee": {"id": "bakery", "psp_country": "PL"}, "amount": {"value": "15.00", "currency": "PLN"}, "payment": {"method": "card", "channel": "remote", "initiator": "payer", "recurring": false, "mandate_ref": null, "anonymous_prepaid": false, "secure_corporate": false, "same_person": false}, "risk": {"score": 0.02, "signals": []}, "requested_exemption": null, "consent": null, "customer_present": true, "sca": "passed"}"#
        #expect(
            stream.answer(text: line) == [
                #"{"id":"e1","outcome":"exempt","reason":"low_value","citation":"RTS Art. 16","regime":"EEA","amount_in_regime_currency":{"value":"3.52","currency":"EUR"},"not_applied":[{"reason":"trusted_beneficiary","why":"payee_not_trusted","message":"payee is not on the payer's trusted list"}],"counters":{"low_value_count":1,"low_value_total":"3.52"}}"#
            ])
    }

    @Test func answersOverlongLinesWithoutReadingThem() {
        var stream = DecisionStream(configuration: RulesConfiguration(), lineBytesMax: 1024)
        let answers = stream.answer(text: String(repeating: " ", count: 2000) + "x\n" + Self.payment("a", "1.00"))
        #expect(answers.count == 2)
        #expect(answers[0].contains(#""code":"line_too_long""#))
        #expect(answers[1].contains(#""outcome":"exempt""#))
    }

    @Test func escapesIdentifiersInAnswers() {
        var stream = DecisionStream(configuration: RulesConfiguration())
        let answers = stream.answer(text: Self.payment("quote\\\"d", "1.00"))
        #expect(answers[0].hasPrefix(#"{"id":"quote\"d","#))
    }
}
