import Foundation
import SCARules
import Testing

@testable import SCAContract

/// Every kind of bad input gets an error with a stable code, a message naming the field,
/// and the line's id when it has one (DESIGN.md, the decision contract).
struct RequestDecoderTests {
    let decoder = RequestDecoder(referenceRates: .illustrative, absentSCA: .passed)

    static let validPayment =
        #"{"id":"p1","at":"2026-11-21T08:05:00Z","action":"payment","payer":{"id":"anna","psp_country":"PL","instrument":"card-1"},"payee":{"id":"bakery","psp_country":"PL"},"amount":{"value":"15.00","currency":"PLN"},"payment":{"method":"card","channel":"remote"}}"#

    func decode(_ line: String) -> Result<DecisionRequest, ContractError> {
        decoder.decode(line: Array(line.utf8))
    }

    func error(_ line: String) -> ContractError? {
        if case .failure(let error) = decode(line) { return error }
        return nil
    }

    /// Replaces `old` by `new` in the valid payment line.
    func variant(_ old: String, _ new: String) -> String {
        precondition(Self.validPayment.contains(old), "fixture does not contain \(old)")
        return Self.validPayment.replacingOccurrences(of: old, with: new)
    }

    @Test func validPaymentDecodesWithDefaults() throws {
        let request = try decode(Self.validPayment).get()
        #expect(request.id == RequestID("p1"))
        #expect(request.amount == Money(minorUnits: 1500, currency: Currency(code: "PLN")!))
        #expect(request.payment?.initiator == .payer)
        #expect(request.payment?.recurring == false)
        #expect(request.payer.consumer)
        #expect(request.customerPresent)
        #expect(request.sca == .passed, "in replay an absent sca means passed")
    }

    @Test func absentSCAIsPendingWhenTheDecoderSaysSo() throws {
        let pending = RequestDecoder(referenceRates: .illustrative, absentSCA: nil)
        #expect(try pending.decode(line: Array(Self.validPayment.utf8)).get().sca == nil)
    }

