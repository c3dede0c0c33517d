import Configuration
import Foundation
import SCAContract
import SCARules
import SystemPackage
import Yams

/// A configuration that cannot be used, with the key at fault.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public let key: String
    public let message: String

    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "invalid configuration: \(key): \(message)" }
}

/// The application's configuration: the rules' settings and the shells' limits.
public struct ServiceConfiguration: Sendable {
    public var rules = RulesConfiguration()
    /// Longest request line `sca decide` reads, in bytes.
    public var lineBytesMax = DecisionStream.defaultLineBytesMax
    /// Largest HTTP request body, in bytes.
    public var bodyBytesMax = ServiceConfiguration.bodyBytesMaxDefault
    /// Largest page of `GET /v1/audit`.
    public var auditPageMax = ServiceConfiguration.auditPageMaxDefault
    /// Where `sca serve` listens: loopback unless configured otherwise.
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    /// `postgres://…`, `sqlite:PATH` or a file path; when absent, `sca.sqlite` in the data
    /// directory.
    public var storageURL: String?
    public var dataDirectory = "sca-data"
    /// Most requests one storage transaction takes (group commit); 1 turns it off.
    /// (`DecisionStore.Options.batchMaxDefault`; a test keeps the two equal.)
    public var storageBatchMax = 256
    /// Most requests that may wait for the writer; past it a call answers `503 busy`.
    /// (`DecisionStore.Options.queueMaxDefault`; a test keeps the two equal.)
    public var storageQueueMax = 8192
    /// The measured tunings of the write path, each on unless turned off (docs/STORAGE.md):
    /// the SQLite log written in one call a commit, written table leaves released from the
    /// page cache, glibc's allocator kept from trimming its heap after every batch.
    public var tuningGatheredLogWrites = true
    public var tuningReleasePageCache = true
    public var tuningAllocator = true
    /// How long `sca serve` remembers a decision's `Idempotency-Key`; how long it keeps
    /// one-time tokens, approvals and sessions after they expire; how often it sweeps.
    /// (`RetentionPolicy`'s defaults; a test keeps them equal.)
    public var retentionIdempotencySeconds = 7 * 86_400
    public var retentionGraceSeconds = 86_400
    public var retentionIntervalSeconds = 60
    /// `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`.
    public var logLevel = "info"
    public var auth = AuthConfiguration()
    public var payments = PaymentsConfiguration()

    public static let bodyBytesMaxDefault = 64 * 1024
    public static let auditPageMaxDefault = 1000
    /// What `limits.line_bytes_max` and `limits.body_bytes_max` may be set to.
    public static let messageBytesRange = 1024...(1024 * 1024)
    public static let auditPageRange = 1...10_000
    public static let storageBatchRange = 1...1024
    public static let storageQueueRange = 1...1_000_000
    /// An hour to ten years: a retry must find its key, and the table must not grow forever.
    public static let retentionIdempotencyRange = 3600...(3650 * 86_400)
    public static let retentionGraceRange = 0...(30 * 86_400)
    public static let retentionIntervalRange = 1...86_400

    public init() {}
}

/// Loads configuration from a JSON or YAML file and `SCA_*` environment variables (which
/// win), through swift-configuration's providers, and validates every value against its
/// limits. Unknown keys in the file are refused, so a typo cannot silently keep a default.
public enum ConfigurationLoader {
    public static let fileBytesMax = 1024 * 1024

