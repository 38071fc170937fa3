public import Foundation
public import OCPP

/// What `loadguard replay` plays for one charger: the charger's frames in trace order, the response the trace
/// recorded for each of its calls, and the answers the charger gave to calls it received.
public struct ReplayScript: Sendable, Hashable {
    /// One frame the charger sends.
    public struct Step: Sendable, Hashable {
        /// The frame as recorded (redacted values stay redacted).
        public var frame: [UInt8]
        /// `nil` for a frame that is not OCPP-J (it is sent all the same).
        public var messageType: MessageType?
        public var messageID: String?
        public var action: String?
        /// The response the trace recorded for this call; `nil` when it recorded none (or the step is not a call).
        public var expected: [UInt8]?

        /// `true` for a CALL: the replay waits for its answer before the next step.
        public var waitsForAnswer: Bool { messageType == .call }
    }

    /// An answer the charger gave to a call it received, by the call's action.
    public enum RecordedAnswer: Sendable, Hashable {
        case result(payload: [UInt8])
        case error(code: String, description: String, details: [UInt8])

        /// The answer with another message id.
        public func frame(id: String) -> [UInt8] {
            switch self {
            case .result(let payload): Frame.callResult(id: id, payload: payload)
            case .error(let code, let description, let details):
                Frame.callError(
                    id: id,
                    code: CallErrorCode(rawValue: code),
                    description: description,
                    details: details.isEmpty ? Frame.emptyObject : details
                )
            }
        }
    }

    public var charger: String
    public var version: OCPPVersion
    public var steps: [Step]
    /// Per action, the answers in trace order; the replay uses them in turn and repeats the last one.
    public var answers: [String: [RecordedAnswer]]

    public init(charger: String, version: OCPPVersion, steps: [Step], answers: [String: [RecordedAnswer]]) {
        self.charger = charger
        self.version = version
        self.steps = steps
        self.answers = answers
    }

    /// The scripts of every charger in `records`, in order of first appearance.
    ///
    /// The charger's side is every record with direction `charger_to_csms` and origin `charger`: its CALLs, SENDs
    /// and frames that are not OCPP-J become steps; its CALLRESULTs and CALLERRORs, matched by id with the calls it
    /// received (direction `to_charger`), become answers by action. The expected response of a call is the first
    /// later `to_charger` response with the same id. A charger's version is the first one its records name (1.6
    /// when none does).
    ///
    /// - Parameter charger: only this charger's script; `nil` for all.
    public static func scripts(from records: [TraceRecord], charger: String? = nil) -> [ReplayScript] {
        var order: [String] = []
        var byCharger: [String: [TraceRecord]] = [:]
        for record in records where charger == nil || record.charger == charger {
            if byCharger[record.charger] == nil { order.append(record.charger) }
            byCharger[record.charger, default: []].append(record)
        }
        return order.map { script(charger: $0, records: byCharger[$0] ?? []) }
    }

    private static func script(charger: String, records: [TraceRecord]) -> ReplayScript {
        var steps: [Step] = []
        var answers: [String: [RecordedAnswer]] = [:]
        var callsToCharger: [String: String] = [:]
        for (index, record) in records.enumerated() {
            let bytes = record.frameBytes
            let envelope = try? Envelope(parsing: bytes)
            switch record.direction {
            case .chargerToCSMS where record.origin == .charger:
                guard let envelope else {
                    steps.append(Step(frame: bytes))
                    continue
                }
                switch envelope.messageType {
                case .call, .send:
                    var step = Step(
                        frame: bytes,
                        messageType: envelope.messageType,
                        messageID: envelope.messageID,
                        action: envelope.action
                    )
                    if envelope.messageType == .call {
                        step.expected =
                            records[(index + 1)...].first { later in
                                guard later.direction == .toCharger, let type = later.messageType,
                                    MessageType(rawValue: type)?.isResponse == true
                                else { return false }
                                return later.messageID == envelope.messageID
                            }?.frameBytes
                    }
                    steps.append(step)
                case .callResult, .callError:
                    guard let action = callsToCharger.removeValue(forKey: envelope.messageID) else { continue }
                    let payload = Array(envelope.payload(of: bytes))
                    if let error = envelope.error {
                        answers[action, default: []].append(
                            .error(code: error.code, description: error.description, details: payload)
                        )
                    } else {
                        answers[action, default: []].append(.result(payload: payload))
                    }
                case .callResultError:
                    continue
                }
            case .toCharger:
                if let envelope, envelope.messageType == .call, let action = envelope.action {
                    callsToCharger[envelope.messageID] = action
                }
            default:
                continue
            }
        }
        let version = records.lazy.compactMap(\.version).first ?? .v16
        return ReplayScript(charger: charger, version: version, steps: steps, answers: answers)
    }
}

