/// The OCPP-J message type, the first element of every frame.
public enum MessageType: Int, Sendable, Hashable, Codable, CaseIterable {
    /// `[2, id, action, payload]`: a request.
    case call = 2
    /// `[3, id, payload]`: the answer to a call.
    case callResult = 3
    /// `[4, id, errorCode, errorDescription, errorDetails]`: a call could not be answered.
    case callError = 4
    /// `[5, id, errorCode, errorDescription, errorDetails]` (OCPP 2.1): the CALLRESULT of a call could not be
    /// processed by its receiver.
    case callResultError = 5
    /// `[6, id, action, payload]` (OCPP 2.1): a request that is never answered.
    case send = 6

    /// `true` for the message types that answer a call (CALLRESULT, CALLERROR, CALLRESULTERROR).
    public var isResponse: Bool { self == .callResult || self == .callError || self == .callResultError }

    /// `true` for the message types that carry an action (CALL, SEND).
    public var hasAction: Bool { self == .call || self == .send }
}

/// The envelope of one OCPP-J frame, `[type, id, action?, payload]`, read from its bytes without decoding the
/// payload.
///
/// Parsing is a single pass over the bytes: the message type, id and action (and for CALLERROR the error code
/// and description) are decoded, the payload is only checked for JSON syntax and located as a byte range.
/// The proxy uses the envelope to route and observe, and forwards the original bytes unchanged.
///
/// Real-world leniency: the payload may be any JSON value (the specification says object); a CALLERROR that
/// leaves out its details is accepted (``payloadRange`` is then empty); bytes that are not valid UTF-8 inside
/// strings are accepted (decoded ids and actions then contain U+FFFD), so a charger that writes Latin-1 into a
/// description is still routed. Anything else that is not an OCPP-J
/// array is an ``EnvelopeError``, and the proxy forwards such a frame unchanged and logs it.
public struct Envelope: Sendable, Hashable {
    /// The code and description of a CALLERROR or CALLRESULTERROR.
    public struct ErrorInfo: Sendable, Hashable {
        public var code: String
        public var description: String

        public init(code: String, description: String) {
            self.code = code
            self.description = description
        }
    }

    /// The message type (first element).
    public var messageType: MessageType
    /// The message id (second element), unescaped.
    public var messageID: String
    /// The action of a CALL or SEND; `nil` for responses.
    public var action: String?
    /// Code and description of a CALLERROR or CALLRESULTERROR; `nil` otherwise.
    public var error: ErrorInfo?
    /// Byte offsets, from the start of the frame, of the payload (CALL, CALLRESULT, SEND) or of the error
    /// details (CALLERROR, CALLRESULTERROR; empty when the sender left them out).
    public var payloadRange: Range<Int>

    public init(
        messageType: MessageType,
        messageID: String,
        action: String? = nil,
        error: ErrorInfo? = nil,
        payloadRange: Range<Int>
    ) {
        self.messageType = messageType
        self.messageID = messageID
        self.action = action
        self.error = error
        self.payloadRange = payloadRange
    }

