import SCAContract
import SCARules

/// Runs `sca decide`: reads request lines from `read`, writes one answer line per request
/// line to `write`, in order, with state carried from line to line.
///
/// Reads in blocks and writes in blocks, so memory holds one block and the rules state,
/// never the whole input. A line longer than the limit is answered `line_too_long` and
/// skipped to its end; blank lines are skipped; a final line without a newline counts.
public struct DecideRunner {
    public static let blockBytes = 1 << 20

    private var stream: DecisionStream

    public init(configuration: ServiceConfiguration) {
        stream = DecisionStream(configuration: configuration.rules, lineBytesMax: configuration.lineBytesMax)
    }

    /// - Parameters:
    ///   - read: fills the buffer with up to its count of bytes and returns how many it
    ///     read; 0 at the end of input.
    ///   - write: takes a block of answer bytes.
    /// - Returns: how many lines erred.
    public mutating func run(
        read: (UnsafeMutableRawBufferPointer) throws -> Int, write: ([UInt8]) throws -> Void
    ) throws -> Int {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: DecideRunner.blockBytes, alignment: 1)
        defer { buffer.deallocate() }
        let bytes = UnsafeBufferPointer(buffer.bindMemory(to: UInt8.self))
        var framer = LineFramer(lineBytesMax: stream.lineBytesMax)
        var out: [UInt8] = []
        out.reserveCapacity(DecideRunner.blockBytes + 4096)

        func answer(_ line: LineFramer.Line) {
            switch line {
            case .complete(let text): stream.answer(rawLine: text, into: &out)
            case .overlong: stream.answerOverlongLine(into: &out)
            }
        }

        while true {
            let count = try read(buffer)
            if count == 0 { break }
            framer.feed(UnsafeBufferPointer(rebasing: bytes[0..<count]), answer)
            if out.count >= DecideRunner.blockBytes {
                try write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        framer.finish(answer)
        if !out.isEmpty { try write(out) }
        return stream.erroredLines
    }
}
