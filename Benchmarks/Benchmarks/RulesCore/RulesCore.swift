import Benchmark
import Foundation
import SCAContract
import SCARules
import SCAService

/// The request mix: `Benchmarks/generate_requests.py`'s output, read from the file named by
/// `SCA_BENCH_INPUT` (run.sh writes it), first 200,000 lines.
let mixLines: [[UInt8]] = {
    let path = ProcessInfo.processInfo.environment["SCA_BENCH_INPUT"] ?? "/tmp/sca-bench-200k.jsonl"
    guard let data = FileManager.default.contents(atPath: path) else {
        fatalError("no request mix at \(path): run Benchmarks/run.sh, or generate_requests.py 200000 > \(path)")
    }
    return data.split(separator: UInt8(ascii: "\n")).prefix(200_000).map(Array.init)
}()

let configuration: RulesConfiguration = {
    var configuration = RulesConfiguration()
    configuration.monitoredFraudRate = [.card: ExactDecimal("0.0005")!, .creditTransfer: ExactDecimal("0.00008")!]
    return configuration
}()

/// The mix decoded once, so the core benchmark measures only the rules and the state.
let mixRequests: [DecisionRequest] = {
    let decoder = RequestDecoder(referenceRates: configuration.referenceRates, absentSCA: .passed)
    return mixLines.compactMap { try? decoder.decode(line: $0).get() }
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        scalingFactor: .kilo,
        maxDuration: .seconds(10),
        maxIterations: 1_000
    )

    // One iteration = 1,000 decisions of the mix against an in-memory state that
    // persists across iterations (counters fill and reset as in real traffic).
    Benchmark("rules core: decide (1,000 requests of the mix)") { benchmark in
        let engine = RulesEngine(configuration: configuration)
        var state = InMemoryState()
        var cursor = 0
        blackHole(mixRequests.count)  // decode the mix before the clock starts
        benchmark.startMeasurement()
        // Read requests in place: an array subscript would copy each one into the call.
        mixRequests.withUnsafeBufferPointer { requests in
            for _ in benchmark.scaledIterations {
                for _ in 0..<1_000 {
                    blackHole(engine.decide(requests[cursor], state: &state))
                    cursor += 1
                    if cursor == requests.count { cursor = 0 }
                }
            }
        }
    }

    // One iteration = 100 lines through the stream: parse, validate, decide, encode.
    Benchmark("sca decide stream in process (100 lines)") { benchmark in
        var stream = DecisionStream(configuration: configuration)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        var cursor = 0
        blackHole(mixLines.count)  // read the file before the clock starts
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<100 {
                stream.answer(line: mixLines[cursor], into: &out)
                cursor += 1
                if cursor == mixLines.count { cursor = 0 }
            }
            out.removeAll(keepingCapacity: true)
        }
    }
}
