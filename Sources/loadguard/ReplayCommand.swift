import ArgumentParser
import Foundation
import LoadGuard
import OCPPProxy

/// `loadguard replay TRACE --url URL`: plays a trace's charger side against a running LoadGuard or CSMS and reports
/// where the responses differ from the trace.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay the charger side of an OCPP trace and report responses that differ from it.",
        discussion: """
            Connects as each charger of the trace with the trace's OCPP version, sends the charger's frames in \
            order (a call waits for its answer), answers calls it receives with the charger's recorded answer \
            for the same action (else CALLERROR NotImplemented), and compares every response with the recorded \
            one. currentTime, timestamps and transactionId values are compared by type only. Exit status: 0 \
            when nothing differs, 1 otherwise. See docs/charger-simulator.md.
            """
    )

    @Argument(help: "A LoadGuard JSON-lines trace (or a frame log as in Fixtures/ocpp-traces/actec).")
    var trace: String

    @Option(name: .long, help: "The OCPP URL without the charger id, e.g. ws://127.0.0.1:8180/ocpp.")
    var url: String

    @Option(name: .long, help: "Replay only this charger's frames.")
    var charger: String?

    @Option(name: .long, help: "Seconds a call waits for its answer.")
    var timeout: Double = 30

    @Option(name: .long, help: "Basic-auth password of the replayed chargers.")
    var password: String?

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        let text: String
        do {
            text = try String(contentsOfFile: trace, encoding: .utf8)
        } catch {
            throw ValidationError(
                ReplayError.cannotReadFile(path: trace, reason: error.localizedDescription).description
            )
        }
        let scripts: [ReplayScript]
        do {
            scripts = ReplayScript.scripts(from: try ReplayTrace.records(inTrace: text), charger: charger)
        } catch {
            throw ValidationError("\(trace): \(error)")
        }
        guard !scripts.isEmpty else { throw ValidationError(ReplayError.noCharger(charger).description) }
        guard let endpoint = UpstreamEndpoint(url: url) else {
            throw ValidationError(ReplayError.invalidURL(url).description)
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive, found \(timeout)") }
        let runner = ReplayRunner(
            endpoint: endpoint,
            client: try WebSocketClient(),
            timeout: .milliseconds(Int64(timeout * 1000)),
            password: password
        )
        let report = await runner.run(scripts)
        print(json ? try report.json() : report.text(), terminator: json ? "\n" : "")
        if report.hasDifferences { throw ExitCode(1) }
    }
}
