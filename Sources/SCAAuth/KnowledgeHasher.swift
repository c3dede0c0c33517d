import Crypto
import CryptoExtras
import Foundation
import SCAAudit
import SCAPrimitives

/// Stores and checks PINs and passwords as a memory-hard hash keyed with a server-side
/// pepper: scrypt over HMAC-SHA-256(pepper, secret), with a random salt per secret. A copy
/// of the database alone is not enough to test guesses offline: the pepper lives in the
/// configuration, not in the database.
///
/// Parameters: OWASP's Password Storage Cheat Sheet gives, for scrypt, a CPU/memory cost
/// of at least 2^17 with block size 8 and parallelism 1 (128 MiB a hash). Those are the
/// defaults. The cost is part of every stored hash, so raising it later still verifies
/// the old ones (and `needsRehash` says which to upgrade at the next successful check).
///
/// Hashing is slow on purpose (tens to hundreds of milliseconds): callers run it on a
/// thread of their own, never on an event loop.
public struct KnowledgeHasher: Sendable {
    public struct Parameters: Sendable, Equatable {
        /// log2 of scrypt's N (CPU/memory cost).
        public var logN: Int
        /// scrypt's r.
        public var blockSize: Int
        /// scrypt's p.
        public var parallelism: Int

        public init(logN: Int, blockSize: Int, parallelism: Int) {
            self.logN = logN
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// OWASP's minimum for scrypt: N = 2^17, r = 8, p = 1.
        public static let owasp = Parameters(logN: 17, blockSize: 8, parallelism: 1)

        /// Bytes of memory one hash takes: 128 · r · N.
        public var memoryBytes: Int { 128 * blockSize << logN }

        /// Bounds accepted from configuration and from stored hashes.
        static let logNRange = 10...22
        static let blockSizeRange = 1...32
        static let parallelismRange = 1...16
        var isWithinBounds: Bool {
            Self.logNRange.contains(logN) && Self.blockSizeRange.contains(blockSize) && Self.parallelismRange.contains(parallelism)
        }
    }

    public let parameters: Parameters
    private let pepper: SymmetricKey

    static let saltBytes = 16
    static let hashBytes = 32
    static let scheme = "scrypt-hmac-sha256"

    public enum Failure: Error, Equatable {
        case pepperTooShort
        case parametersOutOfBounds
    }

    /// `pepper`: at least 32 bytes of secret key material from the configuration.
    public init(pepper: [UInt8], parameters: Parameters = .owasp) throws(Failure) {
        guard pepper.count >= 32 else { throw .pepperTooShort }
        guard parameters.isWithinBounds else { throw .parametersOutOfBounds }
        self.pepper = SymmetricKey(data: pepper)
        self.parameters = parameters
    }

    /// The stored form: `scrypt-hmac-sha256$ln=17,r=8,p=1$<salt>$<hash>` (base64).
    public func hash(_ secret: String, salt: [UInt8]) -> String {
        precondition(salt.count == Self.saltBytes, "a salt is \(Self.saltBytes) random bytes")
        let derived = derive(secret, salt: salt, parameters: parameters)
        let settings = "ln=\(parameters.logN),r=\(parameters.blockSize),p=\(parameters.parallelism)"
        return [Self.scheme, settings, Data(salt).base64EncodedString(), Data(derived).base64EncodedString()]
            .joined(separator: "$")
    }

    /// A fresh random salt.
    public static func makeSalt() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<saltBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Whether `secret` is the one behind `stored`, compared in constant time. A stored
    /// value that does not parse never matches.
    public func verify(_ secret: String, against stored: String) -> Bool {
        guard let parsed = Self.parse(stored) else { return false }
        return constantTimeEqual(derive(secret, salt: parsed.salt, parameters: parsed.parameters), parsed.hash)
    }

    /// Whether a stored hash was made with other parameters than the current ones.
    public func needsRehash(_ stored: String) -> Bool {
        Self.parse(stored)?.parameters != parameters
    }

    private func derive(_ secret: String, salt: [UInt8], parameters: Parameters) -> [UInt8] {
        let keyed = HMAC<SHA256>.authenticationCode(for: Array(secret.utf8), using: pepper)
        // Parameters are bounded above, so scrypt's own checks cannot fail here.
        let key = try! KDF.Scrypt.deriveKey(
            from: Array(keyed), salt: salt, outputByteCount: Self.hashBytes,
            rounds: 1 << parameters.logN, blockSize: parameters.blockSize, parallelism: parameters.parallelism
        )
        return key.withUnsafeBytes { Array($0) }
    }

    static func parse(_ stored: String) -> (parameters: Parameters, salt: [UInt8], hash: [UInt8])? {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == scheme else { return nil }
        var values: [String: Int] = [:]
        for setting in parts[1].split(separator: ",") {
            let pair = setting.split(separator: "=")
            guard pair.count == 2, let value = Int(pair[1]), values[String(pair[0])] == nil else { return nil }
            values[String(pair[0])] = value
        }
        guard values.count == 3, let logN = values["ln"], let r = values["r"], let p = values["p"] else { return nil }
        let parameters = Parameters(logN: logN, blockSize: r, parallelism: p)
        guard parameters.isWithinBounds,
            let salt = Data(base64Encoded: String(parts[2])), salt.count == saltBytes,
            let hash = Data(base64Encoded: String(parts[3])), hash.count == hashBytes
        else { return nil }
        return (parameters, Array(salt), Array(hash))
    }
}

/// What a PIN or password must look like before it is hashed.
public enum KnowledgeFormat: String, Sendable {
    case pin, password

    public enum Problem: String, Error, Sendable {
        case pinLength = "a PIN has 4 to 12 digits"
        case pinDigits = "a PIN has digits only"
        case pinTrivial = "a PIN may not be one repeated digit or a run such as 1234"
        case passwordLength = "a password has 8 to 128 characters"
        case passwordControl = "a password may not contain control characters"
    }

    /// Digits of a PIN.
    public static let pinLength = 4...12
    /// Characters (Unicode scalars) of a password.
    public static let passwordLength = 8...128

    public func check(_ secret: String) -> Problem? {
        switch self {
        case .pin:
            let digits = Array(secret.utf8)
            guard Self.pinLength.contains(digits.count) else { return .pinLength }
            guard digits.allSatisfy({ (48...57).contains($0) }) else { return .pinDigits }
            let steps = Set(zip(digits, digits.dropFirst()).map { Int($1) - Int($0) })
            if steps == [0] || steps == [1] || steps == [-1] { return .pinTrivial }
            return nil
        case .password:
            let scalars = secret.unicodeScalars
            guard Self.passwordLength.contains(scalars.count) else { return .passwordLength }
            guard !scalars.contains(where: { $0.properties.generalCategory == .control }) else { return .passwordControl }
            return nil
        }
    }
}
