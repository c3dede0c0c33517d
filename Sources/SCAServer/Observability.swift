import Foundation
import Hummingbird
import Logging
import Prometheus
import SCAHTTP
import SCAStore
import Synchronization

/// The server's Prometheus metrics. Every label takes values from a closed set (route
/// templates, methods, status codes, outcome and reason codes), so the number of series
/// stays bounded whatever clients send.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(5),
    ]

    private struct RequestKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }
    private struct DecisionKey: Hashable {
        let outcome: String
        let reason: String
    }
    private let requestMetrics = SeriesCache<RequestKey, (count: Counter, duration: DurationHistogram)>()
    private let decisionCounters = SeriesCache<DecisionKey, Counter>()

    /// The series' names and help texts (`sca_http_requests_total`, ...); computed, since
    /// swift-prometheus's descriptor is not `Sendable`, and read only when a series is made.
    private enum Name {
        static var requests: MetricNameDescriptor { sca("http", "requests", "total", "HTTP requests answered") }
        static var requestDuration: MetricNameDescriptor {
            sca("http", "request_duration", "seconds", "Time from request to response")
        }
        static var decisions: MetricNameDescriptor {
            sca(nil, "decisions", "total", "Decisions made (idempotent replays not counted)")
        }
        static var storeTransactions: MetricNameDescriptor {
            sca("store", "transactions", "", "Transactions committed since start")
        }
        static var storeJobs: MetricNameDescriptor {
            sca("store", "jobs", "", "Decisions and SCA results committed since start")
        }
        static var retentionDeleted: MetricNameDescriptor {
            sca("retention", "deleted_rows", "total", "Rows deleted by the retention sweep")
        }
        static var retentionFailed: MetricNameDescriptor {
            sca("retention", "failed_sweeps", "total", "Retention sweeps that failed (tried again at the next interval)")
        }

        /// `sca_<subsystem>_<name>_<unit>`, empty parts left out.
        private static func sca(_ subsystem: String?, _ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "sca", subsystem: subsystem, metricName: name, unitName: unit, helpText: help)
        }
    }

    private let storeTransactions: Gauge
    private let storeJobs: Gauge
    /// By table, each series made at start so that it reads 0 before the first deletion.
    private let retentionDeleted: [(table: RetentionTable, counter: Counter)]
    private let retentionFailed: Counter

    public init() {
        storeTransactions = registry.makeGauge(descriptor: Name.storeTransactions)
        storeJobs = registry.makeGauge(descriptor: Name.storeJobs)
        retentionDeleted = RetentionTable.all.map { [registry] table in
            (table, registry.makeCounter(descriptor: Name.retentionDeleted, labels: [("table", table.table)]))
        }
        retentionFailed = registry.makeCounter(descriptor: Name.retentionFailed)
    }

    func requestFinished(method: String, route: String, status: Int, duration: Duration) {
        let key = RequestKey(method: method, route: route, status: status)
        let metrics = requestMetrics.series(key) {
            (
                count: registry.makeCounter(
                    descriptor: Name.requests, labels: [("method", method), ("route", route), ("status", String(status))]
                ),
                duration: registry.makeDurationHistogram(
                    descriptor: Name.requestDuration, labels: [("method", method), ("route", route)],
                    buckets: Self.latencyBuckets
                )
            )
        }
        metrics.count.increment()
        metrics.duration.record(duration)
    }

    func decided(outcome: String, reason: String) {
        let key = DecisionKey(outcome: outcome, reason: reason)
        decisionCounters.series(key) {
            registry.makeCounter(descriptor: Name.decisions, labels: [("outcome", outcome), ("reason", reason)])
        }.increment()
    }

    func swept(_ sweep: RetentionSweep) {
        for (table, counter) in retentionDeleted where sweep[keyPath: table.count] > 0 {
            counter.increment(by: Int64(sweep[keyPath: table.count]))
        }
    }

    func sweepFailed() { retentionFailed.increment() }

    func committed(transactions: Int, decisions: Int) {
        storeTransactions.set(Double(transactions))
        storeJobs.set(Double(decisions))
    }

    /// The Prometheus text exposition of every series (what `GET /metrics` answers).
    public func render() -> [UInt8] {
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}

/// The series of each label set, found once in the registry and then kept (a registry
/// lookup builds and hashes the label list each time, on every request).
private final class SeriesCache<Key: Hashable & Sendable, Series: Sendable>: Sendable {
    private let known = Mutex<[Key: Series]>([:])

    func series(_ key: Key, make: () -> Series) -> Series {
        known.withLock { known in
            if let found = known[key] { return found }
            let made = make()
            known[key] = made
            return made
        }
    }
}

/// Times and counts every request and logs it as one JSON line: method, route template,
/// status and duration. Never the body, never headers (they may carry tokens).
struct ObservabilityMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        let route: String
        do {
            let response = try await next(request, context)
            status = response.status.code
            route = context.endpointPath ?? "unmatched"
            finish(request, route: route, status: status, since: start)
            return response
        } catch {
            status = (error as? any HTTPResponseError)?.status.code ?? 500
            finish(request, route: context.endpointPath ?? "unmatched", status: status, since: start)
            throw error
        }
    }

    private func finish(_ request: Request, route: String, status: Int, since start: ContinuousClock.Instant) {
        metrics.requestFinished(method: request.method.rawValue, route: route, status: status, since: start, logger: logger)
    }
}

extension ServerMetrics {
    /// Counts and times a finished request, and logs it: at error level when it failed on
    /// the server's side (5xx), otherwise only at debug level.
    func requestFinished(method: String, route: String, status: Int, since start: ContinuousClock.Instant, logger: Logger) {
        let duration = ContinuousClock.now - start
        requestFinished(method: method, route: route, status: status, duration: duration)
        if status >= 500 || logger.logLevel <= .debug {
            logger.log(
                level: status >= 500 ? .error : .debug, "request",
                metadata: [
                    "method": "\(method)", "route": "\(route)", "status": "\(status)",
                    "duration_ms": "\(duration / .milliseconds(1))",
                ]
            )
        }
    }
}
