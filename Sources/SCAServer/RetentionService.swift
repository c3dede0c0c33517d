import Logging
import SCAHTTP
import SCARules
import SCAStore
import ServiceLifecycle

/// Sweeps the store (`DecisionStore.sweep`) at start and then every `interval` while the
/// server runs. A failed sweep is logged and tried again at the next interval; graceful
/// shutdown ends the wait, never a sweep half-way (each of its transactions commits whole).
public struct RetentionService: Service {
    let store: DecisionStore
    let policy: RetentionPolicy
    let interval: Duration
    let metrics: ServerMetrics
    let logger: Logger

    public init(store: DecisionStore, policy: RetentionPolicy, interval: Duration, metrics: ServerMetrics, logger: Logger) {
        self.store = store
        self.policy = policy
        self.interval = interval
        self.metrics = metrics
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweep()
                try? await Task.sleep(for: interval)
            }
        }
    }

    private func sweep() async {
        do {
            let swept = try await store.sweep(policy, now: store.clock.now())
            metrics.swept(swept)
            if swept.total > 0 { logger.info("retention sweep", metadata: ["deleted": "\(swept.json)"]) }
        } catch {
            metrics.sweepFailed()
            logger.error("retention sweep failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}
