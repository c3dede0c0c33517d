import Crypto
import Foundation
import SCAAudit
import SCAAuth
import SCAGate
import SCAPrimitives
import SCARules
import SCAStore
import SCATestSupport
import SQLKit
import Testing

/// The gate on real storage, both backends: one-time tokens bound to one request and one
/// user, used once; factors of two categories; attempt limits shared by every token.
struct GateFixture {
    let test: TestStore
    let auth: AuthService

    static func make(_ backend: Backend) async throws -> GateFixture {
        let test = try await TestStore.make(backend)
        let settings = AuthSettings(
            relyingParty: WebAuthnRelyingParty(id: "localhost", origins: ["http://localhost:8080"]),
            challengeLifetime: .minutes(5), attemptPolicy: AttemptPolicy(), sessionIdle: .minutes(5), demo: true
        )
        let auth = try AuthService(
            store: test.store, settings: settings, pepper: Array(repeating: 7, count: 32), masterKey: Array(repeating: 9, count: 32),
            scrypt: .init(logN: 10, blockSize: 8, parallelism: 1), pins: PinCheckPool(threads: 2, queueMax: 64),
            messages: DevMessages(), logger: TestStore.logger
        )
        return GateFixture(test: test, auth: auth)
    }

    func close() async {
        await auth.pins.shutdown()
        await test.close()
    }

    /// Runs `body` on a new fixture, closed whether `body` returns or throws.
    static func with(_ backend: Backend, _ body: (GateFixture) async throws -> Void) async throws {
        let fixture = try await make(backend)
        try await withCleanup({ try await body(fixture) }, cleanup: fixture.close)
    }

