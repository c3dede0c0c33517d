/// The payment types the RTS Annex gives reference fraud rates for.
public enum TRAPaymentType: String, Sendable, CaseIterable {
    case card
    case creditTransfer = "credit_transfer"

    /// Position in `allCases`, for the engine's precomputed tables.
    var tableIndex: Int {
        switch self {
        case .card: return 0
        case .creditTransfer: return 1
        }
    }

    /// RTS Annex: the reference fraud rate of each band (fractions, 0.0013 = 0.13 %), in
    /// the order of `RegimeLimits.traBandThresholds` (100 / 250 / 500 EUR).
    public var referenceFraudRates: [ExactDecimal] {
        switch self {
        case .card: return [ExactDecimal("0.0013")!, ExactDecimal("0.0006")!, ExactDecimal("0.0001")!]
        case .creditTransfer: return [ExactDecimal("0.00015")!, ExactDecimal("0.0001")!, ExactDecimal("0.00005")!]
        }
    }

    public init?(method: PaymentDetails.Method) {
        switch method {
        case .card: self = .card
        case .creditTransfer: self = .creditTransfer
        case .directDebit: return nil
        }
    }
}

/// How many consecutive quarters above a band's reference fraud rate make the PSP stop
/// using TRA in that band (RTS Art. 20: two; seed 002 describes one).
public enum TRABandSuspension: String, Sendable, CaseIterable {
    case twoQuarters = "two_quarters"
    case oneQuarter = "one_quarter"

    var consecutiveQuartersMax: Int {
        switch self {
        case .twoQuarters: return 2
        case .oneQuarter: return 1
        }
    }
}

/// Which TRA bands a PSP may use for one payment type (RTS Art. 18-20, Annex).
public struct TRABandStatus: Sendable, Equatable {
    /// Per band (lowest first): may the PSP use TRA in it now?
    public let open: [Bool]

    /// A band is open when the monitored rate is at most its reference fraud rate and the
    /// band is not suspended by the quarterly history (RTS Art. 20): suspended after
    /// `suspension` consecutive quarters above the rate, resumed after one compliant quarter.
    /// With no monitored rate, no band is open.
    public init(
        type: TRAPaymentType, monitoredRate: ExactDecimal?, quarterlyRates: [ExactDecimal],
        suspension: TRABandSuspension
    ) {
        open = type.referenceFraudRates.map { reference in
            guard let monitoredRate, monitoredRate <= reference else { return false }
            var consecutiveAbove = 0
            var suspended = false
            for rate in quarterlyRates {
                if rate > reference {
                    consecutiveAbove += 1
                    if consecutiveAbove >= suspension.consecutiveQuartersMax { suspended = true }
                } else {
                    consecutiveAbove = 0
                    suspended = false
                }
            }
            return !suspended
        }
    }

    /// The highest open band's threshold in `limits`, or `nil` when no band is open.
    public func highestOpenThreshold(in limits: RegimeLimits) -> Money? {
        var highest: Money?
        for (index, isOpen) in open.enumerated() where isOpen {
            highest = limits.traBandThresholds[index]
        }
        return highest
    }
}
