import Foundation
public import OCPP

/// A JSON value, for comparing payloads structurally.
enum ReplayJSON: Hashable, Sendable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([ReplayJSON])
    case object([String: ReplayJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ReplayJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ReplayJSON].self))
        }
    }

    init(parsing bytes: some Collection<UInt8>) throws {
        self = try JSONDecoder().decode(ReplayJSON.self, from: Data(bytes))
    }

    /// `string`, `number`, … for "compared by type" messages.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Compact JSON text (keys sorted).
    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        case .string(let value):
            var bytes: [UInt8] = []
            bytes.append(UInt8(ascii: "\""))
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": bytes += Array("\\\"".utf8)
                case "\\": bytes += Array("\\\\".utf8)
                case "\n": bytes += Array("\\n".utf8)
                case _ where scalar.value < 0x20: bytes += Array(String(format: "\\u%04x", scalar.value).utf8)
                default: bytes += Array(String(scalar).utf8)
                }
            }
            bytes.append(UInt8(ascii: "\""))
            return String(decoding: bytes, as: UTF8.self)
        case .array(let values): return "[" + values.map(\.text).joined(separator: ",") + "]"
        case .object(let members):
            return "{"
                + members.keys.sorted().map { ReplayJSON.string($0).text + ":" + members[$0]!.text }
                .joined(separator: ",") + "}"
        }
    }
}

/// One place where a response differs from the one the trace recorded.
public struct FieldDifference: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Where: `messageType`, `errorCode`, or a JSON path into the payload such as `$.idTagInfo.status`.
    public var path: String
    public var expected: String
    public var got: String

    public init(path: String, expected: String, got: String) {
        self.path = path
        self.expected = expected
        self.got = got
    }

    public var description: String { "\(path): expected \(expected), got \(got)" }
}

/// Compares a response with the one a trace recorded for the same call.
///
/// - The message type must match (a CALLRESULT is not a CALLERROR); for CALLERRORs the error code must match (the
///   description is free text and is not compared).
/// - CALLRESULT payloads are compared as JSON: the same members, arrays of the same length, equal values (numbers
///   numerically, so `6` equals `6.0`).
/// - Volatile values are compared by type only: members named in ``volatileKeys`` (`currentTime`, `timestamp`,
///   `transactionId`), any pair of strings that are both RFC 3339 date-times, and values the trace redacted
///   (`"<redacted>"`).
public enum ReplayComparison {
    /// Members whose values change from run to run.
    public static let volatileKeys: Set<String> = ["currentTime", "timestamp", "transactionId"]

    /// The differences between the recorded response `expected` and the response `got` (both whole frames);
    /// empty when they agree.
    public static func differences(expected: [UInt8], got: [UInt8]) -> [FieldDifference] {
        let expectedEnvelope: Envelope
        do {
            expectedEnvelope = try Envelope(parsing: expected)
        } catch {
            return [FieldDifference(path: "frame", expected: "the trace's frame to be OCPP-J", got: error.description)]
        }
        let gotEnvelope: Envelope
        do {
            gotEnvelope = try Envelope(parsing: got)
        } catch {
            return [FieldDifference(path: "frame", expected: "an OCPP-J frame", got: error.description)]
        }
        guard expectedEnvelope.messageType == gotEnvelope.messageType else {
            return [
                FieldDifference(
                    path: "messageType",
                    expected: describe(expectedEnvelope),
                    got: describe(gotEnvelope)
                )
            ]
        }
        if let expectedError = expectedEnvelope.error, let gotError = gotEnvelope.error {
            guard expectedError.code == gotError.code else {
                return [FieldDifference(path: "errorCode", expected: expectedError.code, got: gotError.code)]
            }
            return []
        }
        let expectedPayload: ReplayJSON
        let gotPayload: ReplayJSON
        do {
            expectedPayload = try ReplayJSON(parsing: expectedEnvelope.payload(of: expected))
            gotPayload = try ReplayJSON(parsing: gotEnvelope.payload(of: got))
        } catch {
            return [FieldDifference(path: "$", expected: "a JSON payload", got: "\(error)")]
        }
        var differences: [FieldDifference] = []
        compare(expectedPayload, gotPayload, path: "$", key: nil, into: &differences)
        return differences
    }

    static func describe(_ envelope: Envelope) -> String {
        switch envelope.messageType {
        case .call: "CALL \(envelope.action ?? "")"
        case .callResult: "CALLRESULT"
        case .callError: "CALLERROR \(envelope.error?.code ?? "")"
        case .callResultError: "CALLRESULTERROR \(envelope.error?.code ?? "")"
        case .send: "SEND \(envelope.action ?? "")"
        }
    }

    private static func isVolatile(key: String?, _ expected: ReplayJSON, _ got: ReplayJSON) -> Bool {
        if let key, volatileKeys.contains(key) { return true }
        if case .string(let value) = expected, value == Redactor.replacement { return true }
        if case .string(let left) = expected, case .string(let right) = got, OCPPTimestamp.parse(left) != nil,
            OCPPTimestamp.parse(right) != nil
        {
            return true
        }
        return false
    }

    private static func compare(
        _ expected: ReplayJSON,
        _ got: ReplayJSON,
        path: String,
        key: String?,
        into differences: inout [FieldDifference]
    ) {
        if isVolatile(key: key, expected, got) {
            if expected.kind != got.kind {
                differences.append(
                    FieldDifference(path: path, expected: "a \(expected.kind)", got: "\(got.text) (a \(got.kind))")
                )
            }
            return
        }
        switch (expected, got) {
        case (.object(let left), .object(let right)):
            for name in Set(left.keys).union(right.keys).sorted() {
                let childPath = path + "." + name
                switch (left[name], right[name]) {
                case (let value?, nil):
                    differences.append(FieldDifference(path: childPath, expected: value.text, got: "absent"))
                case (nil, let value?):
                    differences.append(FieldDifference(path: childPath, expected: "absent", got: value.text))
                case (let leftValue?, let rightValue?):
                    compare(leftValue, rightValue, path: childPath, key: name, into: &differences)
                case (nil, nil):
                    break
                }
            }
        case (.array(let left), .array(let right)):
            if left.count != right.count {
                differences.append(
                    FieldDifference(path: path, expected: "\(left.count) elements", got: "\(right.count) elements")
                )
            }
            for index in 0..<min(left.count, right.count) {
                compare(left[index], right[index], path: "\(path)[\(index)]", key: key, into: &differences)
            }
        case (.number(let left), .number(let right)):
            if abs(left - right) > 1e-9 * max(1, abs(left)) {
                differences.append(FieldDifference(path: path, expected: expected.text, got: got.text))
            }
        default:
            if expected != got {
                differences.append(FieldDifference(path: path, expected: expected.text, got: got.text))
            }
        }
    }
}