    /// A user with a PIN and a TOTP authenticator; returns the id and the TOTP seed (the
    /// authenticator app's base32 secret is that seed's bytes).
    func user(_ name: String, pin: String = "739148") async throws -> (id: String, seed: String) {
        let registration = try await auth.register(username: name, name: name.capitalized, pin: pin)
        let draft = try await auth.prepareFactor(userID: registration.userID, FactorRequest(kind: .totp, label: "App"))
        let view = try await auth.store.transact { scope in
            try await auth.insertFactor(draft, userID: registration.userID, scope: scope)
        }
        let secret = try #require((try JSONSerialization.jsonObject(with: Data(view.utf8)) as? [String: Any])?["secret"] as? String)
        return (registration.userID, try #require(base32ASCII(secret)))
    }

    func enrol(_ userID: String, _ request: FactorRequest) async throws -> String {
        let draft = try await auth.prepareFactor(userID: userID, request)
        let view = try await auth.store.transact { scope in try await auth.insertFactor(draft, userID: userID, scope: scope) }
        return try #require((try JSONSerialization.jsonObject(with: Data(view.utf8)) as? [String: Any])?["id"] as? String)
    }

    /// A protected login of `userID` bound to `body`; the effect returns "done".
    func login(_ userID: String, body: String = #"{"username":"x"}"#) -> ProtectedAction {
        ProtectedAction(
            userID: userID, actionType: "login", decisionRequest: auth.decisionRequest(action: "login", userID: userID),
            binding: AuthService.binding(method: "POST", path: "/v1/sessions", body: Array(body.utf8), userID: userID),
            alwaysChallenge: true, effect: { _ in { _ in "done" } }
        )
    }

    func token(_ action: ProtectedAction) async throws -> String {
        guard case .challenge(let token, _, _, _) = try await auth.perform(action, approval: nil) else {
            Issue.record("expected a challenge")
            return ""
        }
        return token
    }

    func state(_ token: String) async throws -> String {
        try #require(try await auth.status(token: token)).state
    }

    func code(_ seed: String) -> String {
        let verifier = TOTPVerifier()
        return verifier.code(seed: seed, step: verifier.step(at: test.clock.now))
    }

    func events(_ kind: String) async throws -> Int {
        try await test.store.auditEvents(after: 0, limit: 100_000).filter { $0.kind == kind }.count
    }

    /// RFC 4648 base32, unpadded.
    func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var out = ""
        var value = 0
        var bits = 0
        for byte in bytes {
            value = value << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(value >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(value << (5 - bits)) & 31]) }
        return out
    }

    /// RFC 4648 base32 to the ASCII seed it encodes.
    func base32ASCII(_ text: String) -> String? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bits = 0
        var value = 0
        var out: [UInt8] = []
        for character in text where character != "=" {
            guard let index = alphabet.firstIndex(of: character) else { return nil }
            value = value << 5 | index
            bits += 5
            if bits >= 8 {
                out.append(UInt8((value >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return String(bytes: out, encoding: .ascii)
    }
}

func isRefusal(_ kind: GateRefusal.Kind, _ body: () async throws -> Void) async -> Bool {
    do {
        try await body()
        return false
    } catch let refusal as GateRefusal {
        return refusal.kind == kind
    } catch {
        return false
    }
}

@Suite("Gate on storage", .serialized)
struct GateTests {
    @Test("an approval works once, for its request and its user only", arguments: Backend.available)
    func approvalIsBoundAndSingleUse(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, seed) = try await fixture.user("anna")
            let (ben, _) = try await fixture.user("ben")
            let action = fixture.login(anna)
            let token = try await fixture.token(action)
            #expect(try await fixture.state(token) == "created")

            // Repeating the call before the approval is refused.
            #expect(await isRefusal(.approvalInvalid) { _ = try await fixture.auth.perform(action, approval: token) })
            _ = try await fixture.auth.verify(token: token, .pin("739148"))
            #expect(try await fixture.state(token) == "partly_passed")
            #expect(await isRefusal(.approvalInvalid) { _ = try await fixture.auth.perform(action, approval: token) })
            _ = try await fixture.auth.verify(token: token, .totp(fixture.code(seed)))
            #expect(try await fixture.state(token) == "approved")

            // Another request (another body), another user: refused, and nothing used up.
            let other = fixture.login(anna, body: #"{"username":"y"}"#)
            #expect(await isRefusal(.approvalInvalid) { _ = try await fixture.auth.perform(other, approval: token) })
            #expect(await isRefusal(.approvalInvalid) { _ = try await fixture.auth.perform(fixture.login(ben), approval: token) })
            guard case .done(let body, true, _) = try await fixture.auth.perform(action, approval: token) else {
                Issue.record("the approved request should run")
                return
            }
            #expect(body == "done")
            #expect(try await fixture.state(token) == "consumed")
            #expect(await isRefusal(.approvalInvalid) { _ = try await fixture.auth.perform(action, approval: token) })
            #expect(try await fixture.events("approval_used") == 1)
            #expect(try await fixture.test.store.verifyAudit().isIntact)
        }
    }

    @Test("two factors of one category are not SCA; a revoked factor cannot be used", arguments: Backend.available)
    func categoriesAndRevocation(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, seed) = try await fixture.user("anna")
            let key = P256.Signing.PrivateKey()
            let device = try await fixture.enrol(
                anna, FactorRequest(kind: .deviceKey, label: "Phone", publicKey: Base64URL.encode(Array(key.publicKey.x963Representation)))
            )
            let action = fixture.login(anna)
            let token = try await fixture.token(action)
            _ = try await fixture.auth.verify(token: token, .totp(fixture.code(seed)))
            let challenge = try await fixture.auth.deviceKeyChallenge(token: token).challenge
            let signature = Array(try key.signature(for: challenge).derRepresentation)
            // A second possession factor is not even accepted: the category is already passed.
            #expect(
                await isRefusal(.verificationFailed) {
                    _ = try await fixture.auth.verify(token: token, .deviceKey(factorID: device, signature: signature))
                })
            #expect(try await fixture.state(token) == "partly_passed")
            #expect(await isRefusal(.approvalInvalid) { _ = try await fixture.auth.perform(action, approval: token) })

            // Revoke the PIN: it can no longer pass anything.
            let pinID = try #require(
                try await fixture.test.store.database.read(
                    "SELECT id FROM auth_factors WHERE user_id = \(bind: anna) AND kind = 'pin'"
                ).first?.decode(column: "id", as: String.self))
            _ = try await fixture.auth.store.transact(fixture.auth.revokeFactor(pinID, userID: anna))
            #expect(await isRefusal(.verificationFailed) { _ = try await fixture.auth.verify(token: token, .pin("739148")) })
            #expect(try await fixture.state(token) == "partly_passed")
        }
    }

    @Test("a device key's signature is checked before the writer's transaction, not on its thread", arguments: Backend.available)
    func signaturesAreCheckedOffTheWriter(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, _) = try await fixture.user("anna")
            let key = P256.Signing.PrivateKey()
            let device = try await fixture.enrol(
                anna, FactorRequest(kind: .deviceKey, label: "Phone", publicKey: Base64URL.encode(Array(key.publicKey.x963Representation)))
            )
            let token = try await fixture.token(fixture.login(anna))
            _ = try await fixture.auth.verify(token: token, .pin("739148"))
            let challenge = try await fixture.auth.deviceKeyChallenge(token: token).challenge
            let before = fixture.auth.signatureCheckCounts

            // A signature over something else fails, and the failure is counted in the writer.
            let wrong = Array(try key.signature(for: challenge + [0]).derRepresentation)
            #expect(
                await isRefusal(.verificationFailed) {
                    _ = try await fixture.auth.verify(token: token, .deviceKey(factorID: device, signature: wrong))
                })
            #expect(try await fixture.events("factor_failed") == 1)
            let signature = Array(try key.signature(for: challenge).derRepresentation)
            _ = try await fixture.auth.verify(token: token, .deviceKey(factorID: device, signature: signature))
            #expect(try await fixture.state(token) == "approved")

            let after = fixture.auth.signatureCheckCounts
            #expect(after.total == before.total + 2)
            #expect(after.onWriter == 0)
        }
    }

    @Test("10 parallel wrong PINs on 10 tokens block the PIN at exactly 5 failures", arguments: Backend.available)
    func pinBlocksAtFive(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, _) = try await fixture.user("anna")
            var tokens: [String] = []
            for _ in 0..<10 { tokens.append(try await fixture.token(fixture.login(anna))) }
            let refused = await withTaskGroup(of: Bool.self) { group in
                for token in tokens {
                    group.addTask {
                        await isRefusal(.verificationFailed) { _ = try await fixture.auth.verify(token: token, .pin("000000")) }
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(refused == 10)
            #expect(try await fixture.events("factor_failed") == 5)
            #expect(try await fixture.events("factor_blocked") == 1)
            // Blocked: even the right PIN is refused, and not counted.
            let fresh = try await fixture.token(fixture.login(anna))
            #expect(await isRefusal(.verificationFailed) { _ = try await fixture.auth.verify(token: fresh, .pin("739148")) })
            #expect(try await fixture.events("factor_failed") == 5)
            let factors = try await fixture.auth.factors(userID: anna)
            #expect(factors.items.contains { $0.kind == .pin && $0.blocked })
            #expect(factors.json.contains(#""kind":"pin","category":"knowledge""#) && factors.json.contains(#""blocked":true"#))
        }
    }

    @Test("the last round of failures warns before the permanent block, then blocks for good", arguments: Backend.available)
    func warningBeforePermanentBlock(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, _) = try await fixture.user("anna")
            func pin() async throws -> [String: Any] {
                let json = try await fixture.auth.factors(userID: anna).json
                let factors = try #require(
                    (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["factors"] as? [[String: Any]])
                return try #require(factors.first { $0["kind"] as? String == "pin" })
            }
            #expect(try await pin()["permanent_block_next"] as? Bool == false)
            // The three temporary blocks (15 min, 1 h, 1 day) are over: the factor is in its last round.
            let blocks = Int64(AttemptPolicy.temporaryBlockDurationsDefault.count)
            try await fixture.auth.store.transact { scope in
                try await scope.run("UPDATE auth_factors SET blocks = \(bind: blocks) WHERE user_id = \(bind: anna) AND kind = 'pin'")
            }
            #expect(try await pin()["permanent_block_next"] as? Bool == true)
            for attempt in 1...RegulatoryLimits.failedAttemptsMax {
                let token = try await fixture.token(fixture.login(anna))
                #expect(await isRefusal(.verificationFailed) { _ = try await fixture.auth.verify(token: token, .pin("000000")) })
                // Warned once, when one attempt is left before the permanent block.
                let warnings = try await fixture.events("factor_block_warning")
                #expect(warnings == (attempt >= RegulatoryLimits.failedAttemptsMax - 1 ? 1 : 0), "after attempt \(attempt)")
            }
            #expect(try await fixture.events("factor_blocked_permanently") == 1)
            #expect(try await pin()["permanently_blocked"] as? Bool == true)
            // With its only knowledge factor blocked for good, no challenge can be strong: none is issued.
            #expect(await isRefusal(.scaUnavailable) { _ = try await fixture.auth.perform(fixture.login(anna), approval: nil) })
        }
    }

    @Test("one TOTP code sent by 100 concurrent requests passes once", arguments: Backend.available)
    func totpOnceUnderConcurrency(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, seed) = try await fixture.user("anna")
            let token = try await fixture.token(fixture.login(anna))
            let code = fixture.code(seed)
            let passed = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<100 {
                    group.addTask { (try? await fixture.auth.verify(token: token, .totp(code))) != nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(passed == 1)
            #expect(try await fixture.events("factor_passed") == 1)
            // The same code on another token: the step is used up, so it fails (and counts).
            let second = try await fixture.token(fixture.login(anna))
            #expect(await isRefusal(.verificationFailed) { _ = try await fixture.auth.verify(token: second, .totp(code)) })
        }
    }

    @Test("no secret is stored in clear", arguments: Backend.available)
    func noSecretInClear(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, seed) = try await fixture.user("anna", pin: "739148")
            _ = try await fixture.enrol(anna, FactorRequest(kind: .sms, label: "Phone", phone: "+48600111222"))
            let token = try await fixture.token(fixture.login(anna))
            _ = try await fixture.auth.triggerSMS(token: token, channel: nil)
            let message = try #require(fixture.auth.messages?.messages(to: "+48600111222").last)
            let code = String(message.text.filter(\.isNumber).prefix(6))
            _ = try await fixture.auth.verify(token: token, .sms(code))
            var stored = ""
            for table in ["auth_users", "auth_factors", "auth_tokens", "auth_sessions", "audit_events", "decisions"] {
                for row in try await fixture.test.store.database.read(SQLQueryString("SELECT * FROM \(unsafeRaw: table)")) {
                    for column in row.allColumns {
                        if let text = try? row.decode(column: column, as: String?.self) { stored += text + "\n" }
                    }
                }
            }
            #expect(!stored.isEmpty)
            let appSecret = fixture.base32(Array(seed.utf8))
            for secret in ["739148", seed, appSecret, "600111222", token, code] {
                #expect(!stored.contains(secret), "found a secret in clear: \(secret.prefix(4))…")
            }
        }
    }
}

