import SCARules

/// The replay loop of `sca decide`: one request line in, one answer line out, state carried
/// in memory from line to line. Pure: the caller reads and writes the bytes.
public struct DecisionStream {
    public let engine: RulesEngine
    public let decoder: RequestDecoder
    public private(set) var state = InMemoryState()
    public private(set) var erroredLines = 0
    /// Longest line accepted, in bytes.
    public let lineBytesMax: Int

    public static let defaultLineBytesMax = 64 * 1024

    public init(configuration: RulesConfiguration, lineBytesMax: Int = DecisionStream.defaultLineBytesMax) {
        self.engine = RulesEngine(configuration: configuration)
        // In replay an absent `sca` means the SCA passed (DESIGN.md, the decision contract).
        self.decoder = RequestDecoder(referenceRates: configuration.referenceRates, absentSCA: .passed)
        self.lineBytesMax = lineBytesMax
    }

    /// Answers one line (without its newline) and appends the answer and a newline to `out`.
    public mutating func answer(line: some Collection<UInt8>, into out: inout [UInt8]) {
        switch decoder.decode(line: line) {
        case .success(let request):
            AnswerEncoder.encode(engine.decide(request, state: &state), into: &out)
        case .failure(let error):
            reject(error, into: &out)
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// Answers a line that was too long to read whole.
    public mutating func answerOverlongLine(into out: inout [UInt8]) {
        reject(ContractError(.lineTooLong, "line is longer than \(lineBytesMax) bytes"), into: &out)
        out.append(UInt8(ascii: "\n"))
    }

    private mutating func reject(_ error: ContractError, into out: inout [UInt8]) {
        erroredLines += 1
        AnswerEncoder.encode(error, into: &out)
    }

    /// A convenience for tests and small inputs: answers every line of `text`.
    public mutating func answer(text: String) -> [String] {
        var answers: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            var out: [UInt8] = []
            if trimmed.utf8.count > lineBytesMax {
                answerOverlongLine(into: &out)
            } else {
                answer(line: Array(trimmed.utf8), into: &out)
            }
            answers.append(String(decoding: out.dropLast(), as: UTF8.self))
        }
        return answers
    }
}
