import Foundation
import SCARules
import Testing

@testable import SCAService

/// A class so that each test's configuration files go with it (`deinit`).
final class ConfigurationLoaderTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sca-config-\(UUID().uuidString)")

    deinit { try? FileManager.default.removeItem(at: directory) }

    func file(_ name: String, _ contents: String) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaultsAreTheSpecValues() async throws {
        let rules = try await ConfigurationLoader.load(environment: [:]).rules
        #expect(rules.traLowRiskScoreMax == 0.2)
        #expect(rules.monitoredFraudRate.isEmpty, "no monitored rate: no TRA band open")
        #expect(rules.lowValueCounting == .both)
        #expect(rules.lowValueResetAfter24Hours == false)
        #expect(rules.exemptionOrder == Exemption.defaultPaymentOrder)
        #expect(rules.sessionIdleMax == .minutes(5))
        #expect(rules.aisWindowDays == [.eea: 180, .uk: 90])
        #expect(rules.aisUnattendedPerDayMax == 4)
        #expect(rules.failedAttemptsMax == 5)
        #expect(rules.referenceRates == .illustrative)
    }

    @Test func readsYAML() async throws {
        let path = try file(
            "c.yaml",
            """
            tra:
              low_risk_score_max: 0.1
              monitored_fraud_rate:
                card: 0.0005
                credit_transfer: 0.00005
              quarterly_fraud_rates:
                card: [0.002, 0.002]
              band_suspension: one_quarter
            low_value:
              counting: count
              reset_after_24h: true
            exemptions:
              order: [low_value, trusted_beneficiary]
            ais:
              window_days:
                uk: 60
              day_timezone: Europe/Warsaw
            fx:
              rates:
                PLN: "4.30"
                JPY: 160
            """)
        let rules = try await ConfigurationLoader.load(file: path, environment: [:]).rules
        #expect(rules.traLowRiskScoreMax == 0.1)
        #expect(rules.monitoredFraudRate[.card] == ExactDecimal("0.0005"))
        #expect(rules.monitoredFraudRate[.creditTransfer] == ExactDecimal("0.00005"))
        #expect(rules.quarterlyFraudRates[.card] == [ExactDecimal("0.002")!, ExactDecimal("0.002")!])
        #expect(rules.traBandSuspension == .oneQuarter)
        #expect(rules.lowValueCounting == .count)
        #expect(rules.lowValueResetAfter24Hours)
        #expect(rules.exemptionOrder == [.lowValue, .trustedBeneficiary])
        #expect(rules.aisWindowDays[.uk] == 60)
        #expect(rules.aisWindowDays[.eea] == 180)
        #expect(rules.referenceRates.perEuro[Currency(code: "PLN")!] == ExactDecimal("4.30"))
        #expect(rules.referenceRates.perEuro[Currency(code: "JPY")!] == ExactDecimal("160"))
        // Warsaw is UTC+1 in November: 23:30Z is already the next calendar day there.
        let lateEvening = Instant(rfc3339: "2026-11-21T23:30:00Z")!
        #expect(rules.aisDayZone.name == "Europe/Warsaw")
        #expect(
            rules.aisDayZone.dayNumber(of: lateEvening)
                == CalendarZone.utc.dayNumber(of: Instant(rfc3339: "2026-11-22T00:30:00Z")!))
    }

    @Test func readsJSON() async throws {
        let path = try file("c.json", #"{"tra": {"monitored_fraud_rate": {"card": 0.0013}}, "session": {"idle_seconds": 120}}"#)
        let rules = try await ConfigurationLoader.load(file: path, environment: [:]).rules
        #expect(rules.monitoredFraudRate[.card] == ExactDecimal("0.0013"))
        #expect(rules.sessionIdleMax == .seconds(120))
    }

    @Test func environmentOverridesTheFile() async throws {
        let path = try file("c.yaml", "low_value:\n  counting: count\n")
        let rules = try await ConfigurationLoader.load(
            file: path,
            environment: [
                "SCA_LOW_VALUE_COUNTING": "amount", "SCA_TRA_MONITORED_FRAUD_RATE_CARD": "0.0006",
                "SCA_FX_RATES_PLN": "4.5", "SCA_EXEMPTIONS_ORDER": "trusted_beneficiary, low_value",
            ]
        ).rules
        #expect(rules.lowValueCounting == .amount)
        #expect(rules.monitoredFraudRate[.card] == ExactDecimal("0.0006"))
        #expect(rules.referenceRates.perEuro[Currency(code: "PLN")!] == ExactDecimal("4.5"))
        #expect(rules.exemptionOrder == [.trustedBeneficiary, .lowValue])
    }

    @Test(arguments: [
        ("tra:\n  low_risk_score_max: 1.5\n", "tra.low_risk_score_max"),
        ("tra:\n  low_risk_score_max: high\n", "tra.low_risk_score_max"),
        ("tra:\n  monitored_fraud_rate:\n    card: 2\n", "tra.monitored_fraud_rate.card"),
        ("tra:\n  monitored_fraud_rate:\n    card: -0.1\n", "tra.monitored_fraud_rate.card"),
        ("tra:\n  band_suspension: never\n", "tra.band_suspension"),
        ("low_value:\n  counting: sometimes\n", "low_value.counting"),
        ("exemptions:\n  order: [low_value, low_value]\n", "exemptions.order"),
        ("exemptions:\n  order: [account_information]\n", "exemptions.order"),
        ("session:\n  idle_seconds: 600\n", "session.idle_seconds"),
        ("ais:\n  window_days:\n    eea: 181\n", "ais.window_days.eea"),
        ("ais:\n  unattended_per_day_max: 5\n", "ais.unattended_per_day_max"),
        ("ais:\n  day_timezone: Mars/Olympus\n", "ais.day_timezone"),
        ("fx:\n  rates:\n    PLN: 0\n", "fx.rates.PLN"),
        ("fx:\n  rates:\n    EUR: 2\n", "fx.rates.EUR"),
        ("fx:\n  rates:\n    XYZ: 2\n", "fx.rates.XYZ"),
        ("auth:\n  failed_attempts_max: 6\n", "auth.failed_attempts_max"),
        ("tra:\n  low_risk_scor_max: 0.1\n", "tra.low_risk_scor_max"),
        ("retention:\n  idempotency_seconds: 60\n", "retention.idempotency_seconds"),
        ("retention:\n  grace_seconds: -1\n", "retention.grace_seconds"),
        ("retention:\n  interval_seconds: 0\n", "retention.interval_seconds"),
    ])
    func invalidConfigurationNamesTheKey(yaml: String, key: String) async throws {
        let path = try file("c.yaml", yaml)
        do {
            _ = try await ConfigurationLoader.load(file: path, environment: [:])
            Issue.record("accepted \(yaml)")
        } catch let error as ConfigurationError {
            #expect(error.key == key)
            #expect(error.description.contains(key))
        }
    }

    @Test func readsTheRetentionSettings() async throws {
        let defaults = try await ConfigurationLoader.load(environment: [:])
        #expect(defaults.retentionIdempotencySeconds == 604_800)
        #expect(defaults.retentionGraceSeconds == 86_400)
        #expect(defaults.retentionIntervalSeconds == 60)
        let path = try file("c.yaml", "retention:\n  idempotency_seconds: 86400\n  grace_seconds: 0\n")
        let configured = try await ConfigurationLoader.load(file: path, environment: ["SCA_RETENTION_INTERVAL_SECONDS": "300"])
        #expect(configured.retentionIdempotencySeconds == 86_400)
        #expect(configured.retentionGraceSeconds == 0)
        #expect(configured.retentionIntervalSeconds == 300)
    }

    @Test func invalidEnvironmentValueNamesTheKey() async throws {
        await #expect(throws: ConfigurationError(key: "session.idle_seconds", "0 is outside 1...300")) {
            try await ConfigurationLoader.load(environment: ["SCA_SESSION_IDLE_SECONDS": "0"])
        }
    }

    @Test func missingFileIsAnError() async throws {
        await #expect(throws: ConfigurationError.self) {
            try await ConfigurationLoader.load(file: "/nonexistent/sca.yaml", environment: [:])
        }
    }
}