/// Reading a trace for replay.
public enum ReplayTrace {
    /// The records of a trace: LoadGuard's JSON-lines format (``TraceRecord``), or the frame-log format of the
    /// captures in `Fixtures/ocpp-traces/actec` (objects with `kind`, `from`, `to`, `cp_id`, `ocpp_version`, and the
    /// frame as `raw` text or as a `frame` array), whose `kind: frame` lines are read and the rest skipped.
    ///
    /// - Throws: ``ReplayError/unreadableTrace(line:reason:)`` naming the first line that is neither.
    public static func records(inTrace text: String) throws(ReplayError) -> [TraceRecord] {
        var records: [TraceRecord] = []
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            guard line.contains(where: { !$0.isWhitespace }) else { continue }
            do {
                records.append(try TraceRecord(jsonLine: line))
                continue
            } catch {
                guard let object = captureObject(line) else {
                    throw .unreadableTrace(line: number, reason: error.reason)
                }
                do {
                    if let record = try captureRecord(object, line: number) { records.append(record) }
                } catch {
                    throw .unreadableTrace(line: number, reason: error.reason)
                }
            }
        }
        return records
    }

    private static func captureObject(_ line: Substring) -> [String: Any]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            object["kind"] is String, object["from"] is String
        else { return nil }
        return object
    }

    /// A frame-log line as a trace record; `nil` for lines that are not frames (events, observations).
    private static func captureRecord(_ object: [String: Any], line: Int) throws(TraceRecordError) -> TraceRecord? {
        guard object["kind"] as? String == "frame", let from = object["from"] as? String else { return nil }
        let text: String
        if let raw = object["raw"] as? String {
            text = raw
        } else if let frame = object["frame"], !(frame is NSNull),
            let data = try? JSONSerialization.data(
                withJSONObject: frame,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        {
            text = String(decoding: data, as: UTF8.self)
        } else {
            throw TraceRecordError(line: line, reason: "a frame line without 'raw' or 'frame'")
        }
        let direction: Direction
        let origin: Origin
        switch from {
        case "charger": (direction, origin) = (.chargerToCSMS, .charger)
        case "csms": (direction, origin) = (.toCharger, .csms)
        case "proxy": (direction, origin) = (.toCharger, .loadguard)
        default: throw TraceRecordError(line: line, reason: "'from' must be charger, csms or proxy, found '\(from)'")
        }
        let versionText = (object["ocpp_version"] as? String).map { $0.hasPrefix("ocpp") ? $0 : "ocpp" + $0 }
        let bytes = Array(text.utf8)
        let envelope = try? Envelope(parsing: bytes)
        return TraceRecord(
            timestamp: (object["t"] as? String).flatMap(OCPPTimestamp.parse)
                ?? Date(timeIntervalSince1970: Double(line)),
            charger: object["cp_id"] as? String ?? "charger",
            version: versionText.flatMap(OCPPVersion.init(rawValue:)),
            direction: direction,
            origin: origin,
            messageType: envelope?.messageType.rawValue,
            messageID: envelope?.messageID,
            action: envelope?.action,
            frame: text
        )
    }
}

/// Why a replay could not run.
public enum ReplayError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadableTrace(line: Int, reason: String)
    case cannotReadFile(path: String, reason: String)
    case noCharger(String?)
    case invalidURL(String)

    public var description: String {
        switch self {
        case .unreadableTrace(let line, let reason):
            "trace line \(line) is neither a LoadGuard trace record nor a frame-log line: \(reason)"
        case .cannotReadFile(let path, let reason): "cannot read the trace \(path): \(reason)"
        case .noCharger(let id?): "the trace has no frames of charger '\(id)'"
        case .noCharger(nil): "the trace has no charger frames to replay"
        case .invalidURL(let url): "expected a ws:// or wss:// URL such as ws://127.0.0.1:8180/ocpp, found '\(url)'"
        }
    }
}
