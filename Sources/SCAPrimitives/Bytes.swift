import Crypto
import Foundation

let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// Lowercase hexadecimal of the SHA-256 of `text`'s UTF-8 bytes (request digests, stored
/// token and session hashes), made without copying the text or the digest.
public func sha256Hex(_ text: String) -> String {
    var text = text
    let digest = text.withUTF8 { bytes in
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes))
        return hasher.finalize()
    }
    return digest.withUnsafeBytes { hexString($0) }
}

/// Lowercase hexadecimal of `bytes`, appended.
public func appendHex(_ bytes: [UInt8], into out: inout [UInt8]) {
    for byte in bytes {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0x0F)])
    }
}

/// Lowercase hexadecimal of bytes.
public func hex(_ bytes: [UInt8]) -> String { hexString(bytes) }

private func hexString(_ bytes: some Collection<UInt8>) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { out in
        var index = 0
        for byte in bytes {
            out[index] = hexDigits[Int(byte >> 4)]
            out[index + 1] = hexDigits[Int(byte & 0x0F)]
            index += 2
        }
        return index
    }
}

/// Bytes from lowercase hexadecimal (what `hex` writes); nil for anything else.
public func bytes(fromHex text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 48...57: return digit - 48
        case 97...102: return digit - 87
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
        out.append(high << 4 | low)
    }
    return out
}

/// Equality of two byte strings in time that depends on their lengths only (lengths are
/// not secret): hashes, codes, challenges and bindings are compared with it.
public func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}

/// Base64url without padding (RFC 4648 §5), as WebAuthn encodes challenges and ids.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        return String(unsafeUninitializedCapacity: (input.count * 4 + 2) / 3) { out in
            var written = 0
            func put(_ value: UInt32, _ shift: UInt32) {
                out[written] = alphabet[Int(value >> shift & 63)]
                written += 1
            }
            var index = 0
            while index + 3 <= input.count {
                let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                put(value, 18)
                put(value, 12)
                put(value, 6)
                put(value, 0)
                index += 3
            }
            // One or two bytes left: two or three characters, no padding.
            let left = input.count - index
            if left > 0 {
                let value = UInt32(input[index]) << 16 | (left == 2 ? UInt32(input[index + 1]) << 8 : 0)
                put(value, 18)
                put(value, 12)
                if left == 2 { put(value, 6) }
            }
            return written
        }
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for symbol in text.utf8 {
            let value: UInt8
            switch symbol {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = symbol - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = symbol - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = symbol - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil  // padding, the standard alphabet's + and /, anything else
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // A lone sixth character cannot end an encoding, and the left-over bits must be zero.
        guard bits < 6, accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
