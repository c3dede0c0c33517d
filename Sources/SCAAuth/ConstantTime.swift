/// Byte comparison whose time depends only on the lengths, never on where the bytes differ.
public func constantTimeEqual(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
    var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
    var right = rhs.makeIterator()
    for left in lhs {
        // When the lengths differ the left side is compared against zeros: same work.
        difference |= left ^ (right.next() ?? 0)
    }
    return difference == 0
}
