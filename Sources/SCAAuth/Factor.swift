/// The three categories of RTS Art. 6-8. SCA needs two elements of different categories.
public enum FactorCategory: String, Sendable, CaseIterable, Comparable {
    case knowledge, possession, inherence

    public static func < (lhs: FactorCategory, rhs: FactorCategory) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The factor types the engine verifies, each in exactly one category.
public enum FactorKind: String, Sendable, CaseIterable, Comparable {
    /// A PIN or a password: something only the user knows.
    case pin
    /// A TOTP authenticator app or hardware token: possession of the seeded device.
    case totp
    /// A P-256 key held by the bank's app on a registered device, signing the challenge.
    case deviceKey = "device_key"
    /// A one-time code sent to a phone number: possession of the SIM (Art. 9 notes it is
    /// not possession of a bound device key).
    case sms
    /// A WebAuthn passkey asserted with user verification: the authenticator's biometric
    /// (or its local PIN) is the inherence element; user presence alone does not count.
    case webauthn

    public var category: FactorCategory {
        switch self {
        case .pin: .knowledge
        case .totp, .deviceKey, .sms: .possession
        case .webauthn: .inherence
        }
    }

    public static func < (lhs: FactorKind, rhs: FactorKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Whether a set of passed factors is strong customer authentication: at least two of
/// them in different categories. Two of one category never are (RTS Art. 4).
public func isStrong(_ passed: some Sequence<FactorKind>) -> Bool {
    Set(passed.map(\.category)).count >= 2
}
