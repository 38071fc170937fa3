public import Foundation
import NIOCore
import NIOWebSocket
public import OCPP
public import OCPPProxy

/// The result of replaying a trace.
public struct ReplayReport: Sendable, Hashable, Codable {
    public var outcomes: [ReplayCallOutcome]
    public var served: [ReplayServedCall]
    /// Per charger: frames that answered no call of the charger, or were not OCPP-J.
    public var unexpectedFrames: [String: [String]]

    public init(
        outcomes: [ReplayCallOutcome] = [],
        served: [ReplayServedCall] = [],
        unexpectedFrames: [String: [String]] = [:]
    ) {
        self.outcomes = outcomes
        self.served = served
        self.unexpectedFrames = unexpectedFrames
    }

    /// `true` when some call was answered differently, not at all, or could not be sent.
    public var hasDifferences: Bool { outcomes.contains { $0.verdict.isDifference } }

    /// For people: one line per call that differs (with its differences indented below), then a summary.
    public func text() -> String {
        var lines: [String] = []
        for outcome in outcomes where outcome.verdict.isDifference {
            lines.append("\(outcome.charger) \(outcome.action) (id \(outcome.messageID)): \(outcome.verdict.rawValue)")
            for difference in outcome.differences { lines.append("    \(difference)") }
        }
        for call in served where !call.answeredFromTrace {
            lines.append(
                "\(call.charger) received \(call.action): no answer in the trace, sent CALLERROR NotImplemented"
            )
        }
        for (charger, frames) in unexpectedFrames.sorted(by: { $0.key < $1.key }) {
            for frame in frames { lines.append("\(charger) unexpected frame: \(frame)") }
        }
        var counts: [ReplayCallOutcome.Verdict: Int] = [:]
        for outcome in outcomes { counts[outcome.verdict, default: 0] += 1 }
        let summary = [ReplayCallOutcome.Verdict.same, .different, .noResponse, .notSent, .notCompared]
            .compactMap { verdict in
                counts[verdict].map { "\($0) \(verdict.rawValue.replacingOccurrences(of: "_", with: " "))" }
            }
            .joined(separator: ", ")
        lines.append("\(outcomes.count) calls: " + (summary.isEmpty ? "none" : summary))
        return lines.joined(separator: "\n") + "\n"
    }

    /// For machines: the whole report as JSON (keys sorted).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// Plays the charger side of a trace against a running CSMS or LoadGuard, one connection per charger, all
/// chargers at once.
public struct ReplayRunner: Sendable {
    public var endpoint: UpstreamEndpoint
    public var client: WebSocketClient
    /// How long a call waits for its answer.
    public var timeout: Duration
    /// Basic-auth password for every replayed charger, if the server wants one.
    public var password: String?

    public init(
        endpoint: UpstreamEndpoint,
        client: WebSocketClient,
        timeout: Duration = .seconds(30),
        password: String? = nil
    ) {
        self.endpoint = endpoint
        self.client = client
        self.timeout = timeout
        self.password = password
    }

    public func run(_ scripts: [ReplayScript]) async -> ReplayReport {
        let sessions = await withTaskGroup(of: ReplaySession.self) { group in
            for script in scripts {
                group.addTask { await self.replay(script) }
            }
            var sessions: [ReplaySession] = []
            for await session in group { sessions.append(session) }
            return sessions
        }
        var report = ReplayReport()
        for script in scripts {
            guard let session = sessions.first(where: { $0.script.charger == script.charger }) else { continue }
            report.outcomes += session.outcomes
            report.served += session.served
            if !session.unexpectedFrames.isEmpty { report.unexpectedFrames[script.charger] = session.unexpectedFrames }
        }
        return report
    }

    private enum Input: Sendable {
        case frame(WebSocketFrame)
        case timer(String)
        case closed(String)
    }

    /// Replays one charger.
    public func replay(_ script: ReplayScript) async -> ReplaySession {
        var session = ReplaySession(script: script)
        let authorization = password.map { "Basic " + Data("\(script.charger):\($0)".utf8).base64EncodedString() }
        let channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>
        do {
            (channel, _) = try await client.connect(
                base: endpoint,
                chargerID: script.charger,
                subprotocols: [script.version.rawValue],
                authorization: authorization
            )
        } catch {
            session.connectionClosed(reason: error.description)
            return session
        }
        let timeout = self.timeout
        let start = session
        do {
            session = try await channel.executeThenClose { inbound, outbound in
                var session = start
                let (inputs, continuation) = AsyncStream<Input>.makeStream()
                return try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for try await frame in inbound { continuation.yield(.frame(frame)) }
                            continuation.yield(.closed("the server closed the connection"))
                        } catch {
                            continuation.yield(.closed("\(error)"))
                        }
                    }
                    defer {
                        group.cancelAll()
                        continuation.finish()
                    }
                    func perform(_ actions: [ReplaySession.Action]) async throws -> Bool {
                        for action in actions {
                            switch action {
                            case .send(let frame):
                                try await outbound.write(WebSocketClient.textFrame(bytes: frame))
                            case .startTimer(let id):
                                group.addTask {
                                    try await Task.sleep(for: timeout)
                                    continuation.yield(.timer(id))
                                }
                            case .finished:
                                return true
                            }
                        }
                        return false
                    }
                    do {
                        if try await perform(session.start()) { return session }
                        for await input in inputs {
                            switch input {
                            case .frame(let frame):
                                switch frame.opcode {
                                case .text:
                                    if try await perform(session.received(Array(buffer: frame.unmaskedData))) {
                                        return session
                                    }
                                case .ping:
                                    try await outbound.write(WebSocketClient.pong(for: frame))
                                case .connectionClose:
                                    session.connectionClosed(reason: "the server closed the connection")
                                    return session
                                default:
                                    break
                                }
                            case .timer(let id):
                                if try await perform(session.timerFired(messageID: id)) { return session }
                            case .closed(let reason):
                                session.connectionClosed(reason: reason)
                                return session
                            }
                        }
                    } catch {
                        // A write failed: the connection is gone; the calls answered so far stay in the report.
                        session.connectionClosed(reason: "\(error)")
                        return session
                    }
                    session.connectionClosed(reason: "cancelled")
                    return session
                }
            }
        } catch {
            var failed = start
            failed.connectionClosed(reason: "\(error)")
            return failed
        }
        return session
    }
}
