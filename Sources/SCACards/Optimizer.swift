import Foundation
import SCARules

/// Chooses what to ask the issuer for when the merchant leaves it to the engine (no
/// exemption, `no_preference`): full 3DS, or one of the exemptions that qualify, at
/// authentication or at authorisation. It weighs the conversion each path is expected to
/// give against the fraud liability the merchant keeps when an exemption is granted, with
/// the issuers' acceptance learned from every outcome (Beta estimates per issuer range,
/// exemption, stage and amount band, explored by Thompson sampling).
public struct ExemptionOptimizer: Sendable {
    public struct Economics: Sendable, Equatable {
        /// What a completed sale is worth to the merchant, as a fraction of its amount.
        public var margin: Double
        /// What a unit of expected fraud liability costs, against a unit of margin.
        public var liabilityWeight: Double
        /// The fraud probability assumed when a payment comes without a risk score.
        public var defaultFraudProbability: Double
        public init(margin: Double = 0.1, liabilityWeight: Double = 1, defaultFraudProbability: Double = 0.002) {
            self.margin = margin
            self.liabilityWeight = liabilityWeight
            self.defaultFraudProbability = defaultFraudProbability
        }
    }

    public struct Option: Hashable, Sendable, CustomStringConvertible {
        public var exemption: CardExemption?
        public var stage: ExemptionStage
        public init(_ exemption: CardExemption?, at stage: ExemptionStage) {
            self.exemption = exemption
            self.stage = stage
        }
        public var description: String { (exemption?.rawValue ?? "no_exemption") + "@" + stage.rawValue }
    }

    /// One payment as the optimizer sees it.
    public struct Context: Sendable {
        /// The issuer range (the card's first six digits).
        public var range: String
        public var amountEUR: Double
        /// Exemptions that qualify and that the scheme and the merchant allow, per stage.
        public var candidates: [Option]
        /// Whether plain 3DS is possible (3DS enabled and the card enrolled).
        public var threeDSPossible: Bool
        public var fraudProbability: Double?
        public init(range: String, amountEUR: Double, candidates: [Option], threeDSPossible: Bool, fraudProbability: Double?) {
            self.range = range
            self.amountEUR = amountEUR
            self.candidates = candidates
            self.threeDSPossible = threeDSPossible
            self.fraudProbability = fraudProbability
        }
        public var band: Int { ExemptionOptimizer.band(amountEUR) }
    }

    /// The estimates behind one option, for the payment's record.
    public struct Considered: Sendable, Equatable, Codable {
        public var option: String
        public var acceptance: Double?
        public var conversion: Double
        public var merchantLiability: Double
        public var utility: Double

        enum CodingKeys: String, CodingKey {
            case option, acceptance, conversion, utility
            case merchantLiability = "merchant_liability"
        }
    }

    public struct Choice: Sendable, Equatable {
        public var option: Option
        public var considered: [Considered]
        public var why: String
    }

    public var economics: Economics
    public var learner: Learner

    public init(economics: Economics = Economics(), learner: Learner = Learner()) {
        self.economics = economics
        self.learner = learner
    }

    /// Amount bands in EUR: the EEA's low-value limit (RTS Art. 16) and the three TRA
    /// exemption threshold values (RTS Art. 18, Annex): up to 30, 100, 250, 500, and above.
    public static let bandLimits: [Double] = {
        let eea = RegimeLimits.eea
        return [eea.lowValueSingleMax, eea.traBandLow, eea.traBandMiddle, eea.traBandHigh].map { euros($0) }
    }()

    /// An amount in EUR as a number for the estimates (never for a rule: rules compare `Money`).
    public static func euros(_ amount: Money) -> Double {
        Double(amount.minorUnits) / pow(10, Double(amount.currency.minorDigits))
    }
    public static func band(_ amountEUR: Double) -> Int { bandLimits.firstIndex { amountEUR <= $0 } ?? bandLimits.count }

