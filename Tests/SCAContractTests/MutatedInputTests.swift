import SCARules
import SCATestSupport
import Testing

@testable import SCAContract

/// Bad input never crashes the stream: thousands of corrupted lines, each answered by
/// exactly one line that is either a decision or an error with a stable code.
struct MutatedInputTests {

    static let seeds: [String] = [
        #"{"id":"p","at":"2026-11-21T08:05:00Z","action":"payment","payer":{"id":"anna","psp_country":"PL","instrument":"card-1"},"payee":{"id":"bakery","psp_country":"PL"},"amount":{"value":"15.00","currency":"PLN"},"payment":{"method":"card","channel":"remote","initiator":"merchant","mandate_ref":"x"},"risk":{"score":0.02,"signals":["malware"]},"requested_exemption":"low_value","sca":"failed"}"#,
        #"{"id":"a","at":"2026-11-21T08:05:00.123+01:00","action":"ais_access","payer":{"id":"anna","psp_country":"GB"},"consent":{"id":"c"},"customer_present":false}"#,
        #"{"id":"l","at":"2026-11-21T08:05:00Z","action":"login","payer":{"id":"\u00e9\ud83d\ude00","psp_country":"DE"}}"#,
    ]

    static let validCodes = Set(ContractError.Code.allCases.map(\.rawValue))

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func corruptedLinesAreAnsweredOneForOne(seed: UInt64) {
        var random = SplitMix64(state: seed)
        var stream = DecisionStream(configuration: RulesConfiguration())
        let interesting: [UInt8] = Array(#"{}[]",:.-0123456789eE\u"#.utf8) + [0x00, 0x0A, 0x1F, 0x7F, 0x80, 0xC3, 0xFF]
        for _ in 0..<1_500 {
            var line = Array(Self.seeds[random.below(Self.seeds.count)].utf8)
            for _ in 0..<(1 + random.below(4)) {
                switch random.below(4) {
                case 0: line[random.below(line.count)] = interesting[random.below(interesting.count)]
                case 1: line.removeSubrange(random.below(line.count)...)
                case 2: line.insert(interesting[random.below(interesting.count)], at: random.below(line.count + 1))
                default:
                    let other = Array(Self.seeds[random.below(Self.seeds.count)].utf8)
                    line = Array(line.prefix(random.below(line.count + 1))) + other.suffix(random.below(other.count + 1))
                }
                if line.isEmpty { line = [UInt8(ascii: "{")] }
            }
            line.removeAll { $0 == 0x0A }
            var out: [UInt8] = []
            stream.answer(line: line, into: &out)
            #expect(out.last == 0x0A)
            #expect(out.dropLast().allSatisfy { $0 != 0x0A }, "exactly one answer line")
            guard case .object(let answer)? = try? JSONParser.parse(out.dropLast()) else {
                Issue.record("answer is not a JSON object: \(String(decoding: out, as: UTF8.self))")
                continue
            }
            if case .object(let error)? = answer["error"] {
                guard case .string(let code)? = error["code"] else {
                    Issue.record("error without a code")
                    continue
                }
                #expect(Self.validCodes.contains(code), "unknown error code \(code)")
            } else {
                guard case .string(let outcome)? = answer["outcome"] else {
                    Issue.record("answer without an outcome")
                    continue
                }
                #expect(Outcome(rawValue: outcome) != nil)
            }
        }
    }
}
