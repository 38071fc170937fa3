import Foundation

/// Builds OCPP-J frames as UTF-8 bytes, ready to send as a WebSocket text message.
///
/// Ids, actions, error codes and descriptions are written as JSON strings with the necessary escapes.
/// Payloads given as bytes are inserted as they are: they must be one JSON value (the proxy builds them with
/// ``encodePayload(_:)`` or takes them from another frame). Payloads given as `Encodable` values (label
/// `encoding:`) are encoded with sorted keys and unescaped slashes, so the same value always gives the same bytes.
public enum Frame {
    /// `[2, id, action, payload]`.
    public static func call(id: String, action: String, payload: [UInt8]) -> [UInt8] {
        var frame = start(type: .call, id: id, capacity: payload.count + action.utf8.count)
        JSONWriter.appendString(action, to: &frame)
        frame.append(.comma)
        frame.append(contentsOf: payload)
        frame.append(.closeBracket)
        return frame
    }

    /// `[2, id, action, payload]` with the payload encoded as JSON. (A separate label from the bytes variant, so
    /// that a `[UInt8]` payload can never be encoded as an array of numbers by accident.)
    public static func call(id: String, action: String, encoding payload: some Encodable) throws(FrameEncodingError)
        -> [UInt8]
    {
        call(id: id, action: action, payload: try encodePayload(payload))
    }

    /// `[3, id, payload]`.
    public static func callResult(id: String, payload: [UInt8]) -> [UInt8] {
        var frame = start(type: .callResult, id: id, capacity: payload.count)
        frame.append(contentsOf: payload)
        frame.append(.closeBracket)
        return frame
    }

    /// `[3, id, payload]` with the payload encoded as JSON.
    public static func callResult(id: String, encoding payload: some Encodable) throws(FrameEncodingError) -> [UInt8] {
        callResult(id: id, payload: try encodePayload(payload))
    }

    /// `[4, id, code, description, details]`; details default to `{}`.
    public static func callError(
        id: String,
        code: CallErrorCode,
        description: String,
        details: [UInt8] = emptyObject
    ) -> [UInt8] {
        errorFrame(type: .callError, id: id, code: code, description: description, details: details)
    }

    /// `[5, id, code, description, details]` (OCPP 2.1 CALLRESULTERROR); details default to `{}`.
    public static func callResultError(
        id: String,
        code: CallErrorCode,
        description: String,
        details: [UInt8] = emptyObject
    ) -> [UInt8] {
        errorFrame(type: .callResultError, id: id, code: code, description: description, details: details)
    }

    /// `[6, id, action, payload]` (OCPP 2.1 SEND).
    public static func send(id: String, action: String, payload: [UInt8]) -> [UInt8] {
        var frame = start(type: .send, id: id, capacity: payload.count + action.utf8.count)
        JSONWriter.appendString(action, to: &frame)
        frame.append(.comma)
        frame.append(contentsOf: payload)
        frame.append(.closeBracket)
        return frame
    }

    /// `{}`: the empty JSON object, the payload of many confirmations.
    public static let emptyObject: [UInt8] = Array("{}".utf8)

    /// Encodes a payload value as compact JSON with sorted keys and unescaped slashes.
    public static func encodePayload(_ value: some Encodable) throws(FrameEncodingError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw FrameEncodingError(typeName: String(describing: type(of: value)), reason: "\(error)")
        }
    }

    private static func start(type: MessageType, id: String, capacity: Int) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(capacity + id.utf8.count + 16)
        frame.append(.openBracket)
        frame.append(UInt8(ascii: "0") + UInt8(type.rawValue))
        frame.append(.comma)
        JSONWriter.appendString(id, to: &frame)
        frame.append(.comma)
        return frame
    }

    private static func errorFrame(
        type: MessageType,
        id: String,
        code: CallErrorCode,
        description: String,
        details: [UInt8]
    ) -> [UInt8] {
        var frame = start(type: type, id: id, capacity: details.count + description.utf8.count + 32)
        JSONWriter.appendString(code.rawValue, to: &frame)
        frame.append(.comma)
        JSONWriter.appendString(description, to: &frame)
        frame.append(.comma)
        frame.append(contentsOf: details)
        frame.append(.closeBracket)
        return frame
    }
}

/// A payload value could not be encoded as JSON.
public struct FrameEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The Swift type that was being encoded.
    public var typeName: String
    /// The encoder's explanation.
    public var reason: String

    public var description: String { "cannot encode \(typeName) as an OCPP payload: \(reason)" }
}

/// The error code of a CALLERROR: a string, with the codes of OCPP-J 1.6 and 2.0.1/2.1 as constants.
///
/// Any string can be used (codes of peers are kept as sent); the constants are those the proxy itself sends.
public struct CallErrorCode: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The action is not known by the receiver (1.6, 2.x).
    public static let notImplemented: CallErrorCode = "NotImplemented"
    /// The action is known but not supported by the receiver (1.6, 2.x).
    public static let notSupported: CallErrorCode = "NotSupported"
    /// The receiver could not process the action because of an internal error (1.6, 2.x).
    public static let internalError: CallErrorCode = "InternalError"
    /// The payload is incomplete (1.6, 2.x).
    public static let protocolError: CallErrorCode = "ProtocolError"
    /// A security issue prevented the action (1.6, 2.x).
    public static let securityError: CallErrorCode = "SecurityError"
    /// The payload is syntactically incorrect (1.6 spelling).
    public static let formationViolation: CallErrorCode = "FormationViolation"
    /// The payload is syntactically incorrect (2.x spelling).
    public static let formatViolation: CallErrorCode = "FormatViolation"
    /// A field has a value not allowed by its constraints (1.6, 2.x).
    public static let propertyConstraintViolation: CallErrorCode = "PropertyConstraintViolation"
    /// A field occurs too often or too rarely (1.6 spelling).
    public static let occurenceConstraintViolation: CallErrorCode = "OccurenceConstraintViolation"
    /// A field occurs too often or too rarely (2.x spelling).
    public static let occurrenceConstraintViolation: CallErrorCode = "OccurrenceConstraintViolation"
    /// A field has the wrong type (1.6, 2.x).
    public static let typeConstraintViolation: CallErrorCode = "TypeConstraintViolation"
    /// Any other error (1.6, 2.x).
    public static let genericError: CallErrorCode = "GenericError"
    /// The message type is not supported (2.x).
    public static let messageTypeNotSupported: CallErrorCode = "MessageTypeNotSupported"
    /// The content of the call is not a valid RPC request (2.x).
    public static let rpcFrameworkError: CallErrorCode = "RpcFrameworkError"

    /// "The payload is syntactically incorrect" in the spelling of `version`.
    public static func formatViolation(for version: OCPPVersion) -> CallErrorCode {
        version == .v16 ? .formationViolation : .formatViolation
    }
}
