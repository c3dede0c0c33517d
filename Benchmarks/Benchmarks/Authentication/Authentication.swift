import Benchmark
import Crypto
import Foundation
import SCAAuth

/// One ES256 passkey assertion, made once: what `WebAuthnRelyingParty.authenticate` checks
/// on every login or approval, against swift-crypto's raw P-256 verification of the same
/// signature (the floor any WebAuthn verifier stands on).
struct Assertion {
    let rp = WebAuthnRelyingParty(id: "localhost", origins: ["http://localhost:8080"])
    let key = P256.Signing.PrivateKey()
    let challenge = [UInt8](repeating: 42, count: 32)
    let clientData: [UInt8]
    let authData: [UInt8]
    let signature: [UInt8]
    let credential: WebAuthnRelyingParty.Credential
    let signedBytes: [UInt8]
    let parsedSignature: P256.Signing.ECDSASignature

    init() {
        clientData = Array(#"{"type":"webauthn.get","challenge":"\#(Base64URL.encode(challenge))","origin":"http://localhost:8080"}"#.utf8)
        authData = Array(SHA256.hash(data: Array("localhost".utf8))) + [0x05, 0, 0, 0, 7]
        signedBytes = authData + Array(SHA256.hash(data: clientData))
        parsedSignature = try! key.signature(for: signedBytes)
        signature = Array(parsedSignature.derRepresentation)
        let point = Array(key.publicKey.x963Representation)
        let cose: CBOR = .map([
            CBORPair(key: .unsigned(1), value: .unsigned(2)), CBORPair(key: .unsigned(3), value: .negative(6)),
            CBORPair(key: .negative(0), value: .unsigned(1)), CBORPair(key: .negative(1), value: .bytes(Array(point[1..<33]))),
            CBORPair(key: .negative(2), value: .bytes(Array(point[33..<65]))),
        ])
        credential = .init(id: [1], publicKey: cose, signCount: 6)
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput], scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 100_000
    )
    let assertion = Assertion()

    Benchmark("P-256 verify, swift-crypto (raw)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(assertion.key.publicKey.isValidSignature(assertion.parsedSignature, for: assertion.signedBytes))
        }
    }

    Benchmark("WebAuthn ES256 assertion, SCAAuth (parse + all checks + verify)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! assertion.rp.authenticate(
                credential: assertion.credential, clientDataJSON: assertion.clientData,
                authenticatorData: assertion.authData, signature: assertion.signature, challenge: assertion.challenge
            ))
        }
    }

    let pepper = [UInt8](repeating: 9, count: 32)
    let hasher = try! KnowledgeHasher(pepper: pepper)
    let stored = hasher.hash("482913", salt: KnowledgeHasher.makeSalt())
    Benchmark(
        "PIN check, scrypt N=2^17 r=8 p=1 (OWASP)",
        configuration: .init(metrics: [.wallClock, .throughput, .peakMemoryResident], maxDuration: .seconds(5), maxIterations: 50)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(hasher.verify("482913", against: stored))
        }
    }
}
