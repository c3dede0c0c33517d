import Foundation
import Testing

@testable import SCAService

/// SCA-RULES §8: Anna's day, four SCA prompts, decided from `examples/` as a user runs it.
struct WorkedExampleTests {
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    /// (id, outcome, reason) for every line of examples/worked-example.jsonl.
    static let expected: [(String, String, String)] = [
        ("setup-consent", "sca_required", "ais_first_access"),
        ("setup-subscription", "sca_required", "recurring_first"),
        ("0800-login", "sca_required", "no_session"),
        ("0805-bakery", "exempt", "low_value"),
        ("0900-aisp-refresh", "exempt", "ais_within_window"),
        ("1030-subscription", "exempt", "recurring"),
        ("1030-subscription-mit", "out_of_scope", "merchant_initiated"),
        ("1230-card-tra", "exempt", "transaction_risk_analysis"),
        ("1500-flights", "sca_required", "no_exemption"),
        ("1900-aisp-refresh", "exempt", "ais_within_window"),
        ("2200-add-landlord", "sca_required", "always_required"),
        ("2201-first-rent", "sca_required", "no_exemption"),
    ]

    @Test func annasDayGivesTheSpecAnswers() async throws {
        let configuration = try await ConfigurationLoader.load(
            file: Self.examples.appendingPathComponent("worked-example.yaml").path, environment: [:]
        )
        let input = try Data(contentsOf: Self.examples.appendingPathComponent("worked-example.jsonl"))
        var runner = DecideRunner(configuration: configuration)
        var consumed = false
        var output: [UInt8] = []
        let errored = try runner.run(
            read: { buffer in
                guard !consumed else { return 0 }
                consumed = true
                input.copyBytes(to: buffer.bindMemory(to: UInt8.self), count: input.count)
                return input.count
            },
            write: { output.append(contentsOf: $0) }
        )
        #expect(errored == 0)
        let answers = try String(decoding: output, as: UTF8.self).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(answers.count == Self.expected.count)
        for (answer, (id, outcome, reason)) in zip(answers, Self.expected) {
            #expect(answer["id"] as? String == id)
            #expect(answer["outcome"] as? String == outcome, "\(id)")
            #expect(answer["reason"] as? String == reason, "\(id)")
        }
        let bakery = try #require(answers.first { $0["id"] as? String == "0805-bakery" })
        #expect((bakery["amount_in_regime_currency"] as? [String: Any])?["value"] as? String == "3.52")
        #expect(
            answers.filter { ($0["id"] as? String)?.hasPrefix("setup") == false && $0["outcome"] as? String == "sca_required" }.count == 4,
            "one day, four SCA prompts")
    }
}