    public static func load(
        file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> ServiceConfiguration {
        if let unknown = environment.keys.sorted().first(where: { !isKnownEnvironmentName($0) }) {
            throw ConfigurationError(key: unknown, "unknown configuration variable (see docs/CONFIGURATION.md)")
        }
        var providers: [(provider: any ConfigProvider, source: ConfigurationSource)] = [
            (EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: ConfigKey(["sca"])), .environment)
        ]
        if let file {
            // The file is read twice at start-up: once here to refuse unknown keys (the
            // providers cannot list their keys), once by swift-configuration's provider.
            let fileKeys = try flattenedKeys(ofFile: file)
            if let unknown = fileKeys.first(where: { !isKnown($0) }) {
                throw ConfigurationError(key: unknown, "unknown configuration key (see docs/CONFIGURATION.md)")
            }
            do {
                if file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                    providers.append((try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)), .file(file)))
                } else {
                    providers.append((try await FileProvider<JSONSnapshot>(filePath: FilePath(file)), .file(file)))
                }
            } catch {
                throw ConfigurationError(key: file, "cannot read the configuration file: \(error)")
            }
        }
        return try Reader(providers: providers).configuration()
    }

    /// Prefixes of `SCA_` variables that are not configuration: the test and benchmark
    /// tools' own (`scripts/test.sh`, `blackbox/`, `Benchmarks/`).
    public static let toolEnvironmentPrefixes = ["SCA_TEST_", "SCA_BENCH_"]

    /// Every key's variable (`SCA_SESSION_IDLE_SECONDS`, …).
    static let environmentNames = Set(ConfigurationKey.allCases.map { ConfigurationKey.environmentName(of: $0.rawValue) })

    /// Whether `name` may be set in `sca`'s environment: not an `SCA_` name, a tool's, or
    /// the variable of a configuration key. A typo is refused as a file's is.
    static func isKnownEnvironmentName(_ name: String) -> Bool {
        guard name.hasPrefix("SCA_") else { return true }
        if toolEnvironmentPrefixes.contains(where: name.hasPrefix) { return true }
        if environmentNames.contains(name) { return true }
        let fxPrefix = ConfigurationKey.environmentName(of: ConfigurationKey.fxRatesPrefix)
        return name.hasPrefix(fxPrefix) && Currency(code: String(name.dropFirst(fxPrefix.count))) != nil
    }

    static func isKnown(_ key: String) -> Bool {
        if ConfigurationKey(rawValue: key) != nil { return true }
        guard key.hasPrefix(ConfigurationKey.fxRatesPrefix) else { return false }
        return Currency(code: String(key.dropFirst(ConfigurationKey.fxRatesPrefix.count))) != nil
    }

    /// The dotted keys of every leaf in a JSON or YAML file (an array is a leaf).
    static func flattenedKeys(ofFile path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: path, "cannot read the configuration file")
        }
        guard data.count <= fileBytesMax else {
            throw ConfigurationError(key: path, "configuration file is larger than \(fileBytesMax) bytes")
        }
        let tree: Any?
        do {
            if path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
                tree = try Yams.load(yaml: String(decoding: data, as: UTF8.self))
            } else {
                tree = try JSONSerialization.jsonObject(with: data)
            }
        } catch {
            throw ConfigurationError(key: path, "not valid \(path.hasSuffix(".json") ? "JSON" : "YAML"): \(error)")
        }
        guard let root = tree as? [String: Any] else {
            throw ConfigurationError(key: path, "the configuration file must hold an object (a mapping) at the top")
        }
        var keys: [String] = []
        func walk(_ node: [String: Any], _ prefix: String) {
            for (name, value) in node {
                let key = prefix.isEmpty ? name : prefix + "." + name
                if let nested = value as? [String: Any] { walk(nested, key) } else { keys.append(key) }
            }
        }
        walk(root, "")
        return keys.sorted()
    }
}

/// Reads each known key from the providers in order (environment first) and checks it.
/// Where a value was read from, as an error message names it.
enum ConfigurationSource {
    case environment
    case file(String)

    func describe(_ key: String) -> String {
        switch self {
        case .environment: return "the environment variable \(ConfigurationKey.environmentName(of: key))"
        case .file(let path): return path
        }
    }
}

private struct Reader {
    let providers: [(provider: any ConfigProvider, source: ConfigurationSource)]

    /// Quarters of fraud-rate history read per type (ten years).
    static let quartersOfHistoryMax = 40
    /// Largest mandate retention a configuration may ask of the in-memory store.
    static let mandatesPerPayerLimit = 10_000

    func configuration() throws -> ServiceConfiguration {
        var service = ServiceConfiguration()
        var rules = RulesConfiguration()
        try readRiskAndExemptions(into: &rules)
        try readTimesAndLimits(into: &rules)
        service.rules = rules
        try readServerAndStorage(into: &service)
        service.auth = try authConfiguration()
        service.payments = try paymentsConfiguration()
        return service
    }

