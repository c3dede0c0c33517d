import Crypto
import SCARules
import Testing

@testable import SCAAuth

private let t0 = Instant(millisecondsSinceEpoch: 1_800_000_000_000)
private func pln(_ text: String) -> Money { Money(decimal: text, currency: Currency(code: "PLN")!)! }

@Suite struct DeviceKeyTests {
    @Test func theDeviceSignatureVerifiesOnlyForItsKeyAndMessage() throws {
        let device = P256.Signing.PrivateKey()
        let key = try DeviceKey(encoded: Array(device.publicKey.x963Representation))
        #expect(try DeviceKey(encoded: Array(device.publicKey.derRepresentation)).encoded == key.encoded)
        let message = Array("challenge".utf8)
        let signature = try device.signature(for: message)
        #expect(key.verify(signature: Array(signature.derRepresentation), over: message))
        #expect(key.verify(signature: Array(signature.rawRepresentation), over: message))
        #expect(!key.verify(signature: Array(signature.derRepresentation), over: Array("challengf".utf8)))
        #expect(!key.verify(signature: Array(signature.derRepresentation.dropLast()), over: message))
        #expect(!key.verify(signature: [], over: message))
        let other = try DeviceKey(encoded: Array(P256.Signing.PrivateKey().publicKey.x963Representation))
        #expect(!other.verify(signature: Array(signature.derRepresentation), over: message))
        #expect(throws: DeviceKey.Failure.notAP256Key) { try DeviceKey(encoded: [4, 1, 2, 3]) }
    }
}

@Suite struct PaymentLinkTests {
    let anna = PaymentLink.Payee(id: "iban:PL61109010140000071219812874", name: "Jan Kowalski")

    @Test func theCustomerSeesTheBoundAmountAndPayee() {
        #expect(PaymentLink(amount: pln("2200"), payee: anna).displayText == "Pay 2,200.00 PLN to Jan Kowalski")
        #expect(PaymentLink(amount: pln("0.05"), payee: anna).displayText == "Pay 0.05 PLN to Jan Kowalski")
        #expect(PaymentLink.grouped(pln("1234567.89")) == "1,234,567.89 PLN")
        #expect(PaymentLink.grouped(Money(decimal: "100000", currency: Currency(code: "JPY")!)!) == "100,000 JPY")
    }

    @Test func anyChangeOfAmountCurrencyOrPayeeChangesTheDigest() {
        let base = PaymentLink(amount: pln("2200"), payee: anna)
        let changes = [
            PaymentLink(amount: pln("2200.01"), payee: anna),
            PaymentLink(amount: Money(decimal: "2200", currency: Currency(code: "EUR")!)!, payee: anna),
            PaymentLink(amount: pln("2200"), payee: .init(id: anna.id + "0", name: anna.name)),
            PaymentLink(amount: pln("2200"), payee: .init(id: anna.id, name: "Jan Kowalsky")),
        ]
        for changed in changes {
            #expect(changed.digest != base.digest)
            #expect(changed.challengeBytes(nonce: [1]) != base.challengeBytes(nonce: [1]))
        }
        #expect(PaymentLink(amount: pln("2200"), payee: anna).digest == base.digest)
        #expect(base.challengeBytes(nonce: [1]) != base.challengeBytes(nonce: [2]))
        // Length prefixes: moving characters between fields changes the bytes.
        let a = PaymentLink(amount: pln("1"), payee: .init(id: "ab", name: "c"))
        let b = PaymentLink(amount: pln("1"), payee: .init(id: "a", name: "bc"))
        #expect(a.digest != b.digest)
    }

    @Test func aBatchIsBoundToEveryPayeeAndTheTotal() throws {
        let bob = PaymentLink.Payee(id: "bob", name: "Bob")
        let batch = try PaymentLink(lines: [.init(payee: anna, amount: pln("1000")), .init(payee: bob, amount: pln("200.50"))])
        #expect(batch.total == pln("1200.50"))
        #expect(batch.displayText == "Pay 1,200.50 PLN in total to 2 payees: Jan Kowalski 1,000.00 PLN; Bob 200.50 PLN")
        let reordered = try PaymentLink(lines: [.init(payee: bob, amount: pln("200.50")), .init(payee: anna, amount: pln("1000"))])
        #expect(reordered.digest != batch.digest)
        #expect(throws: PaymentLink.Problem.empty) { try PaymentLink(lines: []) }
        #expect(throws: PaymentLink.Problem.mixedCurrencies) {
            try PaymentLink(lines: [
                .init(payee: anna, amount: pln("1")),
                .init(payee: bob, amount: Money(decimal: "1", currency: Currency(code: "EUR")!)!),
            ])
        }
        #expect(throws: PaymentLink.Problem.tooManyLines) {
            try PaymentLink(lines: Array(repeating: .init(payee: bob, amount: pln("1")), count: 101))
        }
    }
}

@Suite struct AttemptPolicyTests {
    let policy = AttemptPolicy()