    /// Parses the envelope of a frame.
    ///
    /// - Parameter bytes: the frame's text as UTF-8 bytes (a WebSocket text message).
    /// - Throws: ``EnvelopeError`` saying where the frame stopped being OCPP-J and what was expected there.
    public init(parsing bytes: some RandomAccessCollection<UInt8>) throws(EnvelopeError) {
        let result: Result<Envelope, EnvelopeError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(EnvelopeError) in try Envelope.parse(buffer) }
        }
        if let result {
            self = try result.get()
        } else {
            self = try Array(bytes).withUnsafeBufferPointer { buffer throws(EnvelopeError) in
                try Envelope.parse(buffer)
            }
        }
    }

    /// Parses the envelope of a frame held in an array (the common case, without generic dispatch).
    public init(parsing bytes: [UInt8]) throws(EnvelopeError) {
        self = try bytes.withUnsafeBufferPointer { buffer throws(EnvelopeError) in try Envelope.parse(buffer) }
    }

    /// Parses the envelope of a frame held in raw memory (for example a NIO `ByteBuffer`'s readable bytes).
    public init(parsing bytes: UnsafeRawBufferPointer) throws(EnvelopeError) {
        self = try Envelope.parse(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// The payload (or error details) bytes of `frame`, the frame this envelope was parsed from.
    public func payload<Bytes: RandomAccessCollection<UInt8>>(of frame: Bytes) -> Bytes.SubSequence {
        let lower = frame.index(frame.startIndex, offsetBy: payloadRange.lowerBound)
        let upper = frame.index(frame.startIndex, offsetBy: payloadRange.upperBound)
        return frame[lower..<upper]
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(EnvelopeError) -> Envelope {
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        if scanner.isAtEnd {
            throw scanner.error(.empty, expected: "'[' starting an OCPP-J frame")
        }
        try scanner.expect(.openBracket, "'[' starting an OCPP-J frame")
        scanner.skipWhitespace()

        let typeStart = scanner.position
        let typeRange: Range<Int>
        do {
            typeRange = try scanner.scanNumber()
        } catch {
            throw EnvelopeError(
                kind: error.kind == .unexpectedEnd ? .unexpectedEnd : .invalidMessageType,
                offset: typeStart,
                expected: "the message type number (2, 3, 4, 5 or 6)",
                found: error.found
            )
        }
        var typeValue = 0
        for index in typeRange {
            let byte = bytes[index]
            guard byte.isDigit, typeValue < 100 else {
                typeValue = -1
                break
            }
            typeValue = typeValue * 10 + Int(byte - .zero)
        }
        guard let messageType = MessageType(rawValue: typeValue) else {
            throw EnvelopeError(
                kind: .invalidMessageType,
                offset: typeStart,
                expected: "the message type number (2, 3, 4, 5 or 6)",
                found: String(decoding: UnsafeBufferPointer(rebasing: bytes[typeRange]), as: UTF8.self)
            )
        }

        scanner.skipWhitespace()
        try scanner.expect(.comma, "',' after the message type")
        scanner.skipWhitespace()
        let messageID = try scanner.readString("the message id as a string")
        scanner.skipWhitespace()

        var action: String?
        var error: ErrorInfo?
        let payloadRange: Range<Int>
        switch messageType {
        case .call, .send:
            try scanner.expect(.comma, "',' after the message id")
            scanner.skipWhitespace()
            action = try scanner.readString("the action name as a string")
            scanner.skipWhitespace()
            try scanner.expect(.comma, "',' after the action")
            payloadRange = try scanner.skipValue()
        case .callResult:
            try scanner.expect(.comma, "',' after the message id")
            payloadRange = try scanner.skipValue()
        case .callError, .callResultError:
            try scanner.expect(.comma, "',' after the message id")
            scanner.skipWhitespace()
            let code = try scanner.readString("the error code as a string")
            scanner.skipWhitespace()
            try scanner.expect(.comma, "',' after the error code")
            scanner.skipWhitespace()
            let description = try scanner.readString("the error description as a string")
            error = ErrorInfo(code: code, description: description)
            scanner.skipWhitespace()
            if scanner.current == .closeBracket {
                payloadRange = scanner.position..<scanner.position
            } else {
                try scanner.expect(.comma, "',' or ']' after the error description")
                payloadRange = try scanner.skipValue()
            }
        }
        scanner.skipWhitespace()
        try scanner.expect(.closeBracket, "']' closing the frame")
        scanner.skipWhitespace()
        guard scanner.isAtEnd else {
            throw scanner.error(.trailingData, expected: "the end of the frame after ']'")
        }
        return Envelope(
            messageType: messageType,
            messageID: messageID,
            action: action,
            error: error,
            payloadRange: payloadRange
        )
    }
}

/// A frame that is not OCPP-J: where it went wrong, what was expected there, and what was found.
public struct EnvelopeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem.
    public enum Kind: Sendable, Hashable {
        /// The frame is empty or only whitespace.
        case empty
        /// The frame ended before the envelope was complete.
        case unexpectedEnd
        /// A byte that cannot appear at this position.
        case unexpectedByte
        /// The first element is not 2, 3, 4, 5 or 6.
        case invalidMessageType
        /// A malformed JSON number.
        case invalidNumber
        /// A malformed escape sequence in a string.
        case invalidEscape
        /// Bytes other than whitespace after the closing `]`.
        case trailingData
    }

    public var kind: Kind
    /// Byte offset from the start of the frame.
    public var offset: Int
    /// What the parser expected at ``offset``.
    public var expected: String
    /// What it found there (a character, a byte value, or "end of frame").
    public var found: String

    public init(kind: Kind, offset: Int, expected: String, found: String) {
        self.kind = kind
        self.offset = offset
        self.expected = expected
        self.found = found
    }

    public var description: String {
        "not an OCPP-J frame: at byte \(offset) expected \(expected), found \(found)"
    }
}
