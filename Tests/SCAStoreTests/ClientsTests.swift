import Foundation
import SCAClients
import SCAGate
import SCAPrimitives
import SCARules
import SCAStore
import Testing

/// The clients room (issue 27): keys shown once, kept as keyed hashes, rotated with an
/// overlap, revoked at once, on both backends.
@Suite struct ClientsTests {
    static let pepper = Array(repeating: UInt8(7), count: 32)

    static func with(_ backend: Backend, _ body: (TestStore, ClientRegistry) async throws -> Void) async throws {
        try await TestStore.with(backend) { test in
            try await body(test, ClientRegistry(store: test.store, pepper: pepper))
        }
    }

    @Test("a key is 256 bits with its environment's prefix, and only its shape is accepted")
    func keyShape() {
        let test = APIKey.generate(.test)
        let live = APIKey.generate(.live)
        #expect(test.hasPrefix("sk_test_") && live.hasPrefix("sk_live_"))
        #expect(Base64URL.decode(String(test.dropFirst(8)))?.count == 32)
        #expect(APIKey.environment(of: test) == .test && APIKey.environment(of: live) == .live)
        for malformed in [
            "", "sk_test_", "sk_prod_" + test.dropFirst(8), String(test.dropLast()), test + "A", "pk_test_" + test.dropFirst(8),
        ] {
            #expect(APIKey.environment(of: malformed) == nil, "\(malformed)")
        }
        #expect(APIKey.generate(.test) != APIKey.generate(.test))
    }

    @Test("a created client authenticates with its key, and only with it", arguments: Backend.available)
    func createAndAuthenticate(backend: Backend) async throws {
        try await Self.with(backend) { test, clients in
            let issued = try await clients.create(kind: .merchant, name: "Shop", environment: .test)
            #expect(issued.client.kind == .merchant && issued.client.tenant.hasPrefix("ten_"))
            #expect(try await clients.authenticate(issued.key) == issued.client)
            let other = "sk_test_" + Base64URL.encode(Array(repeating: 1, count: 32))
            #expect(try await clients.authenticate(other) == nil)
            #expect(try await clients.authenticate(nil) == nil)
            // The same key under another pepper (another deployment) is not a key here.
            let elsewhere = ClientRegistry(store: test.store, pepper: Array(repeating: 8, count: 32))
            #expect(try await elsewhere.authenticate(issued.key) == nil)
            // Scopes follow the kind: a merchant may take payments, not read the audit trail.
            let header = "Bearer " + issued.key
            #expect(try await clients.authorize(header, for: .payments) == .success(issued.client))
            #expect(try await clients.authorize(header, for: .audit) == .failure(.insufficientScope))
            #expect(try await clients.authorize("Basic " + issued.key, for: .payments) == .failure(.unauthenticated))
            #expect(try await clients.authorize(issued.key, for: .payments) == .failure(.unauthenticated))
            // The scheme is case-insensitive (RFC 9110 §11.1); extra parts or spaces are refused.
            #expect(try await clients.authorize("bearer " + issued.key, for: .payments) == .success(issued.client))
            #expect(try await clients.authorize("Bearer " + issued.key + " x", for: .payments) == .failure(.unauthenticated))
        }
    }

    @Test("the store keeps no key in clear, and the audit chain records every change", arguments: Backend.available)
    func noKeyInClearAndAudited(backend: Backend) async throws {
        try await Self.with(backend) { test, clients in
            let first = try await clients.create(kind: .decider, name: "Risk team", tenant: "acme", environment: .live)
            let second = try await clients.rotate(first.client.id)
            _ = try await clients.revoke(first.client.id)
            let rows = try await test.store.database.read("SELECT key_hash, hint FROM api_keys")
            #expect(rows.count == 2)
            let stored = try rows.map { try $0.decode(column: "key_hash", as: String.self) + $0.decode(column: "hint", as: String.self) }
            for key in [first.key, second.key] {
                #expect(!stored.contains { $0.contains(String(key.dropFirst(12))) })
                #expect(stored.contains { $0.hasPrefix(APIKeyHasher(pepper: Self.pepper).digest(key)) })
            }
            let events = try await test.store.auditEvents(after: 0, limit: 1000)
            #expect(events.map(\.kind).filter { $0.hasPrefix("client_") } == ["client_created", "client_key_rotated", "client_revoked"])
            let payloads = events.map(\.payload).joined()
            #expect(!payloads.contains(String(first.key.dropFirst(8))) && !payloads.contains(String(second.key.dropFirst(8))))
            guard case .intact = try await test.store.verifyAudit() else {
                Issue.record("the audit chain does not verify")
                return
            }
        }
    }