/// docs/CONFIGURATION.md's table names every key the loader reads, and no other.
@Suite struct ConfigurationReferenceTests {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/CONFIGURATION.md")

    /// The keys in backticks in the first column of the table's rows.
    static func documentedKeys() throws -> Set<String> {
        let text = try String(contentsOf: reference, encoding: .utf8)
        var keys = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let firstColumn = line.dropFirst(2).prefix { $0 != "|" }
            let parts = firstColumn.split(separator: "`", omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() where index % 2 == 1 { keys.insert(String(part)) }
        }
        return keys
    }

    @Test func everyKeyIsDocumentedAndEveryDocumentedKeyIsRead() throws {
        let documented = try Self.documentedKeys()
        let read = Set(ConfigurationKey.allCases.map(\.rawValue) + [ConfigurationKey.fxRatesPrefix + "<ISO 4217 code>"])
        #expect(read.subtracting(documented).sorted() == [], "keys the loader reads that docs/CONFIGURATION.md leaves out")
        #expect(documented.subtracting(read).sorted() == [], "keys docs/CONFIGURATION.md names that the loader does not read")
    }
}

/// A typo'd `SCA_` variable is refused as a typo'd file key is; the tools' own prefixes
/// and other programs' variables pass.
@Suite struct EnvironmentNameTests {
    @Test func aTypoedVariableIsRefusedByName() async throws {
        await #expect(
            throws: ConfigurationError(key: "SCA_SESION_IDLE_SECONDS", "unknown configuration variable (see docs/CONFIGURATION.md)")
        ) {
            _ = try await ConfigurationLoader.load(environment: ["SCA_SESION_IDLE_SECONDS": "60"])
        }
        await #expect(throws: ConfigurationError.self) { _ = try await ConfigurationLoader.load(environment: ["SCA_FX_RATES_XYZ": "1"]) }
    }

    @Test func aValueOfTheWrongTypeNamesWhereItCameFrom() async throws {
        await #expect(
            throws: ConfigurationError(
                key: "session.idle_seconds", "must be an integer (in the environment variable SCA_SESSION_IDLE_SECONDS)")
        ) { _ = try await ConfigurationLoader.load(environment: ["SCA_SESSION_IDLE_SECONDS": "abc"]) }
        await #expect(
            throws: ConfigurationError(key: "tuning.allocator", "must be true or false (in the environment variable SCA_TUNING_ALLOCATOR)")
        ) {
            _ = try await ConfigurationLoader.load(environment: ["SCA_TUNING_ALLOCATOR": "maybe"])
        }
    }

    @Test func configurationToolAndForeignVariablesPass() async throws {
        let configuration = try await ConfigurationLoader.load(environment: [
            "SCA_SESSION_IDLE_SECONDS": "60", "SCA_FX_RATES_PLN": "4.3", "SCA_TEST_BIN": "/x", "SCA_BENCH_DIR": "/y",
            "PATH": "/usr/bin", "SCAFFOLD": "z",
        ])
        #expect(configuration.rules.sessionIdleMax == .seconds(60))
    }
}