    /// The probabilities an option's outcome depends on: from the learner (`estimate`) or,
    /// for the oracle of the simulation, from the hidden truth.
    public struct Rates: Sendable {
        public var acceptance: @Sendable (Option) -> Double
        public var frictionless: Double
        public var frictionlessCompletion: Double
        public var challengeCompletion: Double
        public var retryCompletion: Double
    }

    /// The expected conversion and merchant liability of each option, and the best one.
    public func choose(_ context: Context, rates: Rates) -> Choice {
        var options = context.candidates
        if context.threeDSPossible { options.insert(Option(nil, at: .authentication), at: 0) }
        if options.isEmpty { options = [Option(nil, at: .authorisation)] }
        let fraud = context.fraudProbability ?? economics.defaultFraudProbability
        var considered: [Considered] = []
        var best: (Option, Double)?
        for option in options {
            let accept: Double?
            let conversion: Double
            switch (option.exemption, option.stage) {
            case (nil, .authentication):
                accept = nil
                conversion = rates.frictionless * rates.frictionlessCompletion + (1 - rates.frictionless) * rates.challengeCompletion
            case (nil, .authorisation):
                accept = nil
                conversion = rates.retryCompletion
            case (_, .authentication):
                let p = rates.acceptance(option)
                accept = p
                conversion = p * rates.frictionlessCompletion + (1 - p) * rates.challengeCompletion
            case (_, .authorisation):
                let p = rates.acceptance(option)
                accept = p
                conversion = p + (1 - p) * rates.retryCompletion
            }
            let liability = (accept ?? 0) * fraud * context.amountEUR
            let utility = economics.margin * context.amountEUR * conversion - economics.liabilityWeight * liability
            considered.append(
                Considered(
                    option: option.description, acceptance: accept, conversion: conversion, merchantLiability: liability, utility: utility))
            if best == nil || utility > best!.1 { best = (option, utility) }
        }
        let chosen = best!.0
        let why =
            considered.count == 1
            ? "the only possible path"
            : "highest expected value: margin × conversion − expected fraud liability kept by the merchant"
        return Choice(option: chosen, considered: considered, why: why)
    }

    /// The learner's rates for a context; with a generator, acceptance and frictionless
    /// rates are drawn from their posteriors (exploration), otherwise their means are used.
    public func estimatedRates(_ context: Context, using generator: inout some RandomNumberGenerator, explore: Bool) -> Rates {
        func value(_ estimate: Learner.Beta) -> Double { explore ? estimate.sample(using: &generator) : estimate.mean }
        var acceptance: [Option: Double] = [:]
        for option in context.candidates {
            acceptance[option] = value(learner.acceptance(range: context.range, option: option, band: context.band))
        }
        let frozen = acceptance
        return Rates(
            acceptance: { frozen[$0] ?? 0 },
            frictionless: value(learner.frictionless(range: context.range, band: context.band)),
            frictionlessCompletion: learner.frictionlessCompletion.mean,
            challengeCompletion: learner.challengeCompletion.mean,
            retryCompletion: learner.retryCompletion.mean
        )
    }

    /// The estimates, learned from outcomes.
    public struct Learner: Sendable, Equatable {
        public struct Beta: Sendable, Equatable, Codable {
            public var alpha: Double
            public var beta: Double
            public init(alpha: Double, beta: Double) {
                self.alpha = alpha
                self.beta = beta
            }
            public var mean: Double { alpha / (alpha + beta) }
            public var observations: Double { alpha + beta }

            public func sample(using generator: inout some RandomNumberGenerator) -> Double {
                let x = Self.gamma(alpha, using: &generator)
                let y = Self.gamma(beta, using: &generator)
                return x + y > 0 ? x / (x + y) : mean
            }

