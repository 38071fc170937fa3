import Foundation
import Testing

@testable import OCPP

@Suite struct RedactorTests {
    let redactor = Redactor()

    func redact(_ text: String) -> String { redactor.redact(frame: [UInt8](text)) }

    @Test func idTagsAreRedactedEverywhereIn16() {
        #expect(
            redact(#"[2,"1","Authorize",{"idTag":"04A2B3C4"}]"#) == #"[2,"1","Authorize",{"idTag":"<redacted>"}]"#
        )
        #expect(
            redact(#"[3,"1",{"idTagInfo":{"status":"Accepted","parentIdTag":"GROUP1"}}]"#)
                == #"[3,"1",{"idTagInfo":{"status":"Accepted","parentIdTag":"<redacted>"}}]"#
        )
        let localList =
            #"[2,"2","SendLocalList",{"listVersion":1,"updateType":"Full","localAuthorizationList":[{"idTag":"A"},{"idTag" : "B\"C"}]}]"#
        #expect(
            redact(localList)
                == #"[2,"2","SendLocalList",{"listVersion":1,"updateType":"Full","localAuthorizationList":[{"idTag":"<redacted>"},{"idTag" : "<redacted>"}]}]"#
        )
    }

    @Test func idTokenValuesAreRedactedIn2x() {
        let event =
            #"[2,"1","TransactionEvent",{"idToken":{"idToken":"DEADBEEF","type":"ISO14443","additionalInfo":[{"additionalIdToken":"X","type":"t"}]},"groupIdToken":{"idToken":"G","type":"Central"},"seqNo":1}]"#
        #expect(
            redact(event)
                == #"[2,"1","TransactionEvent",{"idToken":{"idToken":"<redacted>","type":"ISO14443","additionalInfo":[{"additionalIdToken":"<redacted>","type":"t"}]},"groupIdToken":{"idToken":"<redacted>","type":"Central"},"seqNo":1}]"#
        )
    }

    @Test func passwordsInConfigurationAreRedacted() {
        #expect(
            redact(#"[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"0011223344"}]"#)
                == #"[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"<redacted>"}]"#
        )
        #expect(
            redact(#"[2,"1","ChangeConfiguration",{"value":"0011223344","key":"AuthorizationKey"}]"#)
                == #"[2,"1","ChangeConfiguration",{"value":"<redacted>","key":"AuthorizationKey"}]"#
        )
        #expect(
            redact(#"[2,"1","ChangeConfiguration",{"key":"HeartbeatInterval","value":"300"}]"#)
                == #"[2,"1","ChangeConfiguration",{"key":"HeartbeatInterval","value":"300"}]"#
        )
        let setVariables =
            #"[2,"1","SetVariables",{"setVariableData":[{"attributeValue":"s3cret","component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}},{"attributeValue":"60","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}]"#
        #expect(
            redact(setVariables)
                == #"[2,"1","SetVariables",{"setVariableData":[{"attributeValue":"<redacted>","component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}},{"attributeValue":"60","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}]"#
        )
        #expect(
            redact(#"{"apn":{"apn":"x","apnPassword":"p"},"vpn":{"password":"q"}}"#)
                == #"{"apn":{"apn":"x","apnPassword":"<redacted>"},"vpn":{"password":"<redacted>"}}"#
        )
    }

    @Test func otherValuesAndKeysNamedLikeSecretsInArraysStay() {
        let frame = #"[2,"idTag","DataTransfer",{"vendorId":"idTag","data":["idTag","x"],"idTagged":"y"}]"#
        #expect(redact(frame) == frame)
    }

    @Test func brokenFramesAreRedactedAsFarAsPossible() {
        #expect(redact(#"[2,"1","Authorize",{"idTag":"04A2"#) == #"[2,"1","Authorize",{"idTag":"<redacted>""#)
        #expect(redact(#"}}]]{"idTag":"A",,"idTag":"B""#) == #"}}]]{"idTag":"<redacted>",,"idTag":"<redacted>""#)
        var random = SeededGenerator(seed: 9)
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in
                [UInt8]("{}[]\":,\\idTagvalue").randomElement(using: &random)!
            }
            _ = redactor.redact(frame: bytes)
        }
    }

    @Test func noneModeKeepsEverything() {
        let frame = #"[2,"1","Authorize",{"idTag":"04A2B3C4"}]"#
        #expect(Redactor(mode: .none).redact(frame: [UInt8](frame)) == frame)
        #expect(Redactor(mode: .none).redact(headerName: "Authorization", value: "Basic abc") == "Basic abc")
    }

    @Test func authorizationHeadersKeepOnlyTheirScheme() {
        #expect(redactor.redact(headerName: "Authorization", value: "Basic Q1AtMTpzZWNyZXQ=") == "Basic <redacted>")
        #expect(redactor.redact(headerName: "proxy-authorization", value: "Bearer x") == "Bearer <redacted>")
        #expect(redactor.redact(headerName: "AUTHORIZATION", value: "token") == "<redacted>")
        #expect(redactor.redact(headerName: "Sec-WebSocket-Protocol", value: "ocpp1.6") == "ocpp1.6")
    }

    @Test func theRealWallboxsStopTransactionIsRedacted() throws {
        let frames = try Fixtures.frames(of: "actec-ev-ac22k_1.6_stoptransaction_false_reason.jsonl")
        let text = redactor.redact(frame: frames[0].frame)
        #expect(!text.contains("50600020100021"))
        #expect(text.contains(#""idTag":"<redacted>""#))
        #expect(text.contains(#""transactionId":1759926730"#))
    }
}

