/// Which exemptions a scheme carries, at authentication (in the 3DS messages) and at
/// authorisation (flagged in the authorisation without 3DS). A request for one it does not
/// carry is not sent: the payment falls back to its challenge indicator (seed 004).
///
/// Seed 004 prints the table without its marks, so this is the engine's reading of it, in
/// one place: Visa and Mastercard carry all four; American Express keeps the trusted-merchant
/// list itself (never requested by the merchant; its ACS applies it on its own); Diners
/// carries low value and TRA only. A trusted listing is a 3DS feature: never at authorisation.
public enum SchemeSupport {
    public static func supports(_ scheme: CardScheme, _ exemption: CardExemption, at stage: ExemptionStage) -> Bool {
        switch (exemption, stage) {
        case (.trustedListing, .authorisation), (.trustedListingPrompt, .authorisation): return false
        default: break
        }
        switch scheme {
        case .visa, .mastercard: return true
        case .amex: return exemption != .trustedListing && exemption != .trustedListingPrompt
        case .diners: return exemption == .lowValue || exemption == .transactionRiskAssessment
        }
    }

    /// Whether the issuer's ACS keeps its own trusted-merchant list and applies it without
    /// being asked (American Express).
    public static func issuerManagesTrustedList(_ scheme: CardScheme) -> Bool { scheme == .amex }
}
