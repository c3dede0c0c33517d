import Benchmark
import SCACards
import SCARules

/// Issue 5: an in-process frictionless authentication, end to end through the simulated
/// network: the acquirer's decision, AReq through the directory server to the issuer's ACS
/// (its own rules engine decides), ARes, and the authorisation with the CAVV checked.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        maxDuration: .seconds(5), maxIterations: 200_000
    )
    let network = try! CardNetwork(profiles: Sandbox.issuers, key: Array(repeating: 3, count: 32))
    let acquirer = Acquirer(
        settings: .init(merchant: Merchant(id: "demo-shop", name: "Demo Shop", country: "NL")), network: network, engine: RulesEngine()
    )
    let card = CardNumber("4000010000000019")!
    let now = Instant(rfc3339: "2026-11-21T12:00:00Z")!

    Benchmark("Frictionless payment: acquirer → DS → ACS → authorisation") { benchmark in
        for index in benchmark.scaledIterations {
            let payment = PaymentInstruction(
                id: "pay_\(index)", card: card, amount: Money(minorUnits: 2500, currency: .eur), merchant: acquirer.settings.merchant,
                threeDS: ThreeDSOptions(enabled: true, challengeIndicator: .noChallengeRequested)
            )
            let outcome = acquirer.begin(payment, at: now, chooser: nil)
            precondition(outcome.status == .authorized && outcome.path == .frictionless)
            blackHole(outcome)
        }
    }
}
