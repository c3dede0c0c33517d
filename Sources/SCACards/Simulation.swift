import Foundation
import SCARules

/// SplitMix64: a small, fully specified generator, so a seed gives the same stream on every
/// platform and toolchain and a run can be replayed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 0..<bound
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    public mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
    public mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }
}

/// A seeded simulation of an issuer population whose acceptance rates, frictionless rates,
/// challenge abandonment and fraud are hidden from the strategies, to compare always-3DS,
/// always-request-an-exemption, the optimizer (learning from outcomes only) and an oracle
/// that knows the hidden rates. Every strategy sees the same payments and the same random
/// draws for them, so the differences come from the choices alone.
public enum PaymentSimulation {
    public struct Result: Sendable, Equatable {
        public var strategy: String
        public var payments = 0
        public var converted = 0
        public var challenged = 0
        public var exemptionsRequested = 0
        public var exemptionsGranted = 0
        /// EUR of fraudulent payments that went through without SCA on a merchant's exemption.
        public var merchantLiableFraudEUR: Double = 0
        public var merchantLiableFraudCount = 0

        public var conversion: Double { payments == 0 ? 0 : Double(converted) / Double(payments) }
        public var challengeRate: Double { payments == 0 ? 0 : Double(challenged) / Double(payments) }
    }

    public struct Report: Sendable {
        public var seed: UInt64
        public var count: Int
        public var ranges: Int
        public var results: [Result]
        public func result(_ strategy: String) -> Result? { results.first { $0.strategy == strategy } }
    }

    public static let strategies = ["always_3ds", "always_exemption", "optimizer", "oracle"]

    /// The hidden truth about one issuer range.
    struct Range {
        let id: String
        let corporate: Bool
        let frictionless: [Double]
        let acceptance: [CardExemption: (authentication: [Double], authorisation: [Double])]
        let challengeCompletion: Double
        let retryCompletion: Double
    }

    struct Payment {
        let range: Int
        let amountEUR: Double
        let riskScore: Double
        let candidates: [CardExemption]
        // The draws, shared by every strategy.
        let accept: Double, frictionless: Double, frictionlessDone: Double, challenge: Double, retry: Double, fraud: Double
    }

    static let frictionlessCompletion = 0.985

    public static func run(seed: UInt64, count: Int, ranges rangeCount: Int = 40, economics: ExemptionOptimizer.Economics = .init())
        -> Report
    {
        var generator = SplitMix64(state: seed)
        let bands = ExemptionOptimizer.bandLimits.count + 1
        let ranges: [Range] = (0..<rangeCount).map { index in
            let corporate = index % 12 == 11
            let friction = generator.uniform(0.02, 0.9)
            func rates(_ base: Double, _ slope: Double) -> [Double] { (0..<bands).map { max(0, min(1, base - slope * Double($0))) } }
            var acceptance: [CardExemption: (authentication: [Double], authorisation: [Double])] = [:]
            for exemption in [CardExemption.lowValue, .transactionRiskAssessment, .secureCorporatePayment] {
                let atAuthentication = generator.uniform(0.05, 1)
                let atAuthorisation = atAuthentication * generator.uniform(0.2, 1.1)
                acceptance[exemption] = (rates(atAuthentication, 0.08), rates(atAuthorisation, 0.1))
            }
            let completion = generator.uniform(0.65, 0.92)
            return Range(
                id: String(400_000 + index * 37), corporate: corporate, frictionless: rates(friction, 0.12), acceptance: acceptance,
                challengeCompletion: completion, retryCompletion: completion - 0.12
            )
        }
        // Busy ranges and quiet ones (weights 1/(i+1)^0.8).
        let weights = (0..<rangeCount).map { 1 / pow(Double($0 + 1), 0.8) }
        let totalWeight = weights.reduce(0, +)
        let qualifier = Qualifier()

        var payments: [Payment] = []
        payments.reserveCapacity(count)
        for _ in 0..<count {
            var pick = generator.unit() * totalWeight
            var range = 0
            while range < rangeCount - 1 && pick >= weights[range] {
                pick -= weights[range]
                range += 1
            }
            let mix = generator.unit()
            let amount =
                mix < 0.4
                ? generator.uniform(2, 30)
                : mix < 0.75
                    ? generator.uniform(30, 120)
                    : mix < 0.95 ? generator.uniform(120, 400) : generator.uniform(400, 1200)
            let riskMix = generator.unit()
            let risk =
                riskMix < 0.9 ? generator.uniform(0, 0.01) : riskMix < 0.98 ? generator.uniform(0.01, 0.1) : generator.uniform(0.1, 0.6)
            let candidates = qualifier.qualifying(amountEUR: amount, riskScore: risk, corporate: ranges[range].corporate)
            payments.append(
                Payment(
                    range: range, amountEUR: (amount * 100).rounded() / 100, riskScore: risk, candidates: candidates,
                    accept: generator.unit(), frictionless: generator.unit(), frictionlessDone: generator.unit(),
                    challenge: generator.unit(), retry: generator.unit(), fraud: generator.unit()
                ))
        }

        var results: [Result] = []
        var optimizer = ExemptionOptimizer(economics: economics)
        var explore = SplitMix64(state: seed ^ 0x5EED)
        for strategy in strategies {
            var result = Result(strategy: strategy)
            for payment in payments {
                let truth = ranges[payment.range]
                let band = ExemptionOptimizer.band(payment.amountEUR)
                let options = payment.candidates.flatMap { exemption in
                    ExemptionStage.allCases.map { ExemptionOptimizer.Option(exemption, at: $0) }
                }
                let context = ExemptionOptimizer.Context(
                    range: truth.id, amountEUR: payment.amountEUR, candidates: options, threeDSPossible: true,
                    fraudProbability: payment.riskScore
                )
                let option: ExemptionOptimizer.Option
                switch strategy {
                case "always_3ds":
                    option = .init(nil, at: .authentication)
                case "always_exemption":
                    option = .init(payment.candidates.first, at: .authentication)
                case "optimizer":
                    option = optimizer.choose(context, rates: optimizer.estimatedRates(context, using: &explore, explore: true)).option
                default:
                    let rates = ExemptionOptimizer.Rates(
                        acceptance: { option in
                            guard let exemption = option.exemption, let table = truth.acceptance[exemption] else { return 0 }
                            return option.stage == .authentication ? table.authentication[band] : table.authorisation[band]
                        },
                        frictionless: truth.frictionless[band], frictionlessCompletion: frictionlessCompletion,
                        challengeCompletion: truth.challengeCompletion, retryCompletion: truth.retryCompletion
                    )
                    option = optimizer.choose(context, rates: rates).option
                }
                let observations = play(option, payment, truth, band: band, into: &result)
                if strategy == "optimizer" { observations.forEach { optimizer.learner.observe($0) } }
            }
            results.append(result)
        }
        return Report(seed: seed, count: count, ranges: rangeCount, results: results)
    }

