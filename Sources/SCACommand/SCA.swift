import ArgumentParser
import SCAService

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct SCA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sca",
        abstract: "Strong Customer Authentication engine (PSD2 / UK SCA).",
        version: EngineVersion.current,
        subcommands: [Decide.self, Serve.self, Migrate.self, Audit.self, Store.self, Clients.self, Simulate.self]
    )
}

struct Decide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decide SCA for JSON-lines requests: one answer line per request line, in order.",
        discussion: """
            Reads the decision contract (see docs/DECISION-CONTRACT.md) from INPUT or standard input and writes one \
            JSON line per request line to standard output, carrying state from line to line. A line \
            that breaks the contract gets an error line and the stream goes on. With --db the state \
            is the durable store `sca serve` uses (decisions and audit events are recorded there); \
            without it the state lives in memory for this run only.
            Exit status: 0 all lines decided; 1 some line erred; 2 bad configuration or unreadable input.
            """
    )

    @Option(name: .long, help: "A JSON or YAML configuration file; SCA_* environment variables override it.")
    var config: String?

    @Option(name: .long, help: "Decide against this store: postgres://… or an SQLite file path.")
    var db: String?

    @Argument(help: "A file of JSON lines; standard input when absent or '-'.")
    var input: String?

    func run() async throws {
        let configuration: ServiceConfiguration
        do {
            configuration = try await ConfigurationLoader.load(file: config)
        } catch {
            printError("sca decide: \(error)")
            throw ExitCode(2)
        }
        let descriptor: Int32
        if let input, input != "-" {
            descriptor = open(input, O_RDONLY)
            guard descriptor >= 0 else {
                printError("sca decide: cannot open \(input): \(String(cString: strerror(errno)))")
                throw ExitCode(2)
            }
        } else {
            descriptor = STDIN_FILENO
        }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }

        let errored: Int
        if let db {
            errored = try await DurableDecide.run(
                configuration: configuration, db: db, read: { try readBlock(descriptor, into: $0) }, write: writeOutput
            )
        } else {
            var runner = DecideRunner(configuration: configuration)
            errored = try runner.run(read: { try readBlock(descriptor, into: $0) }, write: writeOutput)
        }
        if errored > 0 { throw ExitCode(1) }
    }
}

/// Reads up to the buffer's size from `descriptor`; 0 at the end of input.
func readBlock(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    while true {
        let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
        if count >= 0 { return count }
        if errno != EINTR { throw ExitCode(2) }
    }
}

/// Writes all of `bytes` to standard output.
func writeOutput(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let written = Glibc.write(STDOUT_FILENO, raw.baseAddress! + offset, raw.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw ExitCode(2)
            }
            offset += written
        }
    }
}

func printError(_ message: String) {
    var line = Array(message.utf8)
    line.append(UInt8(ascii: "\n"))
    _ = line.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
