/// A number that real chargers and CSMSs sometimes send as a string (`"16"`), or as a float where an integer
/// is specified (`16.0`).
public protocol LenientNumber: Codable, Hashable, Sendable {
    /// Decodes the value leniently from a single-value container.
    static func decodeLeniently(from container: any SingleValueDecodingContainer) throws -> Self
}

extension Int: LenientNumber {
    public static func decodeLeniently(from container: any SingleValueDecodingContainer) throws -> Int {
        if let value = try? container.decode(Int.self) { return value }
        if let value = try? container.decode(Double.self), let integer = Int(exactly: value) { return integer }
        if let text = try? container.decode(String.self) {
            let trimmed = text.trimmingBlanks()
            if let value = Int(trimmed) { return value }
            if let value = Double(trimmed), let integer = Int(exactly: value) { return integer }
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected an integer (or a string holding one), found \"\(text)\""
            )
        }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an integer")
    }
}

extension Double: LenientNumber {
    public static func decodeLeniently(from container: any SingleValueDecodingContainer) throws -> Double {
        if let value = try? container.decode(Double.self) { return value }
        if let text = try? container.decode(String.self) {
            if let value = Double(text.trimmingBlanks()), value.isFinite { return value }
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected a number (or a string holding one), found \"\(text)\""
            )
        }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a number")
    }
}

extension Optional: LenientNumber where Wrapped: LenientNumber {
    /// `nil` for `null` and for values that are not numbers: an optional field never fails a whole message.
    public static func decodeLeniently(from container: any SingleValueDecodingContainer) throws -> Wrapped? {
        if container.decodeNil() { return nil }
        return try? Wrapped.decodeLeniently(from: container)
    }
}

/// A numeric field decoded leniently (see ``LenientNumber``) and encoded as a plain JSON number.
///
/// For optional values a missing key decodes as `nil`, and `nil` is not encoded.
@propertyWrapper
public struct Lenient<Value: LenientNumber>: Codable, Hashable, Sendable {
    public var wrappedValue: Value

    public init(wrappedValue: Value) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        wrappedValue = try Value.decodeLeniently(from: try decoder.singleValueContainer())
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension KeyedDecodingContainer {
    /// Optional lenient numbers: a missing key is `nil`.
    public func decode<Wrapped>(_ type: Lenient<Wrapped?>.Type, forKey key: Key) throws -> Lenient<Wrapped?> {
        try decodeIfPresent(type, forKey: key) ?? Lenient(wrappedValue: nil)
    }
}

extension KeyedEncodingContainer {
    /// Optional lenient numbers: `nil` is left out.
    public mutating func encode<Wrapped>(_ value: Lenient<Wrapped?>, forKey key: Key) throws {
        if let wrapped = value.wrappedValue {
            try encode(wrapped, forKey: key)
        }
    }
}

extension String {
    fileprivate func trimmingBlanks() -> String {
        let characters = " \t"
        var result = Substring(self)
        while let first = result.first, characters.contains(first) { result.removeFirst() }
        while let last = result.last, characters.contains(last) { result.removeLast() }
        return String(result)
    }
}
