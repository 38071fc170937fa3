/// Removes secrets from frames and headers before they are written to traces or logs.
///
/// Redaction produces a new string for the trace only; the bytes on the wire are never changed.
///
/// With ``Mode/secrets`` (the default) these values become `"<redacted>"`, wherever they occur in a frame:
/// - the string value of every member named `idTag`, `parentIdTag` (1.6), `idToken`, `additionalIdToken`
///   (2.x: `idToken.idToken`, `groupIdToken.idToken`), `password` and `apnPassword` (2.x network profiles);
/// - the `value` of a 1.6 configuration key `AuthorizationKey` (`ChangeConfiguration`, `GetConfiguration`);
/// - the `attributeValue` of a 2.x variable named `BasicAuthPassword` (`SetVariables`, `GetVariables`).
///
/// Frames that are not valid JSON are redacted on a best-effort basis (the scan is lenient and never fails);
/// a secret string that is not terminated is redacted to the end of the frame.
///
/// ``Mode/none`` keeps frames as they are, for installers who need raw traces.
public struct Redactor: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, Codable {
        /// Redact the secrets listed above (default).
        case secrets
        /// Keep everything.
        case none
    }

    public var mode: Mode

    /// The text that replaces a secret.
    public static let replacement = "<redacted>"

    /// Member names whose string values are secret anywhere in a frame.
    public static let secretMembers: Set<String> = [
        "idTag", "parentIdTag", "idToken", "additionalIdToken", "password", "apnPassword",
    ]

    public init(mode: Mode = .secrets) {
        self.mode = mode
    }

    /// The frame as text, with secrets replaced.
    public func redact(frame: some Collection<UInt8>) -> String {
        let bytes = Array(frame)
        guard mode == .secrets else { return String(decoding: bytes, as: UTF8.self) }
        let ranges = bytes.withUnsafeBufferPointer { SecretScanner.secretRanges(in: $0) }
        guard !ranges.isEmpty else { return String(decoding: bytes, as: UTF8.self) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var position = 0
        let replacement = Array(("\"" + Redactor.replacement + "\"").utf8)
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where range.lowerBound >= position {
            output.append(contentsOf: bytes[position..<range.lowerBound])
            output.append(contentsOf: replacement)
            position = range.upperBound
        }
        output.append(contentsOf: bytes[position...])
        return String(decoding: output, as: UTF8.self)
    }

    /// A header value for logs: `Authorization` and `Proxy-Authorization` keep their scheme only
    /// (`Basic <redacted>`); other headers are returned unchanged.
    public func redact(headerName: String, value: String) -> String {
        guard mode == .secrets else { return value }
        let name = headerName.lowercased()
        guard name == "authorization" || name == "proxy-authorization" else { return value }
        let trimmed = value.drop(while: { $0 == " " })
        if let space = trimmed.firstIndex(of: " ") {
            return trimmed[..<space] + " " + Redactor.replacement
        }
        return Redactor.replacement
    }
}

/// A lenient scan of JSON text that finds the byte ranges (quotes included) of secret string values.
private enum SecretScanner {
    struct ObjectState {
        var currentKey: String?
        var expectingKey = true
        var keyField: String?
        var valueRange: Range<Int>?
        var nameField: String?
        var variableName: String?
        var attributeValueRange: Range<Int>?
    }

    enum Container {
        case object(ObjectState)
        case array
    }

    static func secretRanges(in bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var stack: [Container] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case .openBrace:
                stack.append(.object(ObjectState()))
                index += 1
            case .openBracket:
                stack.append(.array)
                index += 1
            case .closeBrace:
                index += 1
                guard case .object(let state) = stack.last else { continue }
                stack.removeLast()
                if state.keyField == "AuthorizationKey", let range = state.valueRange { ranges.append(range) }
                if state.variableName == "BasicAuthPassword", let range = state.attributeValueRange {
                    ranges.append(range)
                }
                // A closed `variable` object names the variable of its parent.
                if case .object(var parent) = stack.last, parent.currentKey == "variable" {
                    parent.variableName = state.nameField
                    stack[stack.count - 1] = .object(parent)
                }
            case .closeBracket:
                index += 1
                if case .array = stack.last { stack.removeLast() }
            case .colon:
                index += 1
                if case .object(var state) = stack.last {
                    state.expectingKey = false
                    stack[stack.count - 1] = .object(state)
                }
            case .comma:
                index += 1
                if case .object(var state) = stack.last {
                    state.expectingKey = true
                    state.currentKey = nil
                    stack[stack.count - 1] = .object(state)
                }
            case .quote:
                let start = index
                index += 1
                var escaped = false
                while index < bytes.count, bytes[index] != .quote {
                    if bytes[index] == .backslash {
                        escaped = true
                        index += 1
                    }
                    index += 1
                }
                let contentEnd = min(index, bytes.count)
                index = min(index + 1, bytes.count)
                let range = start..<index
                guard case .object(var state) = stack.last else { continue }
                let text = JSONScanner.decodeString(
                    UnsafeBufferPointer(rebasing: bytes[(start + 1)..<contentEnd]),
                    escaped: escaped
                )
                if state.expectingKey {
                    state.currentKey = text
                } else if let key = state.currentKey {
                    if Redactor.secretMembers.contains(key) { ranges.append(range) }
                    switch key {
                    case "key": state.keyField = text
                    case "value": state.valueRange = range
                    case "name": state.nameField = text
                    case "attributeValue": state.attributeValueRange = range
                    default: break
                    }
                }
                stack[stack.count - 1] = .object(state)
            default:
                index += 1
            }
        }
        return ranges
    }
}