    @Test func channelDefaultsToRemote() throws {
        let line = variant(#""payment":{"method":"card","channel":"remote"}"#, #""payment":{"method":"credit_transfer"}"#)
        #expect(try decode(line).get().payment?.channel == .remote)
    }

    @Test func nullMeansAbsent() throws {
        let line = variant(
            #""payment":{"method":"card","channel":"remote"}"#,
            #""payment":{"method":"card","channel":"remote","mandate_ref":null},"requested_exemption":null,"consent":null,"sca":null"#)
        let request = try decode(line).get()
        #expect(request.requestedExemption == nil)
        #expect(request.sca == .passed)
    }

    @Test(arguments: [
        ("not json", ContractError.Code.invalidJSON),
        ("[1,2]", .invalidJSON),
        (#"{"id":"x""#, .invalidJSON),
        (#"{"id":"a","id":"b"}"#, .invalidJSON),
        (#"{"at":"2026-11-21T08:05:00Z","action":"login"}"#, .missingField),
        (#"{"action":"login","payer":{"id":"a","psp_country":"PL"}}"#, .missingField),
        (#"{"at":"2026-11-21T08:05:00Z","payer":{"id":"a","psp_country":"PL"}}"#, .missingField),
        (#"{"at":"2026-11-21T08:05:00Z","action":"login","payer":{"psp_country":"PL"}}"#, .missingField),
        (#"{"at":"2026-11-21T08:05:00Z","action":"login","payer":{"id":"a"}}"#, .missingField),
        (#"{"at":"2026-11-21T08:05:00Z","action":"fly","payer":{"id":"a","psp_country":"PL"}}"#, .unknownAction),
        (#"{"at":"yesterday","action":"login","payer":{"id":"a","psp_country":"PL"}}"#, .invalidTimestamp),
        (#"{"at":"2026-11-21T08:05:00","action":"login","payer":{"id":"a","psp_country":"PL"}}"#, .invalidTimestamp),
        (#"{"at":"2026-02-30T08:05:00Z","action":"login","payer":{"id":"a","psp_country":"PL"}}"#, .invalidTimestamp),
        (#"{"at":"2026-11-21T24:00:00Z","action":"login","payer":{"id":"a","psp_country":"PL"}}"#, .invalidTimestamp),
        (#"{"at":"2026-11-21T08:05:00Z","action":"login","payer":{"id":"a","psp_country":"XX"}}"#, .invalidCountry),
        (#"{"at":"2026-11-21T08:05:00Z","action":"login","payer":{"id":"a","psp_country":"UK"}}"#, .invalidCountry),
        (#"{"at":"2026-11-21T08:05:00Z","action":"login","payer":{"id":"a","psp_country":"pl"}}"#, .invalidCountry),
        (#"{"at":"2026-11-21T08:05:00Z","action":"login","payer":{"id":"a","psp_country":7}}"#, .invalidType),
        (#"{"at":"2026-11-21T08:05:00Z","action":"login","payer":"anna"}"#, .invalidType),
        (#"{"at":"2026-11-21T08:05:00Z","action":"ais_access","payer":{"id":"a","psp_country":"PL"}}"#, .missingField),
        (
            #"{"at":"2026-11-21T08:05:00Z","action":"trust_beneficiary","payer":{"id":"a","psp_country":"PL"},"payee":{"psp_country":"PL"}}"#,
            .missingField
        ),
    ])
    func badLinesGetStableCodes(line: String, code: ContractError.Code) {
        #expect(error(line)?.code == code, "\(line)")
    }

    @Test(arguments: [
        (#""value":"15.00""#, #""value":"-15.00""#),
        (#""value":"15.00""#, #""value":"0.00""#),
        (#""value":"15.00""#, #""value":"15.001""#),
        (#""value":"15.00""#, #""value":"1e3""#),
        (#""value":"15.00""#, #""value":".50""#),
        (#""value":"15.00""#, #""value":"15.""#),
        (#""value":"15.00""#, #""value":"15,00""#),
        (#""value":"15.00""#, #""value":" 15.00""#),
        (#""value":"15.00""#, #""value":"+15.00""#),
        (#""value":"15.00""#, #""value":"""#),
        (#""value":"15.00""#, #""value":15.00"#),
        (#""value":"15.00""#, #""value":"9999999999999.00""#),
    ])
    func malformedAmountsAreInvalidAmount(old: String, new: String) {
        #expect(error(variant(old, new))?.code == .invalidAmount, "\(new)")
    }

    @Test(arguments: ["XYZ", "pln", "JPY", "", "EURO"])
    func currenciesOutsideTheRateTableAreUnsupported(code: String) {
        #expect(error(variant(#""currency":"PLN""#, #""currency":"\#(code)""#))?.code == .unsupportedCurrency)
    }

    @Test func minorDigitsFollowTheCurrency() throws {
        let isk = variant(#""value":"15.00","currency":"PLN""#, #""value":"150","currency":"ISK""#)
        #expect(try decode(isk).get().amount == Money(minorUnits: 150, currency: Currency(code: "ISK")!))
        let iskWithCents = variant(#""value":"15.00","currency":"PLN""#, #""value":"150.5","currency":"ISK""#)
        #expect(error(iskWithCents)?.code == .invalidAmount)
    }

    @Test(arguments: [
        (
            #""payment":{"method":"card","channel":"remote"}"#, #""payment":{"method":"cash","channel":"remote"}"#,
            ContractError.Code.invalidValue
        ),
        (#""payment":{"method":"card","channel":"remote"}"#, #""payment":{"method":"card","channel":"teleport"}"#, .invalidValue),
        (
            #""payment":{"method":"card","channel":"remote"}"#, #""payment":{"method":"card","channel":"remote","initiator":"bank"}"#,
            .invalidValue
        ),
        (
            #""payment":{"method":"card","channel":"remote"}"#, #""payment":{"method":"card","channel":"remote","recurring":"yes"}"#,
            .invalidType
        ),
        (#""payment":{"method":"card","channel":"remote"}"#, #""payment":{"channel":"remote"}"#, .missingField),
        (
            #""payment":{"method":"card","channel":"remote"}"#,
            #""payment":{"method":"card","channel":"remote","recurring":true},"sca":"maybe""#, .invalidValue
        ),
        (
            #""payment":{"method":"card","channel":"remote"}"#, #""payment":{"method":"card","channel":"remote"},"risk":{"score":1.5}"#,
            .invalidValue
        ),
        (
            #""payment":{"method":"card","channel":"remote"}"#, #""payment":{"method":"card","channel":"remote"},"risk":{"score":"low"}"#,
            .invalidType
        ),
        (
            #""payment":{"method":"card","channel":"remote"}"#,
            #""payment":{"method":"card","channel":"remote"},"requested_exemption":"vip""#, .invalidValue
        ),
        (
            #""payment":{"method":"card","channel":"remote"}"#, #""payment":{"method":"card","channel":"remote"},"customer_present":"no""#,
            .invalidType
        ),
        (#","payment":{"method":"card","channel":"remote"}"#, "", .missingField),
        (#","amount":{"value":"15.00","currency":"PLN"}"#, "", .missingField),
        (#""payee":{"id":"bakery","psp_country":"PL"}"#, #""payee":{"id":"bakery"}"#, .missingField),
        (#""payee":{"id":"bakery","psp_country":"PL"}"#, #""payee":{"id":"bakery","psp_country":"ZZ"}"#, .invalidCountry),
        (#""id":"p1""#, #""id":"p1","payer":{"id":"x","psp_country":"PL"}"#, .invalidJSON),
    ])
    func paymentFieldsAreChecked(old: String, new: String, code: ContractError.Code) {
        #expect(error(variant(old, new))?.code == code, "\(new)")
    }

    @Test func recurringPaymentNeedsAPayeeID() {
        let line = variant(#""payee":{"id":"bakery","psp_country":"PL"}"#, #""payee":{"psp_country":"PL"}"#)
            .replacingOccurrences(of: #""channel":"remote""#, with: #""channel":"remote","recurring":true"#)
        #expect(error(line)?.code == .missingField)
        #expect(error(line)?.message.contains("payee.id") == true)
    }

    @Test func errorsCarryTheLineIDAndNameTheField() {
        let failure = error(variant(#""currency":"PLN""#, #""currency":"XYZ""#))
        #expect(failure?.requestID == "p1")
        #expect(failure?.message.contains("amount.currency") == true)
        #expect(error("{oops")?.requestID == nil)
    }

    @Test func acceptsCheckoutExemptionNames() throws {
        let line = variant(
            #""payment":{"method":"card","channel":"remote"}"#,
            #""payment":{"method":"card","channel":"remote"},"requested_exemption":"transaction_risk_assessment""#)
        #expect(try decode(line).get().requestedExemption == .transactionRiskAnalysis)
    }

    @Test func unknownMembersAreIgnored() throws {
        let line = variant(#""id":"p1""#, #""id":"p1","note":"from the seed""#)
        #expect(try decode(line).get().id == RequestID("p1"))
    }

    @Test func overlongIdentifiersAreRefused() {
        let long = String(repeating: "a", count: RequestDecoder.identifierBytesMax + 1)
        #expect(error(variant(#""id":"anna""#, #""id":"\#(long)""#))?.code == .invalidValue)
    }
}
