import Testing

@testable import SCARules

/// SCA-RULES §4 `transaction_risk_analysis` (RTS Art. 18-20 and Annex): bands open when the
/// monitored fraud rate is ≤ the band's reference fraud rate; a payment qualifies up to the
/// ETV of the highest open band; never above 500 EUR (UK 440 GBP).
@Suite("Transaction risk analysis")
struct TRATests {
    /// The reference fraud rates of the RTS Annex, as the spec writes them (fractions).
    static let cardRFR = ["0.0013", "0.0006", "0.0001"]
    static let creditTransferRFR = ["0.00015", "0.0001", "0.00005"]

    struct BandEdge: Sendable, CustomTestStringConvertible {
        let regime: RegimeCase
        let method: PaymentDetails.Method
        let rate: String
        let amount: String
        /// `nil` when the payment is exempt.
        let why: WhyNotApplied?
        var testDescription: String {
            "\(regime.regime.rawValue) \(method.rawValue) rate \(rate) amount \(amount) → \(why?.rawValue ?? "exempt")"
        }
    }

    /// For each band: at its RFR the band opens (ETV exempt, ETV + 0.01 not); just above its
    /// RFR it closes (its ETV is no longer reached).
    static let bandEdgeCases: [BandEdge] = RegimeCase.both.flatMap { r in
        [(PaymentDetails.Method.card, cardRFR), (.creditTransfer, creditTransferRFR)].flatMap { method, rates in
            (0..<3).flatMap { band -> [BandEdge] in
                let etv = r.traBands[band]
                let justAbove = rates[band] + "1"
                var edges = [
                    BandEdge(regime: r, method: method, rate: rates[band], amount: etv, why: nil),
                    BandEdge(
                        regime: r, method: method, rate: rates[band], amount: plusCent(etv),
                        why: band == 2 ? .aboveTRAMaximum : .aboveOpenTRABands
                    ),
                    BandEdge(
                        regime: r, method: method, rate: justAbove, amount: etv,
                        why: band == 0 ? .noOpenTRABand : .aboveOpenTRABands
                    ),
                ]
                if band > 0 {
                    edges.append(BandEdge(regime: r, method: method, rate: justAbove, amount: r.traBands[band - 1], why: nil))
                }
                return edges
            }
        }
    }

    func harness(_ method: PaymentDetails.Method, rate: String, configure: (inout RulesConfiguration) -> Void = { _ in })
        -> Harness
    {
        Harness { configuration in
            let type: TRAPaymentType = method == .card ? .card : .creditTransfer
            configuration.monitoredFraudRate = [type: ExactDecimal(rate)!]
            configure(&configuration)
        }
    }

    @Test("Each band opens at its reference fraud rate and reaches its ETV", arguments: bandEdgeCases)
    func bandEdges(edge: BandEdge) {
        var harness = harness(edge.method, rate: edge.rate)
        let decision = harness.decide(payment(edge.amount, in: edge.regime, method: edge.method, risk: lowRisk()))
        if let why = edge.why {
            expect(decision, .scaRequired, .noExemption)
            #expect(decision.why(.transactionRiskAnalysis) == why)
        } else {
            expect(decision, .exempt, .transactionRiskAnalysis, citation: edge.regime.rts("18"))
            #expect(decision.why(.lowValue) == .overSingleLimit)
        }
    }

    @Test("With no monitored fraud rate configured no band is open", arguments: RegimeCase.both)
    func noConfiguredRateOpensNoBand(r: RegimeCase) {
        #expect(RulesConfiguration().monitoredFraudRate.isEmpty)
        var harness = Harness()
        let decision = harness.decide(payment("50.00", in: r, risk: lowRisk(0)))
        expect(decision, .scaRequired, .noExemption)
        #expect(decision.why(.transactionRiskAnalysis) == .noOpenTRABand)
    }

    @Test("A rate configured for cards opens no band for credit transfers")
    func rateIsPerPaymentType() {
        var harness = harness(.card, rate: "0.0001")
        let decision = harness.decide(payment("50.00", method: .creditTransfer, risk: lowRisk()))
        #expect(decision.why(.transactionRiskAnalysis) == .noOpenTRABand)
    }

    @Test("A request without a risk score gets no TRA", arguments: [nil, RiskAssessment(score: nil)])
    func noRiskScoreNoTRA(risk: RiskAssessment?) {
        var harness = harness(.card, rate: "0.0001")
        let decision = harness.decide(payment("50.00", risk: risk))
        expect(decision, .scaRequired, .noExemption)
        #expect(decision.why(.transactionRiskAnalysis) == .noRiskScore)
    }

    @Test("A score at the configured maximum is low risk, above it is not")
    func riskScoreMaximumIsInclusive() {
        #expect(RulesConfiguration().traLowRiskScoreMax == 0.2)
        var atMax = harness(.card, rate: "0.0001")
        expect(atMax.decide(payment("50.00", risk: RiskAssessment(score: 0.2))), .exempt, .transactionRiskAnalysis)
        var above = harness(.card, rate: "0.0001")
        let decision = above.decide(payment("50.00", risk: RiskAssessment(score: 0.21)))
        expect(decision, .scaRequired, .noExemption)
        #expect(decision.why(.transactionRiskAnalysis) == .riskScoreTooHigh)

        var stricter = harness(.card, rate: "0.0001") { $0.traLowRiskScoreMax = 0.1 }
        #expect(stricter.decide(payment("50.00", risk: RiskAssessment(score: 0.15))).why(.transactionRiskAnalysis) == .riskScoreTooHigh)
    }

