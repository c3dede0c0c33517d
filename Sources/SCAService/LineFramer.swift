/// Splits input read in blocks into lines, the framing of `sca decide` in one place: a line
/// ends at `\n`; a line longer than the limit is reported once as overlong and skipped to
/// its end without being kept; a final line without a newline counts. Memory holds at most
/// one line of up to the limit, never the input.
public struct LineFramer {
    public enum Line {
        /// A whole line without its newline, valid only during the call that reports it.
        case complete(UnsafeBufferPointer<UInt8>)
        case overlong
    }

    public let lineBytesMax: Int
    private var pending: [UInt8] = []
    private var skippingOverlong = false

    public init(lineBytesMax: Int) { self.lineBytesMax = lineBytesMax }

    /// Reports every line that ends in `block`; keeps an unfinished one for the next block.
    public mutating func feed(_ block: UnsafeBufferPointer<UInt8>, _ report: (Line) -> Void) {
        var start = 0
        let count = block.count
        while start < count {
            guard let newline = block[start..<count].firstIndex(of: UInt8(ascii: "\n")) else {
                if !skippingOverlong {
                    pending.append(contentsOf: block[start..<count])
                    if pending.count > lineBytesMax {
                        report(.overlong)
                        pending.removeAll(keepingCapacity: true)
                        skippingOverlong = true
                    }
                }
                return
            }
            if skippingOverlong {
                skippingOverlong = false
            } else if pending.isEmpty {
                // Read in place: no copy of the line.
                report(newline - start > lineBytesMax ? .overlong : .complete(UnsafeBufferPointer(rebasing: block[start..<newline])))
            } else {
                pending.append(contentsOf: block[start..<newline])
                if pending.count > lineBytesMax {
                    report(.overlong)
                } else {
                    pending.withUnsafeBufferPointer { report(.complete($0)) }
                }
                pending.removeAll(keepingCapacity: true)
            }
            start = newline + 1
        }
    }

    /// At the end of input: reports a last line that had no newline.
    public mutating func finish(_ report: (Line) -> Void) {
        if !skippingOverlong && !pending.isEmpty { pending.withUnsafeBufferPointer { report(.complete($0)) } }
        pending.removeAll()
        skippingOverlong = false
    }
}
