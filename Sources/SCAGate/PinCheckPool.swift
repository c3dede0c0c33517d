import NIOConcurrencyHelpers
import NIOPosix
import SCAPrimitives

/// The threads PIN checks run on. A memory-hard hash takes a core for a good fraction of a
/// second; on the request threads a burst of them would stall every other request. Here
/// they queue on their own threads, and when the queue is full a check is refused at once.
public final class PinCheckPool: Sendable {
    private let pool: NIOThreadPool
    private let queued = NIOLockedValueBox(0)
    public let queueMax: Int

    public init(threads: Int, queueMax: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        self.queueMax = queueMax
    }

    /// Runs `work` (a hash, a check) on the pool; nil when the queue is full.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T? {
        let admitted = queued.withLockedValue { count in
            guard count < queueMax else { return false }
            count += 1
            return true
        }
        guard admitted else { return nil }
        defer { queued.withLockedValue { $0 -= 1 } }
        return try? await pool.runIfActive(work)
    }

    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}

/// The development SMS sender: the last messages, in memory only (never in the database
/// or the logs), for tests and the demo to read.
public final class DevMessages: Sendable {
    public struct Message: JSONAnswer {
        public let to: String
        public let channel: String
        public let text: String
        public let at: String

        public func write(to out: inout JSONBuilder) {
            out.string("to", to)
            out.string("channel", channel)
            out.string("text", text)
            out.string("at", at)
        }
    }
    private let messages = NIOLockedValueBox<[Message]>([])
    public static let kept = 100

    public init() {}

    func send(_ message: Message) {
        messages.withLockedValue { list in
            list.append(message)
            if list.count > Self.kept { list.removeFirst(list.count - Self.kept) }
        }
    }

    /// The messages to one number: never every customer's at once.
    public func messages(to: String) -> [Message] {
        messages.withLockedValue { list in list.filter { $0.to == to } }
    }
}
