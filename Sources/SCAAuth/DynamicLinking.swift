import Crypto
import SCARules

/// What a payment challenge is bound to (RTS Art. 5): the amount, the currency and the
/// payee, or for a batch every payee and the total. The text shown to the customer, the
/// bytes a device key or passkey signs and the digest an approval is checked against all
/// come from this one value, so they cannot disagree; any change of amount, currency or
/// payee gives another digest and the approval no longer fits.
public struct PaymentLink: Sendable, Equatable {
    public struct Payee: Sendable, Equatable {
        public let id: String
        /// The name the customer sees.
        public let name: String
        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    public struct Line: Sendable, Equatable {
        public let payee: Payee
        public let amount: Money
        public init(payee: Payee, amount: Money) {
            self.payee = payee
            self.amount = amount
        }
    }

    public enum Problem: String, Error, Sendable {
        case empty = "a payment link needs at least one payee"
        case tooManyLines = "a batch links at most 100 payments"
        case mixedCurrencies = "a batch is linked in one currency"
        case fieldTooLong = "payee ids and names have at most 140 characters"
    }

    /// Payments one batch approval covers.
    public static let linesMax = 100
    /// Characters of a payee id or name (what a SEPA name field holds).
    public static let payeeFieldCharactersMax = 140

    public let lines: [Line]
    public let total: Money

    public init(lines: [Line]) throws(Problem) {
        guard let first = lines.first else { throw .empty }
        guard lines.count <= Self.linesMax else { throw .tooManyLines }
        guard lines.allSatisfy({ $0.amount.currency == first.amount.currency }) else { throw .mixedCurrencies }
        guard lines.allSatisfy({ $0.payee.id.count <= Self.payeeFieldCharactersMax && $0.payee.name.count <= Self.payeeFieldCharactersMax })
        else { throw .fieldTooLong }
        self.lines = lines
        // Each amount has at most 12 integer digits and a batch at most 100 lines: no overflow.
        total = Money(minorUnits: lines.reduce(0) { $0 + $1.amount.minorUnits }, currency: first.amount.currency)
    }

    /// One payment to one payee.
    public init(amount: Money, payee: Payee) {
        lines = [Line(payee: payee, amount: amount)]
        total = amount
    }

    /// A length-prefixed encoding of every bound field, in order: two links have the same
    /// bytes exactly when they have the same payees, amounts and currency.
    public var canonicalBytes: [UInt8] {
        var out = Array("sca-payment-link/1".utf8)
        func field(_ bytes: some Collection<UInt8>) {
            let count = UInt32(bytes.count)
            out += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
            out += bytes
        }
        field(total.currency.code.utf8)
        field(total.decimalString.utf8)
        for line in lines {
            field(line.payee.id.utf8)
            field(line.payee.name.utf8)
            field(line.amount.decimalString.utf8)
        }
        return out
    }

    /// SHA-256 of the canonical bytes: what an approval is checked against.
    public var digest: [UInt8] { Array(SHA256.hash(data: canonicalBytes)) }

    /// The bytes a device key signs or a passkey asserts for this payment: SHA-256 over
    /// the bound data and the challenge's own random nonce.
    public func challengeBytes(nonce: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: canonicalBytes + nonce))
    }

    /// What the customer is shown: "Pay 2,200.00 PLN to Jan Kowalski", or for a batch
    /// "Pay 2,500.00 EUR in total to 3 payees: A 1,000.00 EUR; B 1,000.00 EUR; C 500.00 EUR".
    public var displayText: String {
        if lines.count == 1 {
            return "Pay \(Self.grouped(total)) to \(lines[0].payee.name)"
        }
        let parts = lines.map { "\($0.payee.name) \(Self.grouped($0.amount))" }
        return "Pay \(Self.grouped(total)) in total to \(lines.count) payees: " + parts.joined(separator: "; ")
    }

    /// "2,200.00 PLN": thousands separated by commas, the currency's minor digits.
    static func grouped(_ money: Money) -> String {
        let decimal = money.decimalString
        let integer = decimal.split(separator: ".", maxSplits: 1).first.map(String.init) ?? decimal
        let fraction = decimal.dropFirst(integer.count)
        var groupedInteger = ""
        for (index, digit) in integer.enumerated() {
            if index > 0, (integer.count - index) % 3 == 0 { groupedInteger.append(",") }
            groupedInteger.append(digit)
        }
        return groupedInteger + fraction + " " + money.currency.code
    }
}