@Suite struct TraceRecordTests {
    static let date = Date(timeIntervalSince1970: 1_766_133_355.577)

    @Test func encodesTheDocumentedKeysInOrder() throws {
        let frame = [UInt8](#"[2,"100","Authorize",{"idTag":"04A2"}]"#)
        let record = TraceRecord(
            timestamp: Self.date,
            charger: "CP-1",
            version: .v16,
            direction: .chargerToCSMS,
            origin: .charger,
            frame: frame,
            envelope: try Envelope(parsing: frame)
        )
        #expect(
            record.jsonLine()
                == #"{"ts":"2025-12-19T08:35:55.577Z","charger":"CP-1","version":"ocpp1.6","direction":"charger_to_csms","origin":"charger","type":2,"id":"100","action":"Authorize","frame":"[2,\"100\",\"Authorize\",{\"idTag\":\"<redacted>\"}]"}"#
        )
    }

    @Test func invalidFramesHaveNullEnvelopeFields() throws {
        let record = TraceRecord(
            timestamp: Self.date,
            charger: "CP-1",
            version: nil,
            direction: .toCharger,
            origin: .csms,
            frame: [UInt8]("not json\n"),
            envelope: nil
        )
        let line = record.jsonLine()
        #expect(line.contains(#""version":null"#))
        #expect(line.contains(#""type":null,"id":null,"action":null,"frame":"not json\n"}"#))
        #expect(!line.contains("\n"))
        let object = try #require(try jsonObject(line.utf8) as? [String: Any])
        #expect(object["type"] is NSNull)
        #expect(try TraceRecord(jsonLine: line) == record)
    }

    @Test func linesRoundTrip() throws {
        var random = SeededGenerator(seed: 2)
        for (index, (_, frame)) in try Fixtures.allFrames().enumerated() {
            let record = TraceRecord(
                timestamp: Date(timeIntervalSince1970: 1_700_000_000 + Double(index) * 0.001),
                charger: "Actec",
                version: OCPPVersion.allCases.randomElement(using: &random),
                direction: Direction.allCases.randomElement(using: &random)!,
                origin: Origin.allCases.randomElement(using: &random)!,
                frame: frame,
                envelope: try? Envelope(parsing: frame)
            )
            let line = record.jsonLine()
            #expect(try TraceRecord(jsonLine: line) == record)
            // The JSONEncoder path gives the same object.
            let encoded = try JSONEncoder().encode(record)
            #expect(try jsonObject(encoded) == jsonObject(line.utf8))
        }
    }

    @Test func readingATraceNamesTheBadLine() throws {
        let good = TraceRecord(
            timestamp: Self.date,
            charger: "A",
            version: .v201,
            direction: .toCharger,
            origin: .loadguard,
            messageType: 2,
            messageID: "lg-x-1",
            action: "SetChargingProfile",
            frame: "[]"
        ).jsonLine()
        #expect(try TraceRecord.records(inTrace: good + "\n\n" + good + "\n").count == 2)
        #expect {
            try TraceRecord.records(inTrace: good + "\n" + #"{"ts":"0000-00-00T00:00:00.000Z"}"#)
        } throws: { error in
            "\(error)" == "trace line 2 is not a trace record: key 'ts': expected an RFC 3339 date-time, "
                + "found '0000-00-00T00:00:00.000Z'"
        }
        #expect {
            try TraceRecord.records(inTrace: good.replacingOccurrences(of: "\"charger\":\"A\",", with: ""))
        } throws: { error in
            "\(error)" == "trace line 1 is not a trace record: missing key 'charger'"
        }
        #expect {
            try TraceRecord.records(inTrace: good.replacingOccurrences(of: "ocpp2.0.1", with: "ocpp9"))
        } throws: { error in
            "\(error)".contains("key 'version': expected ocpp1.6, ocpp2.0.1 or ocpp2.1, found 'ocpp9'")
        }
        #expect(throws: TraceRecordError.self) { try TraceRecord.records(inTrace: "garbage") }
    }
}
