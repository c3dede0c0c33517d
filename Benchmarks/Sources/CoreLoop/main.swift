// A plain timing loop over the rules core, for profiling with `perf` (the ordo-one
// benchmark in Benchmarks/RulesCore is the measurement of record).
// Usage: CoreLoop FILE [DECISIONS]
import Foundation
import SCAContract
import SCARules

let arguments = CommandLine.arguments
guard arguments.count >= 2, let data = FileManager.default.contents(atPath: arguments[1]) else {
    print("usage: CoreLoop REQUESTS.jsonl [DECISIONS]")
    exit(2)
}
let total = arguments.count >= 3 ? Int(arguments[2]) ?? 5_000_000 : 5_000_000
var configuration = RulesConfiguration()
configuration.monitoredFraudRate = [.card: ExactDecimal("0.0005")!, .creditTransfer: ExactDecimal("0.00008")!]
let decoder = RequestDecoder(referenceRates: configuration.referenceRates, absentSCA: .passed)
let requests = data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(line: Array($0)).get() }
let engine = RulesEngine(configuration: configuration)

/// The loop, in a function: top-level variables are globals, whose every access pays a
/// dynamic exclusivity check.
func run() -> (Duration, Int) {
    var state = InMemoryState()
    var exempt = 0
    let clock = ContinuousClock()
    let start = clock.now
    // Read requests in place: an array subscript would copy each one into the call.
    requests.withUnsafeBufferPointer { requests in
        for index in 0..<total {
            let decision = engine.decide(requests[index % requests.count], state: &state)
            if decision.outcome == .exempt { exempt += 1 }
        }
    }
    return (clock.now - start, exempt)
}
let (elapsed, exempt) = run()
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("\(total) decisions in \(String(format: "%.3f", seconds)) s: \(Int(Double(total) / seconds)) decisions/s (\(exempt) exempt)")