            /// Marsaglia and Tsang's method (shape ≥ 1; boosted below 1).
            static func gamma(_ shape: Double, using generator: inout some RandomNumberGenerator) -> Double {
                if shape < 1 {
                    let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
                    return gamma(shape + 1, using: &generator) * pow(u, 1 / shape)
                }
                let d = shape - 1.0 / 3.0
                let c = 1 / (9 * d).squareRoot()
                while true {
                    var x: Double
                    var v: Double
                    repeat {
                        x = normal(using: &generator)
                        v = 1 + c * x
                    } while v <= 0
                    v = v * v * v
                    let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
                    if u < 1 - 0.0331 * x * x * x * x { return d * v }
                    if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
                }
            }

            static func normal(using generator: inout some RandomNumberGenerator) -> Double {
                let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
                let u2 = Double.random(in: 0..<1, using: &generator)
                return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            }
        }

        public enum Observation: Sendable, Equatable {
            case exemption(range: String, option: Option, band: Int, granted: Bool)
            case frictionless(range: String, band: Int, frictionless: Bool)
            case frictionlessCompleted(Bool)
            case challengeCompleted(Bool)
            case retryCompleted(Bool)
        }

        /// Priors: an issuer's acceptance and frictionless rates start unknown (uniform);
        /// customers are assumed to finish 80 % of challenges, 70 % of retried payments and
        /// 98 % of frictionless 3DS, worth 10 observations each.
        public static let unknownRate = Beta(alpha: 1, beta: 1)
        public var arms: [String: Beta] = [:]
        public var frictionlessCompletion = Beta(alpha: 9.8, beta: 0.2)
        public var challengeCompletion = Beta(alpha: 8, beta: 2)
        public var retryCompletion = Beta(alpha: 7, beta: 3)

        public init() {}

        static func key(range: String, option: Option, band: Int) -> String { "\(range)|\(option)|\(band)" }
        static func frictionlessKey(range: String, band: Int) -> String { "\(range)|frictionless|\(band)" }

        public func acceptance(range: String, option: Option, band: Int) -> Beta {
            arms[Self.key(range: range, option: option, band: band)] ?? Self.unknownRate
        }

        public func frictionless(range: String, band: Int) -> Beta {
            arms[Self.frictionlessKey(range: range, band: band)] ?? Self.unknownRate
        }

        public mutating func observe(_ observation: Observation) {
            func update(_ estimate: inout Beta, _ success: Bool) {
                if success { estimate.alpha += 1 } else { estimate.beta += 1 }
            }
            switch observation {
            case .exemption(let range, let option, let band, let granted):
                update(&arms[Self.key(range: range, option: option, band: band), default: Self.unknownRate], granted)
            case .frictionless(let range, let band, let frictionless):
                update(&arms[Self.frictionlessKey(range: range, band: band), default: Self.unknownRate], frictionless)
            case .frictionlessCompleted(let done): update(&frictionlessCompletion, done)
            case .challengeCompleted(let done): update(&challengeCompletion, done)
            case .retryCompleted(let done): update(&retryCompletion, done)
            }
        }

        /// The key an observation is stored under (one row per key), and its delta.
        public static func storageKey(_ observation: Observation) -> (key: String, success: Bool) {
            switch observation {
            case .exemption(let range, let option, let band, let granted): (key(range: range, option: option, band: band), granted)
            case .frictionless(let range, let band, let frictionless): (frictionlessKey(range: range, band: band), frictionless)
            case .frictionlessCompleted(let done): ("*|frictionless_completion", done)
            case .challengeCompleted(let done): ("*|challenge_completion", done)
            case .retryCompleted(let done): ("*|retry_completion", done)
            }
        }

        /// Restores counts read from storage (successes and failures per key).
        public mutating func load(key: String, successes: Double, failures: Double) {
            switch key {
            case "*|frictionless_completion":
                frictionlessCompletion.alpha += successes
                frictionlessCompletion.beta += failures
            case "*|challenge_completion":
                challengeCompletion.alpha += successes
                challengeCompletion.beta += failures
            case "*|retry_completion":
                retryCompletion.alpha += successes
                retryCompletion.beta += failures
            default:
                var estimate = arms[key] ?? Self.unknownRate
                estimate.alpha += successes
                estimate.beta += failures
                arms[key] = estimate
            }
        }
    }
}
