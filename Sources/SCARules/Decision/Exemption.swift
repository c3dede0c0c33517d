/// The exemptions of SCA-RULES §4, by their reason codes.
public enum Exemption: String, Sendable, CaseIterable {
    case accountInformation = "account_information"
    case aisWithinWindow = "ais_within_window"
    case contactless
    case unattendedTerminal = "unattended_terminal"
    case trustedBeneficiary = "trusted_beneficiary"
    case recurring
    case samePersonTransfer = "same_person_transfer"
    case lowValue = "low_value"
    case secureCorporate = "secure_corporate"
    case transactionRiskAnalysis = "transaction_risk_analysis"

    /// One bit per exemption, for sets of them held in an integer.
    var bit: UInt32 {
        switch self {
        case .accountInformation: return 1 << 0
        case .aisWithinWindow: return 1 << 1
        case .contactless: return 1 << 2
        case .unattendedTerminal: return 1 << 3
        case .trustedBeneficiary: return 1 << 4
        case .recurring: return 1 << 5
        case .samePersonTransfer: return 1 << 6
        case .lowValue: return 1 << 7
        case .secureCorporate: return 1 << 8
        case .transactionRiskAnalysis: return 1 << 9
        }
    }

    /// The reason a decision carries when this exemption applies.
    public var reason: Reason {
        switch self {
        case .accountInformation: return .accountInformation
        case .aisWithinWindow: return .aisWithinWindow
        case .contactless: return .contactless
        case .unattendedTerminal: return .unattendedTerminal
        case .trustedBeneficiary: return .trustedBeneficiary
        case .recurring: return .recurring
        case .samePersonTransfer: return .samePersonTransfer
        case .lowValue: return .lowValue
        case .secureCorporate: return .secureCorporate
        case .transactionRiskAnalysis: return .transactionRiskAnalysis
        }
    }

    public var citation: Citation {
        switch self {
        case .accountInformation: return .rtsArt10
        case .aisWithinWindow: return .rtsArt10a
        case .contactless: return .rtsArt11
        case .unattendedTerminal: return .rtsArt12
        case .trustedBeneficiary: return .rtsArt13
        case .recurring: return .rtsArt14
        case .samePersonTransfer: return .rtsArt15
        case .lowValue: return .rtsArt16
        case .secureCorporate: return .rtsArt17
        case .transactionRiskAnalysis: return .rtsArt18
        }
    }

    /// The exemptions a payment can use, in the default order of SCA-RULES §4.
    public static let defaultPaymentOrder: [Exemption] = [
        .trustedBeneficiary, .recurring, .samePersonTransfer, .secureCorporate,
        .unattendedTerminal, .contactless, .lowValue, .transactionRiskAnalysis,
    ]

    /// The names the payments API (Checkout.com style) uses for requested exemptions.
    public init?(requestName name: String) {
        switch name {
        case "transaction_risk_assessment": self = .transactionRiskAnalysis
        case "trusted_listing": self = .trustedBeneficiary
        case "secure_corporate_payment": self = .secureCorporate
        default: self.init(rawValue: name)
        }
    }
}

/// The legal text a decision rests on. Articles of the RTS are cited as `UK-RTS` under the
/// UK regime (the onshored standards keep the article numbers).
public enum Citation: String, Sendable, CaseIterable {
    case psd2Art97 = "PSD2 Art. 97"
    case psd2Art97_1a = "PSD2 Art. 97(1)(a)"
    case psd2Art97_1b = "PSD2 Art. 97(1)(b)"
    case psd2Art97_1c = "PSD2 Art. 97(1)(c)"
    case rtsArt4_3b = "RTS Art. 4(3)(b)"
    case rtsArt4_3d = "RTS Art. 4(3)(d)"
    case rtsArt10 = "RTS Art. 10"
    case rtsArt10a = "RTS Art. 10a"
    case rtsArt11 = "RTS Art. 11"
    case rtsArt12 = "RTS Art. 12"
    case rtsArt13 = "RTS Art. 13"
    case rtsArt14 = "RTS Art. 14"
    case rtsArt15 = "RTS Art. 15"
    case rtsArt16 = "RTS Art. 16"
    case rtsArt17 = "RTS Art. 17"
    case rtsArt18 = "RTS Art. 18"
    case rtsArt36_5 = "RTS Art. 36(5)"

    public func text(in regime: Regime?) -> String {
        guard regime == .uk else { return rawValue }
        switch self {
        case .psd2Art97, .psd2Art97_1a, .psd2Art97_1b, .psd2Art97_1c: return rawValue
        case .rtsArt4_3b: return "UK-RTS Art. 4(3)(b)"
        case .rtsArt4_3d: return "UK-RTS Art. 4(3)(d)"
        case .rtsArt10: return "UK-RTS Art. 10"
        case .rtsArt10a: return "UK-RTS Art. 10a"
        case .rtsArt11: return "UK-RTS Art. 11"
        case .rtsArt12: return "UK-RTS Art. 12"
        case .rtsArt13: return "UK-RTS Art. 13"
        case .rtsArt14: return "UK-RTS Art. 14"
        case .rtsArt15: return "UK-RTS Art. 15"
        case .rtsArt16: return "UK-RTS Art. 16"
        case .rtsArt17: return "UK-RTS Art. 17"
        case .rtsArt18: return "UK-RTS Art. 18"
        case .rtsArt36_5: return "UK-RTS Art. 36(5)"
        }
    }
}