extension GateTests {
    @Test("decoupled approval: only the matching number passes; pending pushes are capped", arguments: Backend.available)
    func pushWithNumberMatching(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, _) = try await fixture.user("anna")
            let key = P256.Signing.PrivateKey()
            let device = try await fixture.enrol(
                anna, FactorRequest(kind: .deviceKey, label: "Phone", publicKey: Base64URL.encode(Array(key.publicKey.x963Representation)))
            )
            let token = try await fixture.token(fixture.login(anna))
            let push = try await fixture.auth.triggerPush(token: token)
            let approvalID = push.approvalID
            let number = push.number

            // The device reads its feed with a signature over this minute's feed message.
            let minute = fixture.test.clock.now.millisecondsSinceEpoch / 60_000
            let feedSignature = Array(try key.signature(for: AuthService.feedMessage(factorID: device, minute: minute)).derRepresentation)
            let feed = try await fixture.auth.deviceFeed(factorID: device, signature: feedSignature)
            let item = try #require(feed.items.first)
            #expect(item.numbers.contains(number))
            let challenge = item.challenge
            #expect(await isRefusal(.unauthenticated) { _ = try await fixture.auth.deviceFeed(factorID: device, signature: [1, 2, 3]) })

            func sign(_ picked: Int) throws -> [UInt8] {
                Array(try key.signature(for: Array(SHA256.hash(data: challenge + Array("number:\(picked)".utf8)))).derRepresentation)
            }
            // A wrong number fails (and counts); the approval is then closed.
            let wrong = number == 99 ? 98 : number + 1
            #expect(
                await isRefusal(.verificationFailed) {
                    _ = try await fixture.auth.answerPush(
                        approvalID: approvalID, factorID: device, approve: true, number: wrong, signature: try sign(wrong))
                })
            #expect(try await fixture.events("factor_failed") == 1)
            #expect(
                await isRefusal(.verificationFailed) {
                    _ = try await fixture.auth.answerPush(
                        approvalID: approvalID, factorID: device, approve: true, number: number, signature: try sign(number))
                })
            // A new push, answered with the right number: the device-key factor passes.
            let second = try await fixture.auth.triggerPush(token: token)
            let secondNumber = second.number
            _ = try await fixture.auth.answerPush(
                approvalID: second.approvalID, factorID: device, approve: true, number: secondNumber,
                signature: try sign(secondNumber)
            )
            #expect(try await fixture.state(token) == "partly_passed")

            // Push bombing: at most three pending pushes per user.
            var tokens: [String] = []
            for _ in 0..<4 { tokens.append(try await fixture.token(fixture.login(anna))) }
            for token in tokens.prefix(3) { _ = try await fixture.auth.triggerPush(token: token) }
            #expect(await isRefusal(.rateLimited) { _ = try await fixture.auth.triggerPush(token: tokens[3]) })
        }
    }
}

