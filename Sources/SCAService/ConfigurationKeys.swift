import SCARules

/// Every configuration key, its type, its default and its limits, in one place. The
/// configuration table of docs/CONFIGURATION.md is written from this list.
public enum ConfigurationKey: String, CaseIterable, Sendable {
    case traLowRiskScoreMax = "tra.low_risk_score_max"
    case traMonitoredFraudRateCard = "tra.monitored_fraud_rate.card"
    case traMonitoredFraudRateCreditTransfer = "tra.monitored_fraud_rate.credit_transfer"
    case traQuarterlyFraudRatesCard = "tra.quarterly_fraud_rates.card"
    case traQuarterlyFraudRatesCreditTransfer = "tra.quarterly_fraud_rates.credit_transfer"
    case traBandSuspension = "tra.band_suspension"
    case lowValueCounting = "low_value.counting"
    case lowValueResetAfter24h = "low_value.reset_after_24h"
    case contactlessCounting = "contactless.counting"
    case exemptionsOrder = "exemptions.order"
    case sessionIdleSeconds = "session.idle_seconds"
    case aisWindowDaysEEA = "ais.window_days.eea"
    case aisWindowDaysUK = "ais.window_days.uk"
    case aisUnattendedPerDayMax = "ais.unattended_per_day_max"
    case aisDayTimeZone = "ais.day_timezone"
    case fxAsOf = "fx.as_of"
    case authFailedAttemptsMax = "auth.failed_attempts_max"
    case authCodeLifetimeSeconds = "auth.code_lifetime_seconds"
    case limitsMandatesPerPayerMax = "limits.mandates_per_payer_max"
    case limitsPaymentMandatesPerPayerMax = "limits.payment_mandates_per_payer_max"
    case limitsLineBytesMax = "limits.line_bytes_max"
    case limitsBodyBytesMax = "limits.body_bytes_max"
    case limitsAuditPageMax = "limits.audit_page_max"
    case httpHost = "http.host"
    case httpPort = "http.port"
    case storageURL = "storage.url"
    case storageDataDirectory = "storage.data_dir"
    case storageBatchMax = "storage.batch_max"
    case storageQueueMax = "storage.queue_max"
    case tuningGatheredLogWrites = "tuning.gathered_log_writes"
    case tuningReleasePageCache = "tuning.release_page_cache"
    case tuningAllocator = "tuning.allocator"
    case retentionIdempotencySeconds = "retention.idempotency_seconds"
    case retentionGraceSeconds = "retention.grace_seconds"
    case retentionIntervalSeconds = "retention.interval_seconds"
    case logLevel = "log.level"
    case authPepper = "auth.pepper"
    case authMasterKey = "auth.master_key"
    case authRPID = "auth.rp_id"
    case authOrigins = "auth.origins"
    case authScryptLogN = "auth.scrypt_log_n"
    case authPinCheckThreads = "auth.pin_check.threads"
    case authPinCheckQueueMax = "auth.pin_check.queue_max"
    case authSMSSender = "auth.sms.sender"
    case authSMSSendsPerHour = "auth.sms.sends_per_hour"
    case authPushPendingMax = "auth.push.pending_max"
    case bankDemo = "bank.demo"
    case bankCountry = "bank.country"
    case paymentsMerchantID = "payments.merchant_id"
    case paymentsMerchantName = "payments.merchant_name"
    case paymentsAcquirerCountry = "payments.acquirer_country"
    case paymentsExemptions = "payments.exemptions"
    case paymentsThreeDS1Fallback = "payments.threeds1_fallback"
    case paymentsIssuersFile = "payments.issuers_file"
    case paymentsOptimizerMargin = "payments.optimizer.margin"

    /// `fx.rates.<ISO 4217 code>`: units of that currency per 1 EUR.
    public static let fxRatesPrefix = "fx.rates."

    /// The environment variable that overrides a key: `SCA_` + the key in upper case with
    /// dots as underscores (`SCA_TRA_LOW_RISK_SCORE_MAX`, `SCA_FX_RATES_PLN`).
    public static func environmentName(of key: String) -> String {
        "SCA_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    public var components: [String] { rawValue.split(separator: ".").map(String.init) }
}
