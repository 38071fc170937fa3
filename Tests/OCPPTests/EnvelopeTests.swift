import Foundation
import Testing

@testable import OCPP

@Suite struct EnvelopeTests {
    @Test func call() throws {
        let frame = [UInt8](
            #"[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"M"}]"#
        )
        let envelope = try Envelope(parsing: frame)
        #expect(envelope.messageType == .call)
        #expect(envelope.messageID == "19223201")
        #expect(envelope.action == "BootNotification")
        #expect(envelope.error == nil)
        #expect(Array(envelope.payload(of: frame)).text == #"{"chargePointVendor":"VendorX","chargePointModel":"M"}"#)
    }

    @Test func callResultWithWhitespaceEverywhere() throws {
        let frame = [UInt8](" \n[ 3 ,\t\"abc\" ,\r\n { \"currentTime\" : \"2025-01-01T00:00:00Z\" } ] \n")
        let envelope = try Envelope(parsing: frame)
        #expect(envelope.messageType == .callResult)
        #expect(envelope.messageID == "abc")
        #expect(envelope.action == nil)
        #expect(Array(envelope.payload(of: frame)).text == #"{ "currentTime" : "2025-01-01T00:00:00Z" }"#)
    }

    @Test func callError() throws {
        let frame = [UInt8](#"[4,"103","NotSupported","Unsupported feature FirmwareStatusNotification",{"a":[1,2]}]"#)
        let envelope = try Envelope(parsing: frame)
        #expect(envelope.messageType == .callError)
        #expect(
            envelope.error == .init(code: "NotSupported", description: "Unsupported feature FirmwareStatusNotification")
        )
        #expect(Array(envelope.payload(of: frame)).text == #"{"a":[1,2]}"#)
    }