extension GateTests {
    @Test("the retention sweep deletes tokens, approvals and sessions only once they cannot be used", arguments: Backend.available)
    func retentionSweepsWhatCanNoLongerBeUsed(backend: Backend) async throws {
        try await GateFixture.with(backend) { fixture in
            let (anna, _) = try await fixture.user("anna")  // with an enrolment session
            let key = P256.Signing.PrivateKey()
            _ = try await fixture.enrol(
                anna, FactorRequest(kind: .deviceKey, label: "Phone", publicKey: Base64URL.encode(Array(key.publicKey.x963Representation)))
            )
            let token = try await fixture.token(fixture.login(anna))  // valid 5 minutes
            _ = try await fixture.auth.triggerPush(token: token)  // an approval, expiring with it
            let start = fixture.test.clock.now
            // Sessions idle 5 minutes; all three are unusable by start + 5 minutes, and kept a day more.
            let policy = RetentionPolicy(grace: .days(1), sessionIdle: .minutes(5))
            let unusableFromGraceEnd = start + .minutes(5) + .days(1)

            #expect(try await fixture.test.store.sweep(policy, now: unusableFromGraceEnd + .seconds(-60)) == RetentionSweep())
            #expect(try await fixture.auth.status(token: token) != nil)

            let swept = try await fixture.test.store.sweep(policy, now: unusableFromGraceEnd + .seconds(60))
            #expect(swept == RetentionSweep(tokens: 1, approvals: 1, sessions: 1))
            #expect(try await fixture.auth.status(token: token) == nil)
            // Users and factors (with their attempt counters) are records: kept.
            #expect(try await fixture.test.store.database.integer("SELECT COUNT(*) FROM auth_factors") == 3)
            #expect(try await fixture.events("retention_sweep") == 1)
            #expect(try await fixture.test.store.verifyAudit().isIntact)
        }
    }
}

extension AuditVerification {
    var isIntact: Bool {
        if case .intact = self { return true }
        return false
    }
}