    @Test("Any Art. 18(2)(c) risk signal blocks TRA", arguments: RiskAssessment.documentedSignals)
    func riskSignalBlocksTRA(signal: String) {
        var harness = harness(.card, rate: "0.0001")
        let decision = harness.decide(payment("50.00", risk: RiskAssessment(score: 0.0, signals: [signal])))
        expect(decision, .scaRequired, .noExemption)
        #expect(decision.why(.transactionRiskAnalysis) == .riskSignalPresent)
    }

    @Test("Above the highest ETV there is no TRA, ever", arguments: RegimeCase.both)
    func noTRAAboveHighestBand(r: RegimeCase) {
        var harness = harness(.card, rate: "0")
        let decision = harness.decide(payment("10000.00", in: r, risk: lowRisk(0)))
        #expect(decision.why(.transactionRiskAnalysis) == .aboveTRAMaximum)
    }

    @Test("TRA needs a remote payment")
    func traNeedsRemotePayment() {
        var harness = harness(.card, rate: "0.0001")
        let decision = harness.decide(payment("80.00", channel: .chip, risk: lowRisk(), requested: .transactionRiskAnalysis))
        expect(decision, .scaRequired, .noExemption)
        #expect(decision.why(.transactionRiskAnalysis) == .notRemote)
    }

    @Test("Amounts in other currencies are converted before the band is compared")
    func traComparesConvertedAmount() {
        // 426.00 PLN = 100.00 EUR at the illustrative 4.26; 426.05 PLN = 100.0117... → 100.01 EUR.
        var atETV = harness(.card, rate: "0.0013")
        expect(atETV.decide(payment("426.00", "PLN", risk: lowRisk())), .exempt, .transactionRiskAnalysis)
        var over = harness(.card, rate: "0.0013")
        #expect(over.decide(payment("426.05", "PLN", risk: lowRisk())).why(.transactionRiskAnalysis) == .aboveOpenTRABands)
    }

    // MARK: Losing and regaining a band (RTS Art. 20)

    struct SuspensionCase: Sendable, CustomTestStringConvertible {
        let name: String
        let suspension: TRABandSuspension
        let quarters: [String]
        /// The highest ETV (EEA) a payment may still use, `nil` when no band is open.
        let highestETV: String?
        var testDescription: String { name }
    }

    // Monitored card rate 0.0005: bands 100 (RFR 0.13 %) and 250 (RFR 0.06 %) open.
    static let suspensionCases: [SuspensionCase] = [
        SuspensionCase(name: "no history", suspension: .twoQuarters, quarters: [], highestETV: "250.00"),
        SuspensionCase(
            name: "one quarter above is tolerated", suspension: .twoQuarters, quarters: ["0.0007"], highestETV: "250.00"
        ),
        SuspensionCase(
            name: "two consecutive quarters above suspend the band", suspension: .twoQuarters,
            quarters: ["0.0007", "0.0007"], highestETV: "100.00"
        ),
        SuspensionCase(
            name: "one compliant quarter resumes the band", suspension: .twoQuarters,
            quarters: ["0.0007", "0.0007", "0.0005"], highestETV: "250.00"
        ),
        SuspensionCase(
            name: "quarters above that are not consecutive do not suspend", suspension: .twoQuarters,
            quarters: ["0.0007", "0.0005", "0.0007"], highestETV: "250.00"
        ),
        SuspensionCase(
            name: "a quarter exactly at the RFR is compliant", suspension: .twoQuarters,
            quarters: ["0.0007", "0.0006", "0.0007"], highestETV: "250.00"
        ),
        SuspensionCase(
            name: "above every band twice suspends them all", suspension: .twoQuarters,
            quarters: ["0.002", "0.002"], highestETV: nil
        ),
        SuspensionCase(
            name: "one-quarter rule: one quarter above suspends", suspension: .oneQuarter,
            quarters: ["0.0007"], highestETV: "100.00"
        ),
        SuspensionCase(
            name: "one-quarter rule: a compliant quarter resumes", suspension: .oneQuarter,
            quarters: ["0.0007", "0.0005"], highestETV: "250.00"
        ),
    ]

    @Test("Bands are suspended and resumed from the quarterly fraud rates", arguments: suspensionCases)
    func bandSuspension(suspension: SuspensionCase) {
        #expect(RulesConfiguration().traBandSuspension == .twoQuarters, "RTS Art. 20 is the default")
        func decide(_ amount: String) -> Decision {
            var harness = harness(.card, rate: "0.0005") { configuration in
                configuration.quarterlyFraudRates = [.card: suspension.quarters.map { ExactDecimal($0)! }]
                configuration.traBandSuspension = suspension.suspension
            }
            return harness.decide(payment(amount, risk: lowRisk()))
        }
        for etv in ["100.00", "250.00"] {
            let decision = decide(etv)
            let open = suspension.highestETV.map { money(etv, "EUR") <= money($0, "EUR") } ?? false
            #expect(decision.reason == (open ? .transactionRiskAnalysis : .noExemption), "at \(etv)")
        }
        if let highest = suspension.highestETV {
            #expect(decide(plusCent(highest)).why(.transactionRiskAnalysis) == .aboveOpenTRABands)
        } else {
            #expect(decide("50.00").why(.transactionRiskAnalysis) == .noOpenTRABand)
        }
    }
}
