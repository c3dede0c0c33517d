import Foundation
import SCAPrimitives
import SCARules
import Testing

@testable import SCAAuth

/// Vectors made by libraries nobody on the team wrote: soft-webauthn (the authenticator),
/// py_webauthn (a second verdict on the same bytes) and pyotp (TOTP codes), produced by
/// `blackbox/interop/vectors.py` in the virtual environment `scripts/test.sh` prepares
/// (`.venv-interop`, or the interpreter named by `SCA_TEST_PYTHON`).
@Suite struct InteropTests {
    struct Vectors: Decodable {
        struct Registration: Decodable {
            let name, client_data_json, attestation_object, challenge, py_webauthn: String
            let require_uv: Bool
        }
        struct Assertion: Decodable {
            let name, credential_id, public_key, challenge, client_data_json, authenticator_data, signature, py_webauthn: String
            let stored_sign_count: UInt32
            let require_uv: Bool
        }
        struct Code: Decodable {
            let seed, code: String
            let at: Int64
        }
        let rp_id, origin: String
        let registrations: [Registration]
        let assertions: [Assertion]
        let totp: [Code]
    }

    /// Where this engine is deliberately stricter than py_webauthn: its CBOR decoder
    /// ignores bytes after the attestation object; the WebAuthn checks here refuse them.
    static let stricterThanPyWebauthn: Set<String> = ["trailing_byte"]

    static func loadVectors() throws -> Vectors? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python =
            ProcessInfo.processInfo.environment["SCA_TEST_PYTHON"] ?? root.appendingPathComponent(".venv-interop/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            let reason = "InteropTests: skipped: no Python with soft-webauthn, webauthn and pyotp at \(python) (scripts/test.sh creates it)"
            print(reason)
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("\(reason); under CI this is a failure") }
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [root.appendingPathComponent("blackbox/interop/vectors.py").path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            Issue.record("blackbox/interop/vectors.py exited with \(process.terminationStatus)")
            return nil
        }
        return try JSONDecoder().decode(Vectors.self, from: data)
    }

    @Test func passkeysFromSoftWebauthnGetPyWebauthnsVerdicts() throws {
        guard let vectors = try Self.loadVectors() else { return }
        let rp = WebAuthnRelyingParty(id: vectors.rp_id, origins: [vectors.origin])
        #expect(vectors.registrations.count == 4 && vectors.assertions.count == 8)
        for vector in vectors.registrations {
            let verdict: String
            do {
                _ = try rp.register(
                    clientDataJSON: Base64URL.decode(vector.client_data_json)!,
                    attestationObject: Base64URL.decode(vector.attestation_object)!,
                    challenge: Base64URL.decode(vector.challenge)!, requireUserVerification: vector.require_uv
                )
                verdict = "ok"
            } catch {
                verdict = "\(error)"
            }
            if Self.stricterThanPyWebauthn.contains(vector.name) {
                #expect(verdict == "trailingData", "\(vector.name)")
            } else {
                #expect(
                    (verdict == "ok") == (vector.py_webauthn == "ok"), "\(vector.name): here \(verdict), py_webauthn \(vector.py_webauthn)")
            }
        }
        for vector in vectors.assertions {
            let credential = WebAuthnRelyingParty.Credential(
                id: Base64URL.decode(vector.credential_id)!,
                publicKey: try CBOR.decode(Base64URL.decode(vector.public_key)!),
                signCount: vector.stored_sign_count
            )
            let verdict: String
            do {
                _ = try rp.authenticate(
                    credential: credential, clientDataJSON: Base64URL.decode(vector.client_data_json)!,
                    authenticatorData: Base64URL.decode(vector.authenticator_data)!,
                    signature: Base64URL.decode(vector.signature)!, challenge: Base64URL.decode(vector.challenge)!,
                    requireUserVerification: vector.require_uv
                )
                verdict = "ok"
            } catch {
                verdict = "\(error)"
            }
            #expect((verdict == "ok") == (vector.py_webauthn == "ok"), "\(vector.name): here \(verdict), py_webauthn \(vector.py_webauthn)")
        }
        let expectedOK = Set(vectors.assertions.filter { $0.py_webauthn == "ok" }.map(\.name))
        #expect(expectedOK == ["uv", "next_counter", "up_only_uv_not_required"])
    }

    @Test func totpCodesMatchPyotp() throws {
        guard let vectors = try Self.loadVectors() else { return }
        let totp = TOTPVerifier()
        #expect(vectors.totp.count == 6)
        for vector in vectors.totp {
            let instant = Instant(millisecondsSinceEpoch: vector.at * 1000)
            #expect(totp.code(seed: vector.seed, step: totp.step(at: instant)) == vector.code, "at \(vector.at)")
            #expect(totp.acceptedStep(code: vector.code, seed: vector.seed, at: instant, lastAcceptedStep: nil) == totp.step(at: instant))
        }
    }
}