    /// Plays one payment down one option with its draws; returns what the PSP could observe.
    static func play(
        _ option: ExemptionOptimizer.Option, _ payment: Payment, _ truth: Range, band: Int, into result: inout Result
    ) -> [ExemptionOptimizer.Learner.Observation] {
        result.payments += 1
        let fraud = payment.fraud < payment.riskScore
        var observations: [ExemptionOptimizer.Learner.Observation] = []
        func challenge(completion: Double, draw: Double, retry: Bool) {
            result.challenged += 1
            // A fraudster does not hold the cardholder's factors: a challenge stops the fraud.
            let done = !fraud && draw < completion
            if done { result.converted += 1 }
            observations.append(retry ? .retryCompleted(done) : .challengeCompleted(done))
        }
        func exempted() {
            result.converted += 1
            if fraud {
                result.merchantLiableFraudEUR += payment.amountEUR
                result.merchantLiableFraudCount += 1
            }
        }
        guard let exemption = option.exemption else {
            let frictionless = payment.frictionless < truth.frictionless[band]
            observations.append(.frictionless(range: truth.id, band: band, frictionless: frictionless))
            if frictionless {
                let done = payment.frictionlessDone < frictionlessCompletion
                if done { result.converted += 1 }
                observations.append(.frictionlessCompleted(done))
            } else {
                challenge(completion: truth.challengeCompletion, draw: payment.challenge, retry: false)
            }
            return observations
        }
        result.exemptionsRequested += 1
        let table = truth.acceptance[exemption]!
        switch option.stage {
        case .authentication:
            let granted = payment.accept < table.authentication[band]
            observations.append(.exemption(range: truth.id, option: option, band: band, granted: granted))
            if granted {
                result.exemptionsGranted += 1
                let done = payment.frictionlessDone < frictionlessCompletion
                observations.append(.frictionlessCompleted(done))
                if done { exempted() }
            } else {
                challenge(completion: truth.challengeCompletion, draw: payment.challenge, retry: false)
            }
        case .authorisation:
            let granted = payment.accept < table.authorisation[band]
            observations.append(.exemption(range: truth.id, option: option, band: band, granted: granted))
            if granted {
                result.exemptionsGranted += 1
                exempted()
            } else {
                challenge(completion: truth.retryCompletion, draw: payment.retry, retry: true)
            }
        }
        return observations
    }

    /// Which exemptions qualify, by the acquirer's own rules engine: an EEA card payment
    /// with a monitored fraud rate of 0.05 % for remote cards (TRA up to 250 EUR).
    struct Qualifier {
        let engine: RulesEngine
        init() {
            var configuration = RulesConfiguration()
            configuration.monitoredFraudRate[.card] = ExactDecimal("0.0005")
            engine = RulesEngine(configuration: configuration)
        }

        func qualifying(amountEUR: Double, riskScore: Double, corporate: Bool) -> [CardExemption] {
            let amount = Money(minorUnits: Int64((amountEUR * 100).rounded()), currency: .eur)
            return [CardExemption.secureCorporatePayment, .lowValue, .transactionRiskAssessment].filter { exemption in
                let request = DecisionRequest(
                    at: Instant(millisecondsSinceEpoch: 0), action: .payment,
                    payer: Payer(id: PayerID("p"), pspCountry: CountryCode("FR")!, consumer: !corporate),
                    payee: Payee(id: PayeeID("m"), pspCountry: CountryCode("FR")!), amount: amount,
                    payment: PaymentDetails(method: .card, channel: .remote, secureCorporate: corporate),
                    risk: RiskAssessment(score: riskScore), requestedExemption: exemption.ruleExemption, sca: nil
                )
                let decision = engine.decide(request, prior: PriorState()).decision
                return decision.outcome == .exempt && decision.reason == exemption.ruleExemption?.reason
            }
        }
    }
}
