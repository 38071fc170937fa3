public import Foundation

/// One line of a JSON-lines trace: a frame as it passed through the proxy.
///
/// ```json
/// {"ts":"2025-12-19T08:35:55.577Z","charger":"CP-1","version":"ocpp1.6","direction":"charger_to_csms",
///  "origin":"charger","type":2,"id":"100","action":"BootNotification","frame":"[2,\"100\",…]"}
/// ```
/// Keys are always written in this order; `version`, `type`, `id` and `action` are `null` when unknown (a frame
/// that is not OCPP-J has `type`, `id` and `action` `null`). `frame` is the frame's text with secrets redacted
/// (see ``Redactor``). `loadguard replay` reads these lines back with ``init(jsonLine:)``.
public struct TraceRecord: Sendable, Hashable {
    /// When the frame passed, kept to the millisecond.
    public var timestamp: Date
    /// The charger's identity (the last path segment of its URL).
    public var charger: String
    /// The negotiated OCPP version.
    public var version: OCPPVersion?
    public var direction: Direction
    public var origin: Origin
    /// The OCPP-J message type (2…6), `nil` if the frame is not OCPP-J.
    public var messageType: Int?
    public var messageID: String?
    public var action: String?
    /// The frame's text (redacted unless the redaction mode is `none`).
    public var frame: String

    public init(
        timestamp: Date,
        charger: String,
        version: OCPPVersion?,
        direction: Direction,
        origin: Origin,
        messageType: Int?,
        messageID: String?,
        action: String?,
        frame: String
    ) {
        self.timestamp = timestamp
        self.charger = charger
        self.version = version
        self.direction = direction
        self.origin = origin
        self.messageType = messageType
        self.messageID = messageID
        self.action = action
        self.frame = frame
    }

    /// A record of a frame, with its envelope fields and its text redacted by `redactor`.
    ///
    /// - Parameter envelope: the frame's envelope if it parsed, `nil` otherwise (then type, id and action are
    ///   `null`).
    public init(
        timestamp: Date,
        charger: String,
        version: OCPPVersion?,
        direction: Direction,
        origin: Origin,
        frame: [UInt8],
        envelope: Envelope?,
        redactor: Redactor = Redactor()
    ) {
        self.init(
            timestamp: timestamp,
            charger: charger,
            version: version,
            direction: direction,
            origin: origin,
            messageType: envelope?.messageType.rawValue,
            messageID: envelope?.messageID,
            action: envelope?.action,
            frame: redactor.redact(frame: frame)
        )
    }

    /// The record as one line of JSON, without the trailing newline.
    public func jsonLine() -> String {
        var line: [UInt8] = []
        line.reserveCapacity(frame.utf8.count + 200)
        func key(_ name: String, first: Bool = false) {
            if !first { line.append(.comma) }
            JSONWriter.appendString(name, to: &line)
            line.append(.colon)
        }
        func string(_ value: String?) {
            if let value {
                JSONWriter.appendString(value, to: &line)
            } else {
                line.append(contentsOf: Array("null".utf8))
            }
        }
        line.append(.openBrace)
        key("ts", first: true)
        string(OCPPTimestamp.format(timestamp))
        key("charger")
        string(charger)
        key("version")
        string(version?.rawValue)
        key("direction")
        string(direction.rawValue)
        key("origin")
        string(origin.rawValue)
        key("type")
        line.append(contentsOf: Array((messageType.map(String.init) ?? "null").utf8))
        key("id")
        string(messageID)
        key("action")
        string(action)
        key("frame")
        string(frame)
        line.append(.closeBrace)
        return String(decoding: line, as: UTF8.self)
    }

    /// Reads one trace line.
    public init(jsonLine: some StringProtocol) throws(TraceRecordError) {
        let data = Data(jsonLine.utf8)
        do {
            self = try JSONDecoder().decode(TraceRecord.self, from: data)
        } catch let error as TraceRecordError {
            throw error
        } catch let DecodingError.keyNotFound(key, _) {
            throw TraceRecordError(line: nil, reason: "missing key '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw TraceRecordError(line: nil, reason: "key '\(path)': \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw TraceRecordError(
                line: nil,
                reason: path.isEmpty ? "not a JSON object" : "key '\(path)': \(context.debugDescription)"
            )
        } catch {
            throw TraceRecordError(line: nil, reason: "\(error)")
        }
    }

    /// Reads every record of a JSON-lines trace; blank lines are skipped.
    ///
    /// - Throws: ``TraceRecordError`` naming the first line (1-based) that is not a trace record.
    public static func records(inTrace text: String) throws(TraceRecordError) -> [TraceRecord] {
        var records: [TraceRecord] = []
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            guard line.contains(where: { !$0.isWhitespace }) else { continue }
            do {
                records.append(try TraceRecord(jsonLine: line))
            } catch {
                throw TraceRecordError(line: number, reason: error.reason)
            }
        }
        return records
    }

    /// The frame's bytes (as recorded: redacted values stay redacted).
    public var frameBytes: [UInt8] { Array(frame.utf8) }
}

extension TraceRecord: Codable {
    enum CodingKeys: String, CodingKey {
        case ts, charger, version, direction, origin, type, id, action, frame
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let ts = try container.decode(String.self, forKey: .ts)
        guard let timestamp = OCPPTimestamp.parse(ts) else {
            throw TraceRecordError(line: nil, reason: "key 'ts': expected an RFC 3339 date-time, found '\(ts)'")
        }
        let versionText = try container.decodeIfPresent(String.self, forKey: .version)
        var version: OCPPVersion?
        if let versionText {
            guard let parsed = OCPPVersion(rawValue: versionText) else {
                throw TraceRecordError(
                    line: nil,
                    reason: "key 'version': expected ocpp1.6, ocpp2.0.1 or ocpp2.1, found '\(versionText)'"
                )
            }
            version = parsed
        }
        self.init(
            timestamp: timestamp,
            charger: try container.decode(String.self, forKey: .charger),
            version: version,
            direction: try container.decode(Direction.self, forKey: .direction),
            origin: try container.decode(Origin.self, forKey: .origin),
            messageType: try container.decodeIfPresent(Int.self, forKey: .type),
            messageID: try container.decodeIfPresent(String.self, forKey: .id),
            action: try container.decodeIfPresent(String.self, forKey: .action),
            frame: try container.decode(String.self, forKey: .frame)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(OCPPTimestamp.format(timestamp), forKey: .ts)
        try container.encode(charger, forKey: .charger)
        try container.encode(version?.rawValue, forKey: .version)
        try container.encode(direction, forKey: .direction)
        try container.encode(origin, forKey: .origin)
        try container.encode(messageType, forKey: .type)
        try container.encode(messageID, forKey: .id)
        try container.encode(action, forKey: .action)
        try container.encode(frame, forKey: .frame)
    }
}

/// A trace line that is not a trace record.
public struct TraceRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number, when reading a whole trace.
    public var line: Int?
    public var reason: String

    public init(line: Int?, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String {
        if let line { "trace line \(line) is not a trace record: \(reason)" } else { "not a trace record: \(reason)" }
    }
}
