import Foundation
public import OCPP

/// What happened to one call of a replayed charger.
public struct ReplayCallOutcome: Sendable, Hashable, Codable {
    public enum Verdict: String, Sendable, Hashable, Codable {
        /// The response agrees with the trace.
        case same
        /// The response differs (see ``ReplayCallOutcome/differences``).
        case different
        /// No response within the timeout.
        case noResponse = "no_response"
        /// The connection closed before the call could be sent or answered.
        case notSent = "not_sent"
        /// The trace recorded no response, so there is nothing to compare with.
        case notCompared = "not_compared"

        /// `true` for the verdicts that make `loadguard replay` exit with status 1.
        public var isDifference: Bool { self == .different || self == .noResponse || self == .notSent }
    }

    public var charger: String
    public var messageID: String
    public var action: String
    public var verdict: Verdict
    public var differences: [FieldDifference]
    /// The recorded response.
    public var expected: String?
    /// The response received.
    public var got: String?

    public init(
        charger: String,
        messageID: String,
        action: String,
        verdict: Verdict,
        differences: [FieldDifference] = [],
        expected: String? = nil,
        got: String? = nil
    ) {
        self.charger = charger
        self.messageID = messageID
        self.action = action
        self.verdict = verdict
        self.differences = differences
        self.expected = expected
        self.got = got
    }
}

/// A call the replayed charger received and how it answered.
public struct ReplayServedCall: Sendable, Hashable, Codable {
    public var charger: String
    public var action: String
    /// `true` when the trace had an answer for the action, `false` when a CALLERROR NotImplemented was sent.
    public var answeredFromTrace: Bool

    public init(charger: String, action: String, answeredFromTrace: Bool) {
        self.charger = charger
        self.action = action
        self.answeredFromTrace = answeredFromTrace
    }
}

/// One replayed charger as a sans-IO state machine: it says which frame to send and which timer to start, and is
/// told what arrived, which timer fired and when the connection closed.
///
/// States: **sending** (the next step goes out; SENDs and frames that are not OCPP-J do not wait) → **waiting**
/// for the answer to a CALL (its timer runs) → sending … → **finished** (all steps done, or the connection
/// closed: the remaining calls are `not_sent`).
///
/// A 1.6 `transactionId` that the server assigned differently from the trace is carried over: later frames of the
/// charger that name the recorded id are sent with the new one.
public struct ReplaySession: Sendable {
    public enum Action: Sendable, Hashable {
        case send([UInt8])
        /// Start the answer timer for this message id.
        case startTimer(messageID: String)
        /// Every step is done: close the connection.
        case finished
    }

    public let script: ReplayScript
    public private(set) var outcomes: [ReplayCallOutcome] = []
    public private(set) var served: [ReplayServedCall] = []
    /// Frames that answered nothing the charger had asked, or were not OCPP-J.
    public private(set) var unexpectedFrames: [String] = []
    private var next = 0
    private var waiting: ReplayScript.Step?
    private var answerUses: [String: Int] = [:]
    /// Recorded transaction id → the one the server assigned.
    private var transactionIDs: [String: String] = [:]
    public private(set) var isFinished = false

    public init(script: ReplayScript) {
        self.script = script
    }

    /// Sends the first steps.
    public mutating func start() -> [Action] {
        advance()
    }

    /// A text frame arrived from the server.
    public mutating func received(_ frame: [UInt8]) -> [Action] {
        guard !isFinished else { return [] }
        guard let envelope = try? Envelope(parsing: frame) else {
            unexpectedFrames.append(String(decoding: frame, as: UTF8.self))
            return []
        }
        switch envelope.messageType {
        case .call:
            let action = envelope.action ?? ""
            if let recorded = script.answers[action], !recorded.isEmpty {
                let use = answerUses[action, default: 0]
                answerUses[action] = use + 1
                served.append(ReplayServedCall(charger: script.charger, action: action, answeredFromTrace: true))
                return [.send(recorded[min(use, recorded.count - 1)].frame(id: envelope.messageID))]
            }
            served.append(ReplayServedCall(charger: script.charger, action: action, answeredFromTrace: false))
            return [
                .send(
                    Frame.callError(
                        id: envelope.messageID,
                        code: .notImplemented,
                        description: "the trace holds no answer of the charger to \(action)"
                    )
                )
            ]
        case .callResult, .callError, .callResultError:
            guard let step = waiting, step.messageID == envelope.messageID else {
                unexpectedFrames.append(String(decoding: frame, as: UTF8.self))
                return []
            }
            waiting = nil
            record(step, got: frame)
            return advance()
        case .send:
            return []
        }
    }

