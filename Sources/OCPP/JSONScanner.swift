/// A single-pass reader over JSON bytes, used for the OCPP-J envelope and for redaction.
///
/// It never allocates except when a string needs unescaping or containers nest deeper than 64 levels, and it
/// never traps: every read is bounds-checked and every failure is an ``EnvelopeError`` with the byte offset.
struct JSONScanner: ~Copyable {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { position >= bytes.count }

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case .space, .tab, .newline, .carriageReturn: position += 1
            default: return
            }
        }
    }

    func error(_ kind: EnvelopeError.Kind, expected: String) -> EnvelopeError {
        EnvelopeError(kind: kind, offset: position, expected: expected, found: describeFound())
    }

    func describeFound() -> String {
        guard let byte = current else { return "end of frame" }
        if byte >= 0x21 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    mutating func expect(_ byte: UInt8, _ expected: String) throws(EnvelopeError) {
        guard current == byte else {
            throw error(isAtEnd ? .unexpectedEnd : .unexpectedByte, expected: expected)
        }
        position += 1
    }

    /// Reads a JSON string starting at the opening quote and returns the byte range of its content (without
    /// quotes) and whether it contains escapes.
    mutating func scanString(_ expected: String) throws(EnvelopeError) -> (content: Range<Int>, escaped: Bool) {
        guard current == .quote else {
            throw error(isAtEnd ? .unexpectedEnd : .unexpectedByte, expected: expected)
        }
        position += 1
        let start = position
        var escaped = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == .quote {
                let range = start..<position
                position += 1
                return (range, escaped)
            }
            if byte == .backslash {
                escaped = true
                position += 1
                guard let next = current else { break }
                switch next {
                case .quote, .backslash, .slash, UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                    UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 1
                case UInt8(ascii: "u"):
                    position += 1
                    for _ in 0..<4 {
                        guard let hex = current, hex.hexValue != nil else {
                            throw error(
                                isAtEnd ? .unexpectedEnd : .invalidEscape,
                                expected: "four hexadecimal digits after \\u"
                            )
                        }
                        position += 1
                    }
                default:
                    throw error(
                        .invalidEscape,
                        expected: "an escape sequence (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"
                    )
                }
                continue
            }
            if byte < 0x20 {
                throw error(.unexpectedByte, expected: "a string character (control characters must be escaped)")
            }
            position += 1
        }
        throw error(.unexpectedEnd, expected: "'\"' closing the string")
    }

    /// Reads a JSON string and decodes it (escapes resolved; invalid UTF-8 and lone surrogates become U+FFFD).
    mutating func readString(_ expected: String) throws(EnvelopeError) -> String {
        let (range, escaped) = try scanString(expected)
        return JSONScanner.decodeString(UnsafeBufferPointer(rebasing: bytes[range]), escaped: escaped)
    }

    /// Decodes the content of a JSON string (between the quotes) that ``scanString(_:)`` validated.
    static func decodeString(_ content: UnsafeBufferPointer<UInt8>, escaped: Bool) -> String {
        if !escaped {
            return String(decoding: content, as: UTF8.self)
        }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(content.count)
        var index = 0
        func hex4(at offset: Int) -> UInt32? {
            guard offset + 4 <= content.count else { return nil }
            var value: UInt32 = 0
            for i in offset..<offset + 4 {
                guard let digit = content[i].hexValue else { return nil }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        func append(_ scalar: Unicode.Scalar) {
            utf8.append(contentsOf: UTF8.encode(scalar)!)
        }
        while index < content.count {
            let byte = content[index]
            guard byte == .backslash, index + 1 < content.count else {
                utf8.append(byte)
                index += 1
                continue
            }
            let next = content[index + 1]
            index += 2
            switch next {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hex4(at: index) else {
                    append("\u{FFFD}")
                    continue
                }
                index += 4
                if unit >= 0xD800 && unit < 0xDC00, index + 6 <= content.count, content[index] == .backslash,
                    content[index + 1] == UInt8(ascii: "u"), let low = hex4(at: index + 2), low >= 0xDC00,
                    low < 0xE000
                {
                    index += 6
                    let scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    append(Unicode.Scalar(scalar) ?? "\u{FFFD}")
                } else {
                    append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                }
            default: utf8.append(next)
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Reads a JSON number and returns its byte range.
    mutating func scanNumber() throws(EnvelopeError) -> Range<Int> {
        let start = position
        if current == .minus { position += 1 }
        guard let first = current, first.isDigit else {
            throw error(isAtEnd ? .unexpectedEnd : .invalidNumber, expected: "a digit")
        }
        position += 1
        if first != .zero {
            while let byte = current, byte.isDigit { position += 1 }
        }
        if current == .period {
            position += 1
            guard let byte = current, byte.isDigit else {
                throw error(isAtEnd ? .unexpectedEnd : .invalidNumber, expected: "a digit after '.'")
            }
            while let byte = current, byte.isDigit { position += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == .plus || current == .minus { position += 1 }
            guard let byte = current, byte.isDigit else {
                throw error(isAtEnd ? .unexpectedEnd : .invalidNumber, expected: "a digit in the exponent")
            }
            while let byte = current, byte.isDigit { position += 1 }
        }
        return start..<position
    }

    mutating func scanLiteral(_ literal: StaticString) throws(EnvelopeError) {
        let count = literal.utf8CodeUnitCount
        let pointer = literal.utf8Start
        for i in 0..<count {
            guard current == pointer[i] else {
                throw error(isAtEnd ? .unexpectedEnd : .unexpectedByte, expected: "'\(literal)'")
            }
            position += 1
        }
    }

    /// Skips one complete JSON value (validating its syntax) and returns its byte range.
    ///
    /// Iterative, so deeply nested input cannot overflow the stack.
    mutating func skipValue() throws(EnvelopeError) -> Range<Int> {
        skipWhitespace()
        let start = position
        var nesting = NestingStack()
        while true {
            // A value is expected here.
            skipWhitespace()
            guard let byte = current else {
                throw error(.unexpectedEnd, expected: "a JSON value")
            }
            var opened = false
            switch byte {
            case .openBrace:
                position += 1
                skipWhitespace()
                if current == .closeBrace {
                    position += 1
                } else {
                    nesting.push(isObject: true)
                    _ = try scanString("'\"' starting an object key or '}'")
                    skipWhitespace()
                    try expect(.colon, "':' after an object key")
                    opened = true
                }
            case .openBracket:
                position += 1
                skipWhitespace()
                if current == .closeBracket {
                    position += 1
                } else {
                    nesting.push(isObject: false)
                    opened = true
                }
            case .quote: _ = try scanString("a string")
            case .minus, .zero...UInt8(ascii: "9"): _ = try scanNumber()
            case UInt8(ascii: "t"): try scanLiteral("true")
            case UInt8(ascii: "f"): try scanLiteral("false")
            case UInt8(ascii: "n"): try scanLiteral("null")
            default: throw error(.unexpectedByte, expected: "a JSON value")
            }
            if opened { continue }
            // After a value: close containers or move to the next element.
            while true {
                guard let isObject = nesting.top else { return start..<position }
                skipWhitespace()
                let close: UInt8 = isObject ? .closeBrace : .closeBracket
                guard let next = current else {
                    throw error(.unexpectedEnd, expected: isObject ? "',' or '}'" : "',' or ']'")
                }
                if next == close {
                    position += 1
                    nesting.pop()
                    continue
                }
                guard next == .comma else {
                    throw error(.unexpectedByte, expected: isObject ? "',' or '}'" : "',' or ']'")
                }
                position += 1
                if isObject {
                    skipWhitespace()
                    _ = try scanString("'\"' starting an object key")
                    skipWhitespace()
                    try expect(.colon, "':' after an object key")
                }
                break
            }
        }
    }
}

/// Which containers are open, object or array; inline for the first 64 levels.
struct NestingStack {
    private var inline: UInt64 = 0
    private var overflow: [Bool] = []
    private(set) var depth = 0

    mutating func push(isObject: Bool) {
        if depth < 64 {
            if isObject { inline |= 1 << UInt64(depth) } else { inline &= ~(1 << UInt64(depth)) }
        } else {
            overflow.append(isObject)
        }
        depth += 1
    }

    mutating func pop() {
        guard depth > 0 else { return }
        depth -= 1
        if depth >= 64 { overflow.removeLast() }
    }

    var top: Bool? {
        guard depth > 0 else { return nil }
        let index = depth - 1
        return index < 64 ? (inline >> UInt64(index)) & 1 == 1 : overflow.last
    }
}

extension UInt8 {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let slash = UInt8(ascii: "/")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let period = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")

    var isDigit: Bool { self >= .zero && self <= UInt8(ascii: "9") }

    var hexValue: UInt8? {
        switch self {
        case .zero...UInt8(ascii: "9"): self - .zero
        case UInt8(ascii: "a")...UInt8(ascii: "f"): self - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): self - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Appends JSON text to a byte array.
enum JSONWriter {
    /// Appends `value` as a JSON string literal (quotes included), escaping `"`, `\` and control characters.
    static func appendString(_ value: String, to output: inout [UInt8]) {
        output.append(.quote)
        for byte in value.utf8 {
            switch byte {
            case .quote: output.append(contentsOf: [.backslash, .quote])
            case .backslash: output.append(contentsOf: [.backslash, .backslash])
            case 0x0A: output.append(contentsOf: [.backslash, UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [.backslash, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [.backslash, UInt8(ascii: "t")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [.backslash, UInt8(ascii: "u"), .zero, .zero])
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(.quote)
    }
}
