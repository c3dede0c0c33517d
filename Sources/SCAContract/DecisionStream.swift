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

    /// Answers one line as read from a file: a trailing CR is dropped and a blank line
    /// (spaces and tabs only) is skipped without an answer. The framing rules of
    /// `sca decide`, in one place.
    public mutating func answer(rawLine: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        guard let line = Self.request(inRawLine: rawLine) else { return }
        answer(line: line, into: &out)
    }

    /// The request in a line as read: without a trailing CR; `nil` for a blank line.
    public static func request(inRawLine rawLine: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        var line = rawLine
        if line.last == UInt8(ascii: "\r") { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return nil }
        return line
    }

    /// The error of a line that was too long to read whole.
    public static func overlongLine(lineBytesMax: Int) -> ContractError {
        ContractError(.lineTooLong, "line is longer than \(lineBytesMax) bytes")
    }

    /// Answers a line that was too long to read whole.
    public mutating func answerOverlongLine(into out: inout [UInt8]) {
        reject(Self.overlongLine(lineBytesMax: lineBytesMax), into: &out)
        out.append(UInt8(ascii: "\n"))
    }

    private mutating func reject(_ error: ContractError, into out: inout [UInt8]) {
        erroredLines += 1
        AnswerEncoder.encode(error, into: &out)
    }

    /// A convenience for tests and small inputs: answers every line of `text`.
    public mutating func answer(text: String) -> [String] {
        var answers: [String] = []
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var out: [UInt8] = []
            if line.count > lineBytesMax {
                answerOverlongLine(into: &out)
            } else {
                Array(line).withUnsafeBufferPointer { answer(rawLine: $0, into: &out) }
            }
            if !out.isEmpty { answers.append(String(decoding: out.dropLast(), as: UTF8.self)) }
        }
        return answers
    }
}