    /// TRA, low value, contactless and the order exemptions are tried in.
    func readRiskAndExemptions(into rules: inout RulesConfiguration) throws {
        if let score = try double(.traLowRiskScoreMax) {
            guard (0...1).contains(score) else { throw invalid(.traLowRiskScoreMax, "must be between 0 and 1") }
            rules.traLowRiskScoreMax = score
        }
        for (key, type) in [
            (ConfigurationKey.traMonitoredFraudRateCard, TRAPaymentType.card),
            (.traMonitoredFraudRateCreditTransfer, .creditTransfer),
        ] {
            if let rate = try fraction(key) { rules.monitoredFraudRate[type] = rate }
        }
        for (key, type) in [
            (ConfigurationKey.traQuarterlyFraudRatesCard, TRAPaymentType.card),
            (.traQuarterlyFraudRatesCreditTransfer, .creditTransfer),
        ] {
            if let rates = try fractions(key) { rules.quarterlyFraudRates[type] = rates }
        }
        if let suspension = try enumeration(.traBandSuspension, TRABandSuspension.self) {
            rules.traBandSuspension = suspension
        }
        if let counting = try enumeration(.lowValueCounting, RulesConfiguration.Counting.self) {
            rules.lowValueCounting = counting
        }
        if let reset = try bool(.lowValueResetAfter24h) { rules.lowValueResetAfter24Hours = reset }
        if let counting = try enumeration(.contactlessCounting, RulesConfiguration.Counting.self) {
            rules.contactlessCounting = counting
        }
        if let names = try stringArray(.exemptionsOrder) {
            var order: [Exemption] = []
            for name in names {
                guard let exemption = Exemption(rawValue: name), Exemption.defaultPaymentOrder.contains(exemption) else {
                    throw invalid(
                        .exemptionsOrder,
                        "\"\(name)\" is not a payment exemption (\(Exemption.defaultPaymentOrder.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
                guard !order.contains(exemption) else { throw invalid(.exemptionsOrder, "\"\(name)\" is listed twice") }
                order.append(exemption)
            }
            rules.exemptionOrder = order
        }
    }

    /// Sessions, account information, reference rates, attempts, code lifetimes, mandates.
    func readTimesAndLimits(into rules: inout RulesConfiguration) throws {
        // Stricter than the regulation is allowed, laxer is not: ranges end at its limits.
        let sessionSecondsMax = Int(RegulatoryLimits.sessionInactivityMax.milliseconds / 1000)
        if let seconds = try integer(.sessionIdleSeconds, 1...sessionSecondsMax) {
            rules.sessionIdleMax = .seconds(Int64(seconds))
        }
        let windowDaysMax = Int(RegulatoryLimits.aisWindowDaysEEA)
        if let days = try integer(.aisWindowDaysEEA, 1...windowDaysMax) { rules.aisWindowDays[.eea] = Int64(days) }
        if let days = try integer(.aisWindowDaysUK, 1...windowDaysMax) { rules.aisWindowDays[.uk] = Int64(days) }
        if let count = try integer(.aisUnattendedPerDayMax, 0...RegulatoryLimits.aisUnattendedAccessesPerDayMax) {
            rules.aisUnattendedPerDayMax = count
        }
        if let zoneName = try string(.aisDayTimeZone) {
            guard let zone = TimeZone(identifier: zoneName) else {
                throw invalid(.aisDayTimeZone, "\"\(zoneName)\" is not a time zone identifier (e.g. UTC, Europe/Warsaw)")
            }
            rules.aisDayZone = CalendarZone(name: zoneName) { instant in
                Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant.millisecondsSinceEpoch) / 1000)))
            }
        }
        var rates = ReferenceRates.illustrative
        for code in Currency.allCodes {
            let key = ConfigurationKey.fxRatesPrefix + code
            guard let rate = try decimal(key) else { continue }
            guard !rate.isZero else { throw ConfigurationError(key: key, "a reference rate must be positive") }
            guard code != "EUR" || rate == ExactDecimal(mantissa: 1, scale: 0) else {
                throw ConfigurationError(key: key, "rates are per 1 EUR, so EUR is always 1")
            }
            rates.set(Currency(code: code)!, perEuro: rate)
        }
        if let asOf = try string(.fxAsOf) { rates.asOf = asOf }
        rules.referenceRates = rates
        if let attempts = try integer(.authFailedAttemptsMax, 1...RegulatoryLimits.failedAttemptsMax) {
            rules.failedAttemptsMax = attempts
        }
        let codeSecondsMax = Int(RegulatoryLimits.authenticationCodeLifetimeMax.milliseconds / 1000)
        if let seconds = try integer(.authCodeLifetimeSeconds, 1...codeSecondsMax) {
            rules.authenticationCodeLifetime = .seconds(Int64(seconds))
        }
        if let count = try integer(.limitsMandatesPerPayerMax, 1...Self.mandatesPerPayerLimit) {
            rules.mandatesPerPayerMax = count
        }
        if let count = try integer(.limitsPaymentMandatesPerPayerMax, 1...Self.mandatesPerPayerLimit) {
            rules.paymentMandatesPerPayerMax = count
        }
    }

    /// Message limits, where to listen, the store, its tunings, retention, the log.
    func readServerAndStorage(into service: inout ServiceConfiguration) throws {
        if let bytes = try integer(.limitsLineBytesMax, ServiceConfiguration.messageBytesRange) { service.lineBytesMax = bytes }
        if let bytes = try integer(.limitsBodyBytesMax, ServiceConfiguration.messageBytesRange) { service.bodyBytesMax = bytes }
        if let count = try integer(.limitsAuditPageMax, ServiceConfiguration.auditPageRange) { service.auditPageMax = count }
        if let host = try string(.httpHost) {
            guard !host.isEmpty, host.count <= 253 else { throw invalid(.httpHost, "a host name or address") }
            service.httpHost = host
        }
        if let port = try integer(.httpPort, 0...65535) { service.httpPort = port }
        if let url = try string(.storageURL), !url.isEmpty { service.storageURL = url }
        if let directory = try string(.storageDataDirectory) {
            guard !directory.isEmpty else { throw invalid(.storageDataDirectory, "must not be empty") }
            service.dataDirectory = directory
        }
        if let count = try integer(.storageBatchMax, ServiceConfiguration.storageBatchRange) { service.storageBatchMax = count }
        if let count = try integer(.storageQueueMax, ServiceConfiguration.storageQueueRange) { service.storageQueueMax = count }
        if let on = try bool(.tuningGatheredLogWrites) { service.tuningGatheredLogWrites = on }
        if let on = try bool(.tuningReleasePageCache) { service.tuningReleasePageCache = on }
        if let on = try bool(.tuningAllocator) { service.tuningAllocator = on }
        if let seconds = try integer(.retentionIdempotencySeconds, ServiceConfiguration.retentionIdempotencyRange) {
            service.retentionIdempotencySeconds = seconds
        }
        if let seconds = try integer(.retentionGraceSeconds, ServiceConfiguration.retentionGraceRange) {
            service.retentionGraceSeconds = seconds
        }
        if let seconds = try integer(.retentionIntervalSeconds, ServiceConfiguration.retentionIntervalRange) {
            service.retentionIntervalSeconds = seconds
        }
        if let level = try string(.logLevel) {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(level) else { throw invalid(.logLevel, "one of \(levels.joined(separator: ", "))") }
            service.logLevel = level
        }
    }

    func authConfiguration() throws -> AuthConfiguration {
        var auth = AuthConfiguration()
        for (key, path) in [(ConfigurationKey.authPepper, \AuthConfiguration.pepper), (.authMasterKey, \.masterKey)] {
            guard let text = try string(key) else { continue }
            guard let bytes = Data(base64Encoded: text), bytes.count == AuthConfiguration.keyBytes else {
                throw invalid(key, "\(AuthConfiguration.keyBytes) random bytes, base64 (e.g. `openssl rand -base64 32`)")
            }
            auth[keyPath: path] = [UInt8](bytes)
        }
        if let id = try string(.authRPID) {
            guard !id.isEmpty, id.count <= 253, !id.contains("/"), !id.contains(":") else {
                throw invalid(.authRPID, "a host name such as localhost or bank.example")
            }
            auth.rpID = id
        }
        if let origins = try stringArray(.authOrigins) {
            guard !origins.isEmpty, origins.count <= 16,
                origins.allSatisfy({ ($0.hasPrefix("https://") || $0.hasPrefix("http://")) && !$0.hasSuffix("/") })
            else { throw invalid(.authOrigins, "1 to 16 origins such as https://bank.example (scheme, host, port; no path)") }
            auth.origins = origins
        }
        if let logN = try integer(.authScryptLogN, AuthConfiguration.scryptLogNRange) { auth.scryptLogN = logN }
        if let threads = try integer(.authPinCheckThreads, 1...64) { auth.pinCheckThreads = threads }
        if let count = try integer(.authPinCheckQueueMax, 1...10_000) { auth.pinCheckQueueMax = count }
        if let sender = try enumeration(.authSMSSender, AuthConfiguration.SMSSender.self) { auth.smsSender = sender }
        if let count = try integer(.authSMSSendsPerHour, 1...100) { auth.smsSendsPerHour = count }
        if let count = try integer(.authPushPendingMax, 1...20) { auth.pushPendingMax = count }
        if let demo = try bool(.bankDemo) { auth.demo = demo }
        if let country = try string(.bankCountry) {
            guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw invalid(.bankCountry, "an ISO 3166 alpha-2 code such as PL")
            }
            auth.bankCountry = country
        }
        return auth
    }

    func paymentsConfiguration() throws -> PaymentsConfiguration {
        var payments = PaymentsConfiguration()
        for (key, path) in [
            (ConfigurationKey.paymentsMerchantID, \PaymentsConfiguration.merchantID), (.paymentsMerchantName, \.merchantName),
        ] {
            guard let text = try string(key) else { continue }
            guard (1...64).contains(text.count) else { throw invalid(key, "1 to 64 characters") }
            payments[keyPath: path] = text
        }
        if let country = try string(.paymentsAcquirerCountry) {
            guard CountryCode(country) != nil else { throw invalid(.paymentsAcquirerCountry, "an ISO 3166-1 alpha-2 code such as NL") }
            payments.acquirerCountry = country
        }
        if let names = try stringArray(.paymentsExemptions) {
            let known = [
                "low_value", "transaction_risk_assessment", "trusted_listing", "trusted_listing_prompt", "secure_corporate_payment",
            ]
            guard names.allSatisfy(known.contains) else {
                throw invalid(.paymentsExemptions, "names among \(known.joined(separator: ", "))")
            }
            payments.exemptions = names
        }
        if let fallback = try bool(.paymentsThreeDS1Fallback) { payments.threeDS1Fallback = fallback }
        if let file = try string(.paymentsIssuersFile), !file.isEmpty { payments.issuersFile = file }
        if let margin = try double(.paymentsOptimizerMargin) {
            guard margin > 0, margin <= 1 else { throw invalid(.paymentsOptimizerMargin, "a fraction above 0, at most 1") }
            payments.optimizerMargin = margin
        }
        return payments
    }

    // MARK: Typed lookups: the first provider with a value wins; a value of the wrong type
    // is an error naming the key, never a silent default.

    private func lookup(_ key: String, _ type: ConfigType) throws -> ConfigContent? {
        let absolute = AbsoluteConfigKey(key.split(separator: ".").map(String.init))
        for (provider, source) in providers {
            let result: LookupResult
            do {
                result = try provider.value(forKey: absolute, type: type)
            } catch {
                throw ConfigurationError(key: key, "must be \(Self.expected(type)) (in \(source.describe(key)))")
            }
            if let value = result.value { return value.content }
        }
        return nil
    }

    /// What a value of `type` is, in words.
    static func expected(_ type: ConfigType) -> String {
        switch type {
        case .int: return "an integer"
        case .bool: return "true or false"
        case .double: return "a number"
        case .string: return "a string"
        case .stringArray: return "a list of strings"
        default: return "a \(type.rawValueName) value"
        }
    }

    private func invalid(_ key: ConfigurationKey, _ message: String) -> ConfigurationError {
        ConfigurationError(key: key.rawValue, message)
    }

    private func string(_ key: ConfigurationKey) throws -> String? {
        guard case .string(let text)? = try lookup(key.rawValue, .string) else { return nil }
        return text
    }

    private func bool(_ key: ConfigurationKey) throws -> Bool? {
        guard case .bool(let flag)? = try lookup(key.rawValue, .bool) else { return nil }
        return flag
    }

    private func double(_ key: ConfigurationKey) throws -> Double? {
        guard case .double(let number)? = try lookup(key.rawValue, .double) else { return nil }
        guard number.isFinite else { throw invalid(key, "must be a finite number") }
        return number
    }

    private func integer(_ key: ConfigurationKey, _ range: ClosedRange<Int>) throws -> Int? {
        guard case .int(let number)? = try lookup(key.rawValue, .int) else { return nil }
        guard range.contains(number) else {
            throw invalid(key, "\(number) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    private func stringArray(_ key: ConfigurationKey) throws -> [String]? {
        guard case .stringArray(let values)? = try lookup(key.rawValue, .stringArray) else { return nil }
        return values.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    private func enumeration<E: RawRepresentable & CaseIterable>(_ key: ConfigurationKey, _: E.Type) throws -> E?
    where E.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let value = E(rawValue: text) else {
            throw invalid(key, "\"\(text)\" is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// An exact decimal written as a string ("4.26") or a number (4.26).
    private func decimal(_ key: String) throws -> ExactDecimal? {
        let content: ConfigContent?
        do {
            content = try lookup(key, .string)
        } catch {
            content = try lookup(key, .double)
        }
        switch content {
        case .string(let text)?:
            guard let value = ExactDecimal(text.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError(
                    key: key, "\"\(text)\" is not a non-negative decimal with at most \(ExactDecimal.scaleMax) decimals")
            }
            return value
        case .double(let number)?:
            guard let value = ExactDecimal(number) else {
                throw ConfigurationError(key: key, "\(number) is not a non-negative decimal with at most \(ExactDecimal.scaleMax) decimals")
            }
            return value
        default:
            return nil
        }
    }

    /// A fraud rate: a fraction between 0 and 1 (0.0005 = 0.05 %).
    private func fraction(_ key: ConfigurationKey) throws -> ExactDecimal? {
        guard let value = try decimal(key.rawValue) else { return nil }
        guard value <= ExactDecimal(mantissa: 1, scale: 0) else {
            throw invalid(key, "a fraud rate is a fraction between 0 and 1 (0.0005 = 0.05 %)")
        }
        return value
    }

    private func fractions(_ key: ConfigurationKey) throws -> [ExactDecimal]? {
        let content: ConfigContent?
        do {
            content = try lookup(key.rawValue, .doubleArray)
        } catch {
            content = try lookup(key.rawValue, .stringArray)
        }
        let texts: [String]
        switch content {
        case .doubleArray(let numbers)?: texts = numbers.map { ExactDecimal($0)?.description ?? "\($0)" }
        case .stringArray(let strings)?: texts = strings
        default: return nil
        }
        guard texts.count <= Self.quartersOfHistoryMax else {
            throw invalid(key, "at most \(Self.quartersOfHistoryMax) quarters of history")
        }
        return try texts.map { text in
            guard let value = ExactDecimal(text.trimmingCharacters(in: .whitespaces)),
                value <= ExactDecimal(mantissa: 1, scale: 0)
            else { throw invalid(key, "\"\(text)\" is not a fraud rate between 0 and 1") }
            return value
        }
    }
}

extension ConfigType {
    var rawValueName: String {
        switch self {
        case .string: return "string"
        case .int: return "integer"
        case .double: return "number"
        case .bool: return "boolean"
        case .bytes: return "bytes"
        case .stringArray: return "list of strings"
        case .intArray: return "list of integers"
        case .doubleArray: return "list of numbers"
        case .boolArray: return "list of booleans"
        case .byteChunkArray: return "list of bytes"
        }
    }
}
