import Crypto
import Foundation
import Logging
import SCAAuth
import SCABank
import SCAClients
import SCAContract
import SCAGate
import SCAPrimitives
import SCARules
import SCAService
import SCAStore

/// Builds the authentication side of `sca serve` from the configuration.
enum AuthSetup {
    /// The pepper and the master key: configured, or else made once and kept in the data
    /// directory in a file only this user can read.
    static func keys(_ configuration: ServiceConfiguration, logger: Logger) throws -> (pepper: [UInt8], masterKey: [UInt8]) {
        if let pepper = configuration.auth.pepper, let key = configuration.auth.masterKey { return (pepper, key) }
        let path = (configuration.dataDirectory as NSString).appendingPathComponent("secrets.json")
        if let data = FileManager.default.contents(atPath: path) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: String],
                let pepper = object["pepper"].flatMap({ Data(base64Encoded: $0) }), pepper.count == AuthConfiguration.keyBytes,
                let key = object["master_key"].flatMap({ Data(base64Encoded: $0) }), key.count == AuthConfiguration.keyBytes
            else {
                throw ConfigurationError(key: path, "the generated secrets file is unreadable; configure auth.pepper and auth.master_key")
            }
            return (configuration.auth.pepper ?? [UInt8](pepper), configuration.auth.masterKey ?? [UInt8](key))
        }
        let pepper = Secrets.randomBytes(AuthConfiguration.keyBytes)
        let key = Secrets.randomBytes(AuthConfiguration.keyBytes)
        let text = #"{"pepper":""# + Data(pepper).base64EncodedString() + #"","master_key":""# + Data(key).base64EncodedString() + "\"}\n"
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError(key: path, "cannot write the generated secrets")
        }
        logger.warning(
            "auth.pepper and auth.master_key are not configured: generated ones are kept in the data directory",
            metadata: ["file": "\(path)"]
        )
        return (configuration.auth.pepper ?? pepper, configuration.auth.masterKey ?? key)
    }

    static func service(
        _ configuration: ServiceConfiguration, store: DecisionStore, port: Int, logger: Logger
    ) throws -> AuthService {
        let auth = configuration.auth
        let (pepper, masterKey) = try keys(configuration, logger: logger)
        if auth.scryptLogN < AuthConfiguration.scryptLogNRecommended {
            logger.warning("auth.scrypt_log_n is below OWASP's minimum of 17: for tests only", metadata: ["log_n": "\(auth.scryptLogN)"])
        }
        let origins = auth.origins ?? ["http://localhost:\(port)", "http://127.0.0.1:\(port)"]
        let rules = configuration.rules
        let settings = AuthSettings(
            relyingParty: WebAuthnRelyingParty(id: auth.rpID, origins: Set(origins)),
            challengeLifetime: rules.authenticationCodeLifetime,
            attemptPolicy: AttemptPolicy(failuresPerBlock: rules.failedAttemptsMax),
            sessionIdle: rules.sessionIdleMax, smsSendsPerHour: auth.smsSendsPerHour, pushPendingMax: auth.pushPendingMax,
            demo: auth.demo, bankCountry: auth.bankCountry
        )
        return try AuthService(
            store: store, settings: settings, pepper: pepper, masterKey: masterKey,
            scrypt: .init(logN: auth.scryptLogN, blockSize: 8, parallelism: 1),
            pins: PinCheckPool(threads: auth.pinCheckThreads, queueMax: auth.pinCheckQueueMax),
            messages: auth.effectiveSMSSender == .development ? DevMessages() : nil,
            onRegistration: auth.demo ? Bank.openDemoAccount : nil, logger: logger
        )
    }

    /// The demo customer: created once, its secrets printed once (never logged).
    /// The demo's API clients: an operator, a merchant and a partner, made with the demo
    /// customer on the first start; their keys are printed once, as the customer's secrets.
    static func seedDemoClients(_ clients: ClientRegistry) async throws {
        let demo = [
            (ClientKind.operator, "Demo operator"), (.decider, "Demo decider"), (.merchant, "Demo merchant"), (.partner, "Demo partner"),
        ]
        // Clients an operator made before the first demo start are not the demo's.
        guard try await !clients.list().contains(where: { $0.name == demo[0].1 }) else {
            FileHandle.standardOutput.write(
                Data(
                    """
                    Demo API clients: already created; their keys were printed once, when they were. \
                    `sca clients rotate ID` gives one a new key (`sca clients list` shows the ids).

                    """.utf8))
            return
        }
        var lines: [String] = []
        for (kind, name) in demo {
            let issued = try await clients.create(kind: kind, name: name, environment: .test)
            lines.append("  " + kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + issued.key)
        }
        let banner = """
            Demo API keys, shown once (Authorization: Bearer <key>; docs/CLIENTS.md):
            \(lines.joined(separator: "\n"))

            """
        // Written straight to the descriptor, unbuffered: the one place these keys appear.
        FileHandle.standardOutput.write(Data(banner.utf8))
    }

    /// The demo merchant, whose payments the checkout page's server-side step makes; none
    /// once an operator has revoked it.
    static func demoShop(_ clients: ClientRegistry) async throws -> ResourceOwner? {
        try await clients.list().first { $0.kind == .merchant && $0.name == "Demo merchant" && $0.status == .active }
            .map { .client($0.id, tenant: $0.tenant) }
    }

    static func seedDemo(_ auth: AuthService, port: Int) async throws {
        guard try await auth.userID(username: "demo") == nil else {
            FileHandle.standardOutput.write(
                Data(
                    """
                    Demo customer "demo": already created. Its PIN is 2468; its TOTP secret and device key were \
                    printed once, when it was (they are stored sealed and cannot be shown again). \
                    Remove the data directory to start afresh. The app: http://localhost:\(port)/app/

                    """.utf8)
            )
            return
        }
        let pin = "2468"
        let registration = try await auth.register(username: "demo", name: "Demo Customer", pin: pin)
        let totp = try await auth.prepareFactor(userID: registration.userID, FactorRequest(kind: .totp, label: "Authenticator"))
        let deviceKey = P256.Signing.PrivateKey()
        let device = try await auth.prepareFactor(
            userID: registration.userID,
            FactorRequest(kind: .deviceKey, label: "Demo phone", publicKey: Base64URL.encode(Array(deviceKey.publicKey.x963Representation)))
        )
        let userID = registration.userID
        let (totpView, deviceView) = try await auth.store.transact { scope in
            (
                try await auth.insertFactor(totp, userID: userID, scope: scope),
                try await auth.insertFactor(device, userID: userID, scope: scope)
            )
        }
        func member(_ json: String, _ name: String) -> String {
            guard case .object(let object)? = try? JSONParser.parse(Array(json.utf8)), case .string(let value)? = object[name] else {
                return "?"
            }
            return value
        }
        let secret = member(totpView, "secret")
        let banner = """

            Demo customer created. This is shown once: its secrets are stored sealed, and a restart cannot show them again.
              app        http://localhost:\(port)/app/   (localhost, not 127.0.0.1: passkeys are bound to it)
              username   demo   (user id \(userID))
              PIN        \(pin)
              TOTP       secret \(secret)
                         add it to an authenticator app, or get a code with:
                         python3 -c "import pyotp; print(pyotp.TOTP('\(secret)').now())"
              device key factor \(member(deviceView, "id")), P-256 private key (raw, base64url):
                         \(Base64URL.encode(Array(deviceKey.rawRepresentation)))

            """
        // Written straight to the descriptor, unbuffered: the one place these secrets appear.
        FileHandle.standardOutput.write(Data(banner.utf8))
    }
}
