import SCARules
import Testing

@testable import SCAAuth

@Suite struct TOTPTests {
    /// The seed of RFC 4226 Appendix D and RFC 6238 Appendix B (SHA-1).
    static let rfcSeed = "12345678901234567890"

    @Test func rfc4226HOTPValues() {
        // Counter n is TOTP step n.
        let expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
        let totp = TOTPVerifier(digits: 6)
        for (counter, code) in expected.enumerated() {
            #expect(totp.code(seed: Self.rfcSeed, step: Int64(counter)) == code)
        }
    }

    @Test(arguments: [
        (Int64(59), "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ])
    func rfc6238TOTPValues(seconds: Int64, code: String) {
        let totp = TOTPVerifier(digits: 8)
        let instant = Instant(millisecondsSinceEpoch: seconds * 1000)
        #expect(totp.code(seed: Self.rfcSeed, step: totp.step(at: instant)) == code)
        #expect(totp.acceptedStep(code: code, seed: Self.rfcSeed, at: instant, lastAcceptedStep: nil) == totp.step(at: instant))
    }

    @Test func oneStepEitherSideIsAcceptedAndEachCodeOnlyOnce() {
        let totp = TOTPVerifier()
        let seed = TOTPVerifier.makeSeed()
        #expect(seed.count == 32 && seed.utf8.allSatisfy { TOTPVerifier.seedAlphabet.contains($0) })
        let now = Instant(millisecondsSinceEpoch: 1_800_000_000_000)
        let step = totp.step(at: now)
        for offset in Int64(-1)...1 {
            let code = totp.code(seed: seed, step: step + offset)
            #expect(totp.acceptedStep(code: code, seed: seed, at: now, lastAcceptedStep: nil) == step + offset)
        }
        for offset in [Int64(-3), -2, 2, 3] {
            let code = totp.code(seed: seed, step: step + offset)
            // (A collision with a code inside the window is one in a million per step.)
            if (Int64(-1)...1).allSatisfy({ totp.code(seed: seed, step: step + $0) != code }) {
                #expect(totp.acceptedStep(code: code, seed: seed, at: now, lastAcceptedStep: nil) == nil)
            }
        }
        let current = totp.code(seed: seed, step: step)
        #expect(totp.acceptedStep(code: current, seed: seed, at: now, lastAcceptedStep: step) == nil)
        // After the current step was used, the previous step's code is refused too.
        #expect(totp.acceptedStep(code: totp.code(seed: seed, step: step - 1), seed: seed, at: now, lastAcceptedStep: step) == nil)
        #expect(totp.acceptedStep(code: totp.code(seed: seed, step: step + 1), seed: seed, at: now, lastAcceptedStep: step) == step + 1)
        #expect(totp.acceptedStep(code: "", seed: seed, at: now, lastAcceptedStep: nil) == nil)
        #expect(totp.acceptedStep(code: current + "0", seed: seed, at: now, lastAcceptedStep: nil) == nil)
    }

    @Test func theWindowStopsAtTheEpoch() {
        let totp = TOTPVerifier()
        let seed = TOTPVerifier.makeSeed()
        let epoch = Instant(millisecondsSinceEpoch: 0)
        #expect(totp.acceptedStep(code: totp.code(seed: seed, step: 0), seed: seed, at: epoch, lastAcceptedStep: nil) == 0)
        #expect(totp.acceptedStep(code: totp.code(seed: seed, step: 1), seed: seed, at: epoch, lastAcceptedStep: nil) == 1)
    }

    @Test func theProvisioningURICarriesTheSeedInBase32() {
        let uri = TOTPVerifier().provisioningURI(seed: Self.rfcSeed, account: "anna", issuer: "Demo Bank")
        #expect(uri.hasPrefix("otpauth://totp/anna?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
        #expect(uri.contains("issuer=Demo%20Bank"))
    }
}