/// Every "SCA-RULES §n" the sources, tests and documents cite is a section of docs/RULES.md.
@Suite struct RulesReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func everyCitedSectionExists() throws {
        let rules = try String(contentsOf: Self.root.appendingPathComponent("docs/RULES.md"), encoding: .utf8)
        let sections = Set(
            rules.split(separator: "\n").filter { $0.hasPrefix("## ") }.compactMap { line in
                line.dropFirst(3).split(separator: " ").first.map { String($0.dropLast($0.hasSuffix(".") ? 1 : 0)) }
            })
        #expect(sections.isSuperset(of: ["1", "2", "3", "4", "4b", "5", "6", "7", "8", "9", "10"]))
        var cited: [String: String] = [:]
        for folder in ["Sources", "Tests", "docs"] {
            let enumerator = FileManager.default.enumerator(at: Self.root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let url = enumerator?.nextObject() as? URL {
                guard ["swift", "md", "yaml"].contains(url.pathExtension), let text = try? String(contentsOf: url, encoding: .utf8) else {
                    continue
                }
                var rest = Substring(text)
                while let range = rest.range(of: "SCA-RULES §") {
                    let number = rest[range.upperBound...].prefix { $0.isNumber || $0.isLetter }
                    if number.first?.isNumber == true { cited[String(number)] = url.lastPathComponent }
                    rest = rest[range.upperBound...]
                }
            }
        }
        #expect(cited.count >= 5)
        for (section, file) in cited { #expect(sections.contains(section), "\(file) cites SCA-RULES §\(section)") }
    }
}

/// The house rules of issue 26, checked over the sources: what must not come back.
@Suite struct HouseRulesTests {
    /// Each Swift source under `Sources/<module>`, with its code lines (comments left out).
    static func sources(_ modules: [String]) throws -> [(file: String, lines: [Substring])] {
        var out: [(String, [Substring])] = []
        for module in modules {
            let folder = RulesReferenceTests.root.appendingPathComponent("Sources/\(module)")
            let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
            while let url = enumerator?.nextObject() as? URL {
                guard url.pathExtension == "swift" else { continue }
                let text = try String(contentsOf: url, encoding: .utf8)
                let code = text.split(separator: "\n").filter { !$0.drop { $0 == " " }.hasPrefix("//") }
                out.append(("\(module)/\(url.lastPathComponent)", code))
            }
        }
        #expect(!out.isEmpty)
        return out
    }

