import Crypto
import Foundation
import SCAAuth
import SCAPrimitives
import SCARules
import SCAStore
import Testing

@testable import SCAGate

/// Each expiry rule of the gate at its boundary, on the store's manual clock: alive one
/// millisecond before, dead at it (RTS Art. 4(3)(d) for codes, Art. 4(3)(d) idle sessions).
@Suite("Expiry at the boundary") struct ExpiryTests {
    static let millisecond = Instant.Duration(milliseconds: 1)
    /// The fixture's lifetimes (tokens, challenges, session idle time) are all five minutes.
    static let lifetimeLessOne = Instant.Duration(milliseconds: 5 * 60_000 - 1)

    @Test("a one-time token lives its lifetime, and not a millisecond more", arguments: Backend.available)
    func aTokenExpiresAtItsLifetime(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, seed) = try await fixture.user("anna")
            let token = try await fixture.token(fixture.login(anna))
            fixture.test.clock.advance(Self.lifetimeLessOne)
            #expect(try await fixture.state(token) == "created")
            // A factor passed in the last millisecond still counts.
            _ = try await fixture.auth.verify(token: token, .totp(fixture.code(seed)))
            #expect(try await fixture.state(token) == "partly_passed")

            let late = try await fixture.token(fixture.login(anna))
            fixture.test.clock.advance(.minutes(5))
            #expect(try await fixture.state(late) == "expired")
            #expect(await isRefusal(.verificationFailed) { _ = try await fixture.auth.verify(token: late, .pin("739148")) })
        }
    }

    @Test("a session ends after exactly its idle time, and each use restarts it", arguments: Backend.available)
    func aSessionEndsAfterItsIdleTime(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let registration = try await fixture.auth.register(username: "anna", name: "Anna", pin: "739148")
            fixture.test.clock.advance(Self.lifetimeLessOne)
            let caller = try await fixture.auth.caller(bearer: registration.session, authenticatedOnly: false)
            #expect(caller.userID == registration.userID)
            // The use above restarted the idle time: five minutes from it, the session is over.
            fixture.test.clock.advance(.minutes(5))
            #expect(
                await isRefusal(.unauthenticated) {
                    _ = try await fixture.auth.caller(bearer: registration.session, authenticatedOnly: false)
                })
        }
    }

    @Test("a passkey registration challenge is accepted until its lifetime, not at it", arguments: Backend.available)
    func aRegistrationChallengeExpiresAtItsLifetime(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, _) = try await fixture.user("anna")
            let challenge = try await fixture.auth.registrationOptions(userID: anna).challenge
            fixture.test.clock.advance(Self.lifetimeLessOne)
            #expect(fixture.auth.registrationChallengeIsValid(challenge, userID: anna))
            #expect(!fixture.auth.registrationChallengeIsValid(challenge, userID: "usr_other"))
            fixture.test.clock.advance(Self.millisecond)
            #expect(!fixture.auth.registrationChallengeIsValid(challenge, userID: anna))
        }
    }

    @Test("a push approval can be answered until its token expires, not at it", arguments: Backend.available)
    func aPushApprovalExpiresWithItsToken(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, _) = try await fixture.user("anna")
            let key = P256.Signing.PrivateKey()
            let device = try await fixture.enrol(
                anna, FactorRequest(kind: .deviceKey, label: "Phone", publicKey: Base64URL.encode(Array(key.publicKey.x963Representation)))
            )
            func pending() async throws -> Int {
                let minute = fixture.test.clock.now.millisecondsSinceEpoch / 60_000
                let signature = Array(try key.signature(for: AuthService.feedMessage(factorID: device, minute: minute)).derRepresentation)
                return try await fixture.auth.deviceFeed(factorID: device, signature: signature).items.count
            }
            let token = try await fixture.token(fixture.login(anna))
            _ = try await fixture.auth.triggerPush(token: token)
            fixture.test.clock.advance(Self.lifetimeLessOne)
            #expect(try await pending() == 1)
            fixture.test.clock.advance(Self.millisecond)
            #expect(try await pending() == 0)
        }
    }
}