    @Test func fiveFailuresBlockWithGrowingDurationsThenForGood() {
        var counter = AttemptCounter()
        var now = t0
        for round in 0..<3 {
            for attempt in 1...4 {
                #expect(policy.recordFailure(&counter, at: now) == .failed(remaining: 5 - attempt, permanentNext: false))
            }
            let outcome = policy.recordFailure(&counter, at: now)
            let until = now + policy.temporaryBlockDurations[round]
            #expect(outcome == .temporarilyBlocked(until: until, permanentNext: round == 2))
            #expect(policy.availability(counter, at: now) == .blocked(until: until))
            #expect(policy.availability(counter, at: until + .init(milliseconds: -1)) == .blocked(until: until))
            now = until
            #expect(policy.availability(counter, at: now) == .open)
        }
        // The last round warns on every failure that the block it leads to is permanent.
        for attempt in 1...4 {
            #expect(policy.recordFailure(&counter, at: now) == .failed(remaining: 5 - attempt, permanentNext: true))
        }
        #expect(policy.recordFailure(&counter, at: now) == .permanentlyBlocked)
        #expect(policy.availability(counter, at: now + .days(365)) == .permanentlyBlocked)
    }

    @Test func aSuccessEndsTheRunAndTheEscalation() {
        var counter = AttemptCounter()
        for _ in 1...5 { _ = policy.recordFailure(&counter, at: t0) }
        let later = t0 + .minutes(15)
        for _ in 1...4 { _ = policy.recordFailure(&counter, at: later) }
        policy.recordSuccess(&counter)
        #expect(counter == AttemptCounter())
        #expect(policy.recordFailure(&counter, at: later) == .failed(remaining: 4, permanentNext: false))
    }
}

@Suite struct ChallengeTests {
    let binding = Array(SHA256.hash(data: Array("POST /v1/transfers {...}".utf8)))

    @Test func twoFactorsOfDifferentCategoriesApproveItOnce() throws {
        var challenge = Challenge(offered: [.pin, .totp, .sms, .webauthn], binding: binding, at: t0)
        #expect(challenge.state(at: t0) == .created)
        #expect(challenge.missingCategories == [.knowledge, .possession, .inherence])
        try challenge.recordPass(.totp, at: t0)
        #expect(challenge.state(at: t0) == .partlyPassed)
        // A second possession factor adds nothing.
        #expect(throws: Challenge.Refusal.alreadyPassed) { try challenge.recordPass(.sms, at: t0) }
        #expect(challenge.state(at: t0) == .partlyPassed)
        #expect(throws: Challenge.Refusal.notApproved) { try challenge.consume(binding: binding, at: t0) }
        try challenge.recordPass(.pin, at: t0 + .seconds(30))
        #expect(challenge.state(at: t0 + .seconds(30)) == .approved)
        #expect(challenge.missingCategories == [])
        #expect(throws: Challenge.Refusal.alreadyPassed) { try challenge.recordPass(.webauthn, at: t0 + .seconds(30)) }
        var other = binding
        other[0] ^= 1
        #expect(throws: Challenge.Refusal.bindingMismatch) { try challenge.consume(binding: other, at: t0 + .seconds(40)) }
        try challenge.consume(binding: binding, at: t0 + .seconds(40))
        #expect(challenge.state(at: t0 + .seconds(40)) == .consumed)
        #expect(throws: Challenge.Refusal.consumed) { try challenge.consume(binding: binding, at: t0 + .seconds(41)) }
    }

    @Test func itExpiresAfterFiveMinutesWhateverItsState() throws {
        var challenge = Challenge(offered: [.pin, .deviceKey], binding: binding, at: t0)
        let end = t0 + .minutes(5)
        try challenge.recordPass(.pin, at: t0)
        #expect(throws: Challenge.Refusal.expired) { try challenge.recordPass(.deviceKey, at: end) }
        try challenge.recordPass(.deviceKey, at: end + .init(milliseconds: -1))
        #expect(challenge.state(at: end + .init(milliseconds: -1)) == .approved)
        #expect(challenge.state(at: end) == .expired)
        #expect(throws: Challenge.Refusal.expired) { try challenge.consume(binding: binding, at: end) }
    }

    @Test func factorsNotOfferedAndFailedChallengesAreRefused() throws {
        var challenge = Challenge(offered: [.pin, .totp], binding: binding, at: t0)
        #expect(challenge.isSatisfiable)
        #expect(!Challenge(offered: [.totp, .sms, .deviceKey], binding: binding, at: t0).isSatisfiable)
        #expect(throws: Challenge.Refusal.notOffered) { try challenge.recordPass(.webauthn, at: t0) }
        try challenge.fail(at: t0)
        #expect(challenge.state(at: t0) == .failed)
        #expect(throws: Challenge.Refusal.failed) { try challenge.recordPass(.pin, at: t0) }
        #expect(throws: Challenge.Refusal.failed) { try challenge.consume(binding: binding, at: t0) }
    }
}