    /// The answer timer of `messageID` fired.
    public mutating func timerFired(messageID: String) -> [Action] {
        guard let step = waiting, step.messageID == messageID else { return [] }
        waiting = nil
        outcomes.append(
            ReplayCallOutcome(
                charger: script.charger,
                messageID: messageID,
                action: step.action ?? "",
                verdict: .noResponse,
                expected: step.expected.map { String(decoding: $0, as: UTF8.self) }
            )
        )
        return advance()
    }

    /// The connection closed (or could not be opened): every call not answered yet is `not_sent`.
    public mutating func connectionClosed(reason: String) {
        guard !isFinished else { return }
        var remaining = script.steps[next...].filter(\.waitsForAnswer)
        if let waiting { remaining.insert(waiting, at: 0) }
        for step in remaining {
            outcomes.append(
                ReplayCallOutcome(
                    charger: script.charger,
                    messageID: step.messageID ?? "",
                    action: step.action ?? "",
                    verdict: .notSent,
                    differences: [FieldDifference(path: "connection", expected: "open", got: reason)],
                    expected: step.expected.map { String(decoding: $0, as: UTF8.self) }
                )
            )
        }
        waiting = nil
        next = script.steps.count
        isFinished = true
    }

    private mutating func advance() -> [Action] {
        var actions: [Action] = []
        while next < script.steps.count {
            let step = script.steps[next]
            next += 1
            actions.append(.send(rewritten(step.frame)))
            if step.waitsForAnswer, let id = step.messageID {
                waiting = step
                actions.append(.startTimer(messageID: id))
                return actions
            }
        }
        isFinished = true
        actions.append(.finished)
        return actions
    }

    private mutating func record(_ step: ReplayScript.Step, got frame: [UInt8]) {
        let action = step.action ?? ""
        let gotText = String(decoding: frame, as: UTF8.self)
        guard let expected = step.expected else {
            outcomes.append(
                ReplayCallOutcome(
                    charger: script.charger,
                    messageID: step.messageID ?? "",
                    action: action,
                    verdict: .notCompared,
                    got: gotText
                )
            )
            return
        }
        if action == "StartTransaction", let recorded = Self.transactionID(in: expected),
            let assigned = Self.transactionID(in: frame), recorded != assigned
        {
            transactionIDs[recorded] = assigned
        }
        let differences = ReplayComparison.differences(expected: expected, got: frame)
        outcomes.append(
            ReplayCallOutcome(
                charger: script.charger,
                messageID: step.messageID ?? "",
                action: action,
                verdict: differences.isEmpty ? .same : .different,
                differences: differences,
                expected: String(decoding: expected, as: UTF8.self),
                got: gotText
            )
        )
    }

    /// The numeric `transactionId` of a StartTransaction answer.
    static func transactionID(in frame: [UInt8]) -> String? {
        guard let envelope = try? Envelope(parsing: frame), envelope.messageType == .callResult,
            case .object(let members)? = try? ReplayJSON(parsing: envelope.payload(of: frame)),
            case .number(let id)? = members["transactionId"]
        else { return nil }
        return ReplayJSON.number(id).text
    }

    /// `frame` with `"transactionId":<recorded>` replaced by the assigned id wherever it appears.
    private func rewritten(_ frame: [UInt8]) -> [UInt8] {
        guard !transactionIDs.isEmpty else { return frame }
        var text = String(decoding: frame, as: UTF8.self)
        for (recorded, assigned) in transactionIDs {
            for separator in [":", ": "] {
                for end in [",", "}"] {
                    text = text.replacingOccurrences(
                        of: "\"transactionId\"\(separator)\(recorded)\(end)",
                        with: "\"transactionId\"\(separator)\(assigned)\(end)"
                    )
                }
            }
        }
        return Array(text.utf8)
    }
}
