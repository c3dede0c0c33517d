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
        var pending: [UInt8] = []
        var skippingOverlong = false
        var out: [UInt8] = []
        out.reserveCapacity(DecideRunner.blockBytes + 4096)
        let lineBytesMax = stream.lineBytesMax

        /// Answers one complete line, read in place: no copy of the line.
        func finish(line: UnsafeBufferPointer<UInt8>) { stream.answer(rawLine: line, into: &out) }

        while true {
            let count = try read(buffer)
            if count == 0 { break }
            let block = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            var start = 0
            while start < count {
                guard let newline = block[start..<count].firstIndex(of: UInt8(ascii: "\n")) else {
                    if !skippingOverlong {
                        pending.append(contentsOf: block[start..<count])
                        if pending.count > lineBytesMax {
                            stream.answerOverlongLine(into: &out)
                            pending.removeAll(keepingCapacity: true)
                            skippingOverlong = true
                        }
                    }
                    break
                }
                if skippingOverlong {
                    skippingOverlong = false
                } else if pending.isEmpty {
                    if newline - start > lineBytesMax {
                        stream.answerOverlongLine(into: &out)
                    } else {
                        finish(line: UnsafeBufferPointer(rebasing: bytes[start..<newline]))
                    }
                } else {
                    pending.append(contentsOf: block[start..<newline])
                    if pending.count > lineBytesMax {
                        stream.answerOverlongLine(into: &out)
                    } else {
                        pending.withUnsafeBufferPointer { finish(line: $0) }
                    }
                    pending.removeAll(keepingCapacity: true)
                }
                start = newline + 1
            }
            if out.count >= DecideRunner.blockBytes {
                try write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        if !skippingOverlong && !pending.isEmpty { pending.withUnsafeBufferPointer { finish(line: $0) } }
        if !out.isEmpty { try write(out) }
        return stream.erroredLines
    }
}