    static let servingModules = [
        "SCAStore", "SCAGate", "SCABank", "SCAPayments", "SCAServer", "SCAHTTP", "SCAPrimitives", "SCAContract", "SCAAuth", "SCACards",
        "SCARules", "SCAAudit", "SCAClients",
    ]

    @Test func noFoundationJSONWriterOnARequestPath() throws {
        for (file, lines) in try Self.sources(Self.servingModules) {
            let found = lines.filter { $0.contains("JSONSerialization") || $0.contains("JSONEncoder(") }
            #expect(found.isEmpty, "\(file) writes JSON with Foundation: \(found.first ?? "")")
        }
    }

    @Test func eachFeaturesSQLIsInItsRepository() throws {
        for (file, lines) in try Self.sources(["SCAGate", "SCABank", "SCAPayments", "SCAClients"]) where !file.hasSuffix("Repository.swift")
        {
            let found = lines.filter { $0.contains("scope.run(") || $0.contains("scope.all(") || $0.contains("database.read(") }
            #expect(found.isEmpty, "\(file) runs SQL outside its repository: \(found.first ?? "")")
        }
    }

    /// Services return values (`JSONAnswer`, or `Encodable` records) and the edge writes
    /// them: no public service method answers a response body as a string. The one-time
    /// token protocol's effects (`TransactionWork<String>`) are the exception: their answer
    /// is kept as written, for the approved repeat and `Idempotency-Key` replays.
    @Test func servicesReturnValuesNotJSONText() throws {
        for (file, lines) in try Self.sources(["SCAGate", "SCABank", "SCAPayments"]) {
            let found = lines.filter { line in
                line.contains("public func") && (line.contains("JSON(") || line.contains("json(")) && line.contains("-> String")
            }
            #expect(found.isEmpty, "\(file) answers a body as text: \(found.first ?? "")")
        }
    }

    /// One clock (`EngineClock`): nothing else reads the time, but the log's timestamps and
    /// the HTTP `Date` header (`HTTPDate`, in DecisionChannelHandler).
    @Test func noWallClockButTheEngineClock() throws {
        let allowed = ["SCAStore/EngineClock.swift", "SCAServer/JSONLogHandler.swift", "SCAServer/DecisionChannelHandler.swift"]
        for (file, lines) in try Self.sources(Self.servingModules) where !allowed.contains(file) {
            let found = lines.filter { line in
                line.contains("wallClockNow") || line.contains("time(nil)")
                    || line.ranges(of: "Date()").contains {
                        $0.lowerBound == line.startIndex || !line[line.index(before: $0.lowerBound)].isLetter
                    }
            }
            #expect(found.isEmpty, "\(file) reads the wall clock: \(found.first ?? "")")
        }
    }
}
