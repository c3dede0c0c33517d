import ArgumentParser
import Foundation
import Logging
import SCACards
import SCAPayments
import SCARules
import SCAService
import SCAStore

/// The payments API's service as configuration describes it.
enum PaymentSetup {
    static func service(_ configuration: ServiceConfiguration, store: DecisionStore, logger: Logger) async throws -> PaymentService {
        let payments = configuration.payments
        var issuers = Sandbox.issuers
        if let file = payments.issuersFile {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            do {
                issuers = try JSONDecoder().decode([IssuerProfile].self, from: data)
            } catch {
                throw ConfigurationError(key: "payments.issuers_file", "\(file) is not a JSON list of issuer profiles: \(error)")
            }
        }
        let exemptions =
            payments.exemptions.map { Set($0.compactMap(CardExemption.init(rawValue:))) } ?? Acquirer.Settings.defaultExemptions
        let (pepper, masterKey) = try AuthSetup.keys(configuration, logger: logger)
        return try await PaymentService(
            store: store,
            settings: PaymentSettings(
                merchant: Merchant(id: payments.merchantID, name: payments.merchantName, country: payments.acquirerCountry),
                enabledExemptions: exemptions, threeDS1Fallback: payments.threeDS1Fallback,
                economics: ExemptionOptimizer.Economics(margin: payments.optimizerMargin), issuers: issuers
            ),
            masterKey: masterKey, pepper: pepper
        )
    }
}

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seeded simulations.",
        subcommands: [SimulatePayments.self]
    )
}

struct SimulatePayments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payments",
        abstract: "Compare always-3DS, always-request-an-exemption, the exemption optimizer and an oracle on a simulated issuer population."
    )

    @Option(name: .long, help: "Seed of the simulation (same seed, same figures).")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Payments per strategy (1 to 10,000,000).")
    var count: Int = 100_000

    @Option(name: .long, help: "Issuer ranges in the population (1 to 1,000).")
    var ranges: Int = 40

    @Option(name: .long, help: "What a completed sale is worth to the merchant, as a fraction of its amount.")
    var margin: Double = 0.1

    func validate() throws {
        guard (1...10_000_000).contains(count) else { throw ValidationError("--count: 1 to 10,000,000") }
        guard (1...1_000).contains(ranges) else { throw ValidationError("--ranges: 1 to 1,000") }
        guard margin > 0, margin <= 1 else { throw ValidationError("--margin: above 0, at most 1") }
    }

    func run() async throws {
        let report = PaymentSimulation.run(seed: seed, count: count, ranges: ranges, economics: .init(margin: margin))
        let oracle = report.result("oracle")!.conversion
        var lines = ["{\"seed\":\(seed),\"count\":\(count),\"ranges\":\(ranges),\"results\":["]
        for (index, result) in report.results.enumerated() {
            let fields = [
                "\"strategy\":\"\(result.strategy)\"",
                "\"conversion\":\(rounded(result.conversion))",
                "\"challenge_rate\":\(rounded(result.challengeRate))",
                "\"exemptions_requested\":\(result.exemptionsRequested)",
                "\"exemptions_granted\":\(result.exemptionsGranted)",
                "\"merchant_liable_fraud_eur\":\(rounded(result.merchantLiableFraudEUR, 2))",
                "\"merchant_liable_fraud_count\":\(result.merchantLiableFraudCount)",
                "\"conversion_vs_oracle\":\(rounded(oracle == 0 ? 0 : result.conversion / oracle))",
            ]
            lines.append("{" + fields.joined(separator: ",") + "}" + (index == report.results.count - 1 ? "" : ","))
        }
        lines.append("]}")
        print(lines.joined(separator: "\n"))
    }

    func rounded(_ value: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", value) }
}
