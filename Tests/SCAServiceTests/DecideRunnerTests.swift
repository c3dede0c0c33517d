import Foundation
import Testing

@testable import SCAService

/// The block reader: lines split across blocks, CRLF, blank lines, a last line without a
/// newline, and overlong lines are all answered exactly once.
struct DecideRunnerTests {
    static let login = #"{"id":"L","at":"2026-11-21T08:00:00Z","action":"login","payer":{"id":"anna","psp_country":"PL"}}"#

    /// Feeds `input` to a runner `blockSize` bytes at a time and returns its answer lines.
    func run(_ input: String, blockSize: Int, lineBytesMax: Int = 64 * 1024) throws -> (lines: [String], errored: Int) {
        var configuration = ServiceConfiguration()
        configuration.lineBytesMax = lineBytesMax
        var runner = DecideRunner(configuration: configuration)
        let bytes = Array(input.utf8)
        var offset = 0
        var output: [UInt8] = []
        let errored = try runner.run(
            read: { buffer in
                let count = min(blockSize, buffer.count, bytes.count - offset)
                for index in 0..<count { buffer[index] = bytes[offset + index] }
                offset += count
                return count
            },
            write: { output.append(contentsOf: $0) }
        )
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.isEmpty || text.hasSuffix("\n"))
        return (text.split(separator: "\n").map(String.init), errored)
    }

    @Test(arguments: [1, 7, 64, 1 << 20])
    func answersEveryLineWhateverTheBlockSize(blockSize: Int) throws {
        let input = Self.login + "\r\n\n   \n" + "garbage\n" + Self.login.replacingOccurrences(of: "08:00", with: "08:01")
        let (lines, errored) = try run(input, blockSize: blockSize)
        #expect(lines.count == 3)
        #expect(lines[0].contains(#""reason":"no_session""#))
        #expect(lines[1].contains(#""code":"invalid_json""#))
        #expect(lines[2].contains(#""reason":"session_active""#))
        #expect(errored == 1)
    }

    @Test(arguments: [5, 100, 5000])
    func overlongLinesAreAnsweredOnceAndSkipped(blockSize: Int) throws {
        let long = "{\"id\":\"" + String(repeating: "x", count: 3000) + "\"}"
        let (lines, errored) = try run(long + "\n" + Self.login + "\n" + long, blockSize: blockSize, lineBytesMax: 1024)
        #expect(lines.count == 3)
        #expect(lines[0].contains(#""code":"line_too_long""#))
        #expect(lines[1].contains(#""reason":"no_session""#))
        #expect(lines[2].contains(#""code":"line_too_long""#))
        #expect(errored == 2)
    }

    @Test func emptyInputGivesNoAnswers() throws {
        #expect(try run("", blockSize: 10).lines.isEmpty)
    }
}