    @Test func callErrorWithoutDetailsIsAccepted() throws {
        let frame = [UInt8](#"[4,"7","InternalError","boom"]"#)
        let envelope = try Envelope(parsing: frame)
        #expect(envelope.error?.code == "InternalError")
        #expect(envelope.payloadRange.isEmpty)
        #expect(envelope.payloadRange.lowerBound == frame.count - 1)
    }

    @Test func ocpp21CallResultErrorAndSend() throws {
        let resultError = try Envelope(parsing: [UInt8](#"[5,"x1","FormatViolation","bad",{}]"#))
        #expect(resultError.messageType == .callResultError)
        #expect(resultError.error?.description == "bad")
        let send = try Envelope(
            parsing: [UInt8](
                #"[6,"s1","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"2025-01-01T00:00:00Z","data":[]}]"#
            )
        )
        #expect(send.messageType == .send)
        #expect(send.action == "NotifyPeriodicEventStream")
        #expect(MessageType.send.hasAction && !MessageType.send.isResponse)
        #expect(MessageType.callResultError.isResponse)
    }

    @Test func escapedMessageIDsAreDecoded() throws {
        let frame = [UInt8](#"[3,"a\"b\\c\/d\u00e9\ud83d\ude00\n",{}]"#)
        let envelope = try Envelope(parsing: frame)
        #expect(envelope.messageID == "a\"b\\c/d\u{e9}\u{1F600}\n")
    }

    @Test func loneSurrogateBecomesReplacementCharacter() throws {
        let envelope = try Envelope(parsing: [UInt8](#"[3,"x\ud800y",{}]"#))
        #expect(envelope.messageID == "x\u{FFFD}y")
    }

    @Test func payloadMayBeAnyJSONValue() throws {
        for payload in ["[]", "null", "true", "false", "-1.5e+3", "\"s\"", "{\"a\":{\"b\":[{},[],\"]\"]}}"] {
            let frame = [UInt8]("[3,\"1\",\(payload)]")
            let envelope = try Envelope(parsing: frame)
            #expect(Array(envelope.payload(of: frame)).text == payload)
        }
    }

    @Test func parsesFromNonContiguousCollectionsAndRawBuffers() throws {
        let frame = [UInt8](#"[2,"1","Heartbeat",{}]"#)
        let reversedTwice = frame.reversed().reversed()
        let fromCollection = try Envelope(parsing: Array(reversedTwice).reversed().reversed())
        let fromRaw = try frame.withUnsafeBytes { try Envelope(parsing: $0) }
        let fromSlice = try Envelope(parsing: ([UInt8]("xx") + frame)[2...])
        #expect(fromCollection == fromRaw)
        #expect(fromSlice == fromRaw)
        #expect(fromRaw.action == "Heartbeat")
        let slice = ([UInt8]("xx") + frame)[2...]
        #expect(Array(fromSlice.payload(of: slice)).text == "{}")
    }

    struct Failure: CustomTestStringConvertible, Sendable {
        var frame: String
        var kind: EnvelopeError.Kind
        var offset: Int
        var testDescription: String { frame }
    }

    @Test(arguments: [
        Failure(frame: "", kind: .empty, offset: 0),
        Failure(frame: "  \n", kind: .empty, offset: 3),
        Failure(frame: "{}", kind: .unexpectedByte, offset: 0),
        Failure(frame: "[", kind: .unexpectedEnd, offset: 1),
        Failure(frame: "[\"2\",\"1\",\"Heartbeat\",{}]", kind: .invalidMessageType, offset: 1),
        Failure(frame: "[7,\"1\",{}]", kind: .invalidMessageType, offset: 1),
        Failure(frame: "[2.0,\"1\",\"Heartbeat\",{}]", kind: .invalidMessageType, offset: 1),
        Failure(frame: "[-3,\"1\",{}]", kind: .invalidMessageType, offset: 1),
        Failure(frame: "[3 \"1\",{}]", kind: .unexpectedByte, offset: 3),
        Failure(frame: "[3,1,{}]", kind: .unexpectedByte, offset: 3),
        Failure(frame: "[2,\"1\",{}]", kind: .unexpectedByte, offset: 7),
        Failure(frame: "[2,\"1\",\"Heartbeat\"]", kind: .unexpectedByte, offset: 18),
        Failure(frame: "[3,\"1\",{\"a\":}]", kind: .unexpectedByte, offset: 12),
        Failure(frame: "[3,\"1\",{\"a\":1]", kind: .unexpectedByte, offset: 13),
        Failure(frame: "[3,\"1\",{},{}]", kind: .unexpectedByte, offset: 9),
        Failure(frame: "[3,\"1\",{}] x", kind: .trailingData, offset: 11),
        Failure(frame: "[3,\"1\",{}]]", kind: .trailingData, offset: 10),
        Failure(frame: "[3,\"1\\q\",{}]", kind: .invalidEscape, offset: 6),
        Failure(frame: "[3,\"1\\u12g4\",{}]", kind: .invalidEscape, offset: 9),
        Failure(frame: "[3,\"1\n\",{}]", kind: .unexpectedByte, offset: 5),
        Failure(frame: "[3,\"1\",01]", kind: .unexpectedByte, offset: 8),
        Failure(frame: "[3,\"1\",1.]", kind: .invalidNumber, offset: 9),
        Failure(frame: "[3,\"1\",tru]", kind: .unexpectedByte, offset: 10),
        Failure(frame: "[3,\"1\",{\"a\":[1,2}]", kind: .unexpectedByte, offset: 16),
        Failure(frame: "[4,\"1\",\"Code\"]", kind: .unexpectedByte, offset: 13),
        Failure(frame: "[3,\"1\",{}", kind: .unexpectedEnd, offset: 9),
        Failure(frame: "[3,\"1", kind: .unexpectedEnd, offset: 5),
    ])
    func malformedFramesAreTypedErrors(failure: Failure) {
        #expect {
            try Envelope(parsing: [UInt8](failure.frame))
        } throws: { error in
            guard let error = error as? EnvelopeError else { return false }
            return error.kind == failure.kind && error.offset == failure.offset
        }
    }

    @Test func errorMessageSaysWhereWhatWasExpectedAndWhatWasFound() {
        #expect {
            try Envelope(parsing: [UInt8](#"[2,"1",{}]"#))
        } throws: { error in
            (error as? EnvelopeError)?.description
                == "not an OCPP-J frame: at byte 7 expected the action name as a string, found '{'"
        }
        #expect {
            try Envelope(parsing: [UInt8](#"[9,"1",{}]"#))
        } throws: { error in
            (error as? EnvelopeError)?.description
                == "not an OCPP-J frame: at byte 1 expected the message type number (2, 3, 4, 5 or 6), found 9"
        }
        #expect {
            try Envelope(parsing: [UInt8]("[3,\"1\",{}"))
        } throws: { error in
            (error as? EnvelopeError)?.found == "end of frame"
        }
    }

    @Test func deepNestingDoesNotOverflowTheStack() throws {
        let depth = 100_000
        let payload = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let frame = [UInt8]("[3,\"1\",\(payload)]")
        let envelope = try Envelope(parsing: frame)
        #expect(envelope.payloadRange.count == depth * 2)
        let mixed = String(repeating: "{\"a\":[", count: 200) + String(repeating: "]}", count: 200)
        #expect(throws: Never.self) { try Envelope(parsing: [UInt8]("[3,\"1\",\(mixed)]")) }
        let unbalanced = String(repeating: "{\"a\":[", count: 200) + String(repeating: "}]", count: 200)
        #expect(throws: EnvelopeError.self) { try Envelope(parsing: [UInt8]("[3,\"1\",\(unbalanced)]")) }
    }

    @Test func oneMebibyteFrame() throws {
        let value = #"{"value":"230.1","measurand":"Voltage","phase":"L1-N","unit":"V"}"#
        let values = Array(repeating: value, count: (1 << 20) / value.utf8.count + 1)
        let frame = [UInt8](
            #"[2,"mv","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2025-01-01T00:00:00Z","sampledValue":["#
                + values.joined(separator: ",") + "]}]}]"
        )
        let envelope = try Envelope(parsing: frame)
        #expect(envelope.action == "MeterValues")
        #expect(envelope.payloadRange.upperBound == frame.count - 1)
    }

    @Test func everyFrameOfTheRealChargerTracesParses() throws {
        let frames = try Fixtures.allFrames()
        #expect(frames.count == 34)
        for (record, frame) in frames {
            let envelope = try Envelope(parsing: frame)
            let array = try #require(try jsonObject(frame) as? [Any])
            #expect(envelope.messageType.rawValue == array[0] as? Int, "record \(record.i)")
            #expect(envelope.messageID == array[1] as? String, "record \(record.i)")
            if envelope.messageType.hasAction {
                #expect(envelope.action == array[2] as? String)
            }
            let payload = try jsonObject(envelope.payload(of: frame))
            #expect(payload == (array.last as! NSObject), "record \(record.i)")
        }
    }

    @Test func everyStrictPrefixOfAValidFrameIsRejected() throws {
        for (_, frame) in try Fixtures.allFrames() {
            for length in 0..<frame.count {
                #expect(throws: EnvelopeError.self) { try Envelope(parsing: frame[..<length]) }
            }
        }
    }

    /// Random garbage, mutated and spliced frames: the parser must never trap, and whatever it accepts must be
    /// a JSON array that Foundation's parser also accepts, with the same id. (The envelope does not insist on
    /// valid UTF-8, Foundation does: such inputs are only checked for not trapping.)
    @Test func randomizedInputNeverCrashesAndAcceptsOnlyValidJSON() throws {
        var random = SeededGenerator(seed: 0x0C99)
        let seeds =
            try Fixtures.allFrames().map(\.frame) + [
                [UInt8](#"[4,"1","GenericError","x",{}]"#), [UInt8](#"[3,"\u00e9\"",[1,-2.5e3,true,null]]"#),
            ]
        let alphabet = [UInt8]("[]{}\",:\\/ u0123456789.eE+-truefalsn\t\n\r") + [0x00, 0x1F, 0x7F, 0xC3, 0xFF]
        var accepted = 0
        for round in 0..<20_000 {
            var input: [UInt8]
            switch round % 4 {
            case 0:
                input = (0..<Int.random(in: 0...40, using: &random)).map { _ in alphabet.randomElement(using: &random)!
                }
            case 1:
                input = seeds.randomElement(using: &random)!
                for _ in 0..<Int.random(in: 1...3, using: &random) where !input.isEmpty {
                    let index = Int.random(in: 0..<input.count, using: &random)
                    input[index] = alphabet.randomElement(using: &random)!
                }
            case 2:
                input = seeds.randomElement(using: &random)!
                input = Array(input[..<Int.random(in: 0...input.count, using: &random)])
            default:
                let a = seeds.randomElement(using: &random)!
                let b = seeds.randomElement(using: &random)!
                input =
                    Array(a[..<Int.random(in: 0...a.count, using: &random)])
                    + Array(b[Int.random(in: 0...b.count, using: &random)...])
            }
            guard let envelope = try? Envelope(parsing: input) else { continue }
            accepted += 1
            guard String(validating: input, as: UTF8.self) != nil else { continue }
            // Foundation refuses numbers beyond Double's range, which JSON allows: compare without exponents.
            let array = try #require(
                try? JSONSerialization.jsonObject(
                    with: Data(Self.removingExponents(input)),
                    options: [.fragmentsAllowed]
                )
                    as? [Any],
                "accepted but not a JSON array: \(input.text)"
            )
            #expect(array[1] as? String == envelope.messageID, "\(input.text)")
            #expect(envelope.payloadRange.upperBound <= input.count)
        }
        #expect(accepted > 100)
    }

    /// The input with the exponent of every number removed (`1.5e300` becomes `1.5`); strings are left alone.
    static func removingExponents(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var inString = false
        var index = 0
        while index < input.count {
            let byte = input[index]
            if inString {
                output.append(byte)
                if byte == UInt8(ascii: "\\"), index + 1 < input.count {
                    output.append(input[index + 1])
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                output.append(byte)
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E"), let last = output.last, last.isDigit {
                index += 1
                while index < input.count,
                    input[index].isDigit || input[index] == UInt8(ascii: "+")
                        || input[index] == UInt8(ascii: "-")
                {
                    index += 1
                }
                continue
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    @Test func removingExponentsHelper() {
        #expect(Self.removingExponents([UInt8](#"[1e5,"1e5",-2.5E-3,"a\"e1"]"#)).text == #"[1,"1e5",-2.5,"a\"e1"]"#)
    }
}

@Suite struct FrameTests {
    @Test func callBuilderRoundTrips() throws {
        let frame = Frame.call(id: "lg-1", action: "SetChargingProfile", payload: [UInt8](#"{"connectorId":0}"#))
        #expect(frame.text == #"[2,"lg-1","SetChargingProfile",{"connectorId":0}]"#)
        let envelope = try Envelope(parsing: frame)
        #expect(envelope.action == "SetChargingProfile")
    }

    @Test func callResultAndErrorBuilders() throws {
        #expect(Frame.callResult(id: "9", payload: Frame.emptyObject).text == #"[3,"9",{}]"#)
        #expect(
            Frame.callError(id: "9", code: .notImplemented, description: "Unknown action Foo").text
                == #"[4,"9","NotImplemented","Unknown action Foo",{}]"#
        )
        #expect(
            Frame.callResultError(id: "9", code: .formatViolation, description: "x", details: [UInt8]("[]")).text
                == #"[5,"9","FormatViolation","x",[]]"#
        )
        #expect(Frame.send(id: "s", action: "A", payload: [UInt8]("{}")).text == #"[6,"s","A",{}]"#)
        #expect(CallErrorCode.formatViolation(for: .v16) == "FormationViolation")
        #expect(CallErrorCode.formatViolation(for: .v201) == "FormatViolation")
    }

    @Test func stringsAreEscaped() throws {
        let description = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é 😀"
        let frame = Frame.callError(id: "a\"b", code: "Code\\", description: description)
        let envelope = try Envelope(parsing: frame)
        #expect(envelope.messageID == "a\"b")
        #expect(envelope.error == .init(code: "Code\\", description: description))
        let array = try #require(try jsonObject(frame) as? [Any])
        #expect(array[3] as? String == description)
    }

    struct Payload: Encodable {
        var b: String
        var a: Int
        var url: String
    }

    @Test func encodablePayloadsAreSortedAndSlashesUnescaped() throws {
        let frame = try Frame.call(id: "1", action: "X", encoding: Payload(b: "x", a: 1, url: "ws://h/p"))
        #expect(frame.text == #"[2,"1","X",{"a":1,"b":"x","url":"ws://h/p"}]"#)
        let result = try Frame.callResult(id: "1", encoding: ["status": "Accepted"])
        #expect(result.text == #"[3,"1",{"status":"Accepted"}]"#)
    }

    @Test func unencodableValuesAreTypedErrors() {
        #expect(throws: FrameEncodingError.self) {
            try Frame.callResult(id: "1", encoding: ["x": Double.nan])
        }
    }
}
