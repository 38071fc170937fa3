import Foundation

extension Envelope {
    /// Decodes the payload of `frame` (the frame this envelope was parsed from) as `type`.
    ///
    /// - Throws: ``PayloadDecodingError`` naming the action or message id, the field and what was wrong.
    public func decodePayload<T: Decodable>(
        _ type: T.Type,
        from frame: some RandomAccessCollection<UInt8>
    ) throws(PayloadDecodingError) -> T {
        let data = Data(payload(of: frame))
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw PayloadDecodingError(
                message: action.map { "\($0) (id \(messageID))" } ?? "response to id \(messageID)",
                typeName: String(describing: type),
                error: error
            )
        }
    }
}

/// A payload that does not decode as the message type LoadGuard expected.
public struct PayloadDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which message: action and id, or the id a response answers.
    public var message: String
    /// The Swift type that was expected.
    public var typeName: String
    /// The dotted path of the offending field (empty for the payload itself).
    public var field: String
    /// What was wrong.
    public var reason: String

    init(message: String, typeName: String, error: any Error) {
        self.message = message
        self.typeName = typeName
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            field = (context.codingPath + [key]).map(\.pathComponent).joined(separator: ".")
            reason = "required field is missing"
        case DecodingError.typeMismatch(let type, let context):
            field = context.codingPath.map(\.pathComponent).joined(separator: ".")
            reason = "expected \(type)"
        case DecodingError.valueNotFound(let type, let context):
            field = context.codingPath.map(\.pathComponent).joined(separator: ".")
            reason = "expected \(type), found null"
        case DecodingError.dataCorrupted(let context):
            field = context.codingPath.map(\.pathComponent).joined(separator: ".")
            reason = context.debugDescription
        default:
            field = ""
            reason = "\(error)"
        }
    }

    public var description: String {
        let location = field.isEmpty ? "payload" : "field '\(field)'"
        return "cannot read \(message) as \(typeName): \(location): \(reason)"
    }
}

extension CodingKey {
    fileprivate var pathComponent: String { intValue.map { "[\($0)]" } ?? stringValue }
}
