/// Everything the rules leave to the PSP, with the defaults of SCA-RULES.md.
///
/// Loaded and validated at the edge (`SCAService.ConfigurationLoader`); the engine only
/// reads it.
public struct RulesConfiguration: Sendable {
    /// How the low-value and contactless caps are counted (SCA-RULES §4, config).
    public enum Counting: String, Sendable, CaseIterable {
        /// Both caps: whichever is hit first.
        case both
        case count
        case amount
    }

    // MARK: Transaction risk analysis (RTS Art. 18-20)

    /// The highest risk score (0...1) that counts as low risk.
    public var traLowRiskScoreMax: Double = 0.2
    /// The PSP's monitored fraud rate per payment type, as a fraction; none → no band open.
    public var monitoredFraudRate: [TRAPaymentType: ExactDecimal] = [:]
    /// Past quarters' monitored fraud rates per type, oldest first (RTS Art. 20).
    public var quarterlyFraudRates: [TRAPaymentType: [ExactDecimal]] = [:]
    public var traBandSuspension: TRABandSuspension = .twoQuarters

    // MARK: Low value (RTS Art. 16) and contactless (RTS Art. 11)

    public var lowValueCounting: Counting = .both
    /// Some schemes reset the low-value counters 24 hours after the first payment counted
    /// (seed 004); the RTS sets no time limit, so this is off by default.
    public var lowValueResetAfter24Hours = false
    public var contactlessCounting: Counting = .both

    // MARK: Order, sessions, account information

    /// The payment exemptions tried, in order, after an explicitly requested one.
    public var exemptionOrder: [Exemption] = Exemption.defaultPaymentOrder
    /// RTS Art. 4(3)(d): an authenticated session ends after this much inactivity.
    public var sessionIdleMax = RegulatoryLimits.sessionInactivityMax
    /// RTS Art. 10 / 10a: how long an AIS consent's SCA lasts (EEA 180 days, UK 90 days).
    public var aisWindowDays: [Regime: Int64] = [
        .eea: RegulatoryLimits.aisWindowDaysEEA, .uk: RegulatoryLimits.aisWindowDaysUK,
    ]
    /// RTS Art. 36(5): unattended AISP accesses per consent per calendar day.
    public var aisUnattendedPerDayMax = RegulatoryLimits.aisUnattendedAccessesPerDayMax
    /// The calendar that limit's day is counted in (UTC by default).
    public var aisDayZone = CalendarZone.utc

    // MARK: Money and limits

    public var referenceRates: ReferenceRates = .illustrative
    /// The in-memory store keeps this many of a payer's latest stored credentials and
    /// recurring first payments as mandates for merchant-initiated payments...
    public var mandatesPerPayerMax = 256
    /// ...and this many of its latest other payments whose SCA passed; older ones are
    /// forgotten, so memory grows with payers, not with requests.
    public var paymentMandatesPerPayerMax = 32

    // MARK: Authentication (RTS Art. 4), used by the challenge machinery

    public var failedAttemptsMax = RegulatoryLimits.failedAttemptsMax
    public var authenticationCodeLifetime = RegulatoryLimits.authenticationCodeLifetimeMax

    public init() {}
}