    @Test("a rotated key works until its overlap ends, not at it; the new one goes on", arguments: Backend.available)
    func rotationOverlap(backend: Backend) async throws {
        try await Self.with(backend) { test, clients in
            let first = try await clients.create(kind: .partner, name: "Fintech", environment: .test)
            let overlap = Instant.Duration.seconds(3600)
            let rotated = try await clients.rotate(first.client.id, overlap: overlap)
            #expect(rotated.key != first.key && rotated.key.hasPrefix("sk_test_"))
            #expect(rotated.previousKeyExpiresAt == TestStore.start + overlap)
            test.clock.advance(Instant.Duration(milliseconds: overlap.milliseconds - 1))
            #expect(try await clients.authenticate(first.key) != nil)
            test.clock.advance(Instant.Duration(milliseconds: 1))
            #expect(try await clients.authenticate(first.key) == nil)
            #expect(try await clients.authenticate(rotated.key) != nil)
            // A second rotation never lengthens the life of a key already ending.
            _ = try await clients.rotate(first.client.id, overlap: .days(7))
            #expect(try await clients.authenticate(first.key) == nil)
            await #expect(throws: GateRefusal(.invalid, "overlap: from 0 to 604800 seconds")) {
                _ = try await clients.rotate(first.client.id, overlap: .days(8))
            }
        }
    }

    @Test("a revocation stops every key at once, on another node too", arguments: Backend.available)
    func revocationIsImmediate(backend: Backend) async throws {
        try await Self.with(backend) { test, clients in
            let first = try await clients.create(kind: .operator, name: "Ops", environment: .test)
            let second = try await clients.rotate(first.client.id)
            let node = try await test.secondNode()
            let elsewhere = ClientRegistry(store: node, pepper: Self.pepper)
            #expect(try await elsewhere.authenticate(first.key) != nil)
            let revoked = try await clients.revoke(first.client.id)
            #expect(revoked.status == .revoked)
            for key in [first.key, second.key] {
                #expect(try await clients.authenticate(key) == nil)
                #expect(try await elsewhere.authenticate(key) == nil)
            }
            await node.database.close()
            await #expect(throws: GateRefusal(.conflict, "the client is already revoked")) {
                _ = try await clients.revoke(first.client.id)
            }
            await #expect(throws: GateRefusal(.conflict, "the client is revoked")) { _ = try await clients.rotate(first.client.id) }
            await #expect(throws: GateRefusal(.notFound, "client not found")) { _ = try await clients.revoke("cli_unknown") }
            #expect(try await clients.list().map(\.status) == [.revoked])
        }
    }

    @Test("names and tenants are checked", arguments: Backend.available)
    func inputChecks(backend: Backend) async throws {
        try await Self.with(backend) { _, clients in
            for name in ["", "   ", String(repeating: "x", count: 101), "a\u{0007}b"] {
                await #expect(throws: GateRefusal.self) { _ = try await clients.create(kind: .merchant, name: name, environment: .test) }
            }
            for tenant in ["", "Acme", "a b", String(repeating: "a", count: 65), "ten;drop"] {
                await #expect(throws: GateRefusal.self) {
                    _ = try await clients.create(kind: .merchant, name: "Shop", tenant: tenant, environment: .test)
                }
            }
            let listed = try await clients.list()
            #expect(listed.isEmpty)
        }
    }
}
