import Foundation
import Testing

@testable import OCPP

@Suite struct LocalResponderTests {
    static let now = Date(timeIntervalSince1970: 1_766_133_355.577)

    static func decide(
        _ responder: inout LocalResponder,
        _ frameText: String,
        _ version: OCPPVersion = .v16,
        _ mode: LocalResponder.Mode
    ) throws -> LocalResponder.Decision {
        let frame = [UInt8](frameText)
        return responder.decide(
            frame: frame,
            envelope: try Envelope(parsing: frame),
            version: version,
            mode: mode,
            now: now
        )
    }

    static func answer(_ decision: LocalResponder.Decision) throws -> (text: String, hold: Bool) {
        guard case .answer(let bytes, let hold) = decision else {
            Issue.record("expected an answer, got \(decision)")
            throw CancellationError()
        }
        return (bytes.text, hold)
    }

    @Test func standaloneBootNotificationIsAccepted() throws {
        var responder = LocalResponder(configuration: .init(heartbeatInterval: 60))
        let decision = try Self.decide(
            &responder,
            #"[2,"100","BootNotification",{"chargePointModel":"EV-AC22K","chargePointVendor":"AcTEC"}]"#,
            .v16,
            .standalone
        )
        #expect(
            try Self.answer(decision)
                == (#"[3,"100",{"currentTime":"2025-12-19T08:35:55.577Z","interval":60,"status":"Accepted"}]"#, false)
        )
    }

    @Test func upstreamDownBootNotificationIsPendingAndHeld() throws {
        for version in OCPPVersion.allCases {
            var responder = LocalResponder(configuration: .init(pendingRetryInterval: 20))
            let decision = try Self.decide(&responder, #"[2,"1","BootNotification",{}]"#, version, .upstreamDown)
            let (text, hold) = try Self.answer(decision)
            #expect(text == #"[3,"1",{"currentTime":"2025-12-19T08:35:55.577Z","interval":20,"status":"Pending"}]"#)
            #expect(hold)
            #expect(!text.contains("Accepted"))
        }
    }

    @Test func heartbeatIsAnsweredAndNeverHeld() throws {
        for mode in [LocalResponder.Mode.standalone, .upstreamDown] {
            var responder = LocalResponder()
            let decision = try Self.decide(&responder, #"[2,"102","Heartbeat",{}]"#, .v16, mode)
            #expect(try Self.answer(decision) == (#"[3,"102",{"currentTime":"2025-12-19T08:35:55.577Z"}]"#, false))
        }
    }

    @Test func standaloneAssignsIncreasingTransactionIDs() throws {
        var responder = LocalResponder(firstTransactionID: 41)
        let start =
            #"[2,"5","StartTransaction",{"connectorId":1,"idTag":"X","meterStart":0,"timestamp":"2025-01-01T00:00:00Z"}]"#
        #expect(
            try Self.answer(Self.decide(&responder, start, .v16, .standalone))
                == (#"[3,"5",{"idTagInfo":{"status":"Accepted"},"transactionId":41}]"#, false)
        )
        #expect(
            try Self.answer(Self.decide(&responder, start, .v16, .standalone)).text.contains(#""transactionId":42"#)
        )
        #expect(responder.nextTransactionID == 43)
    }

    @Test func upstreamDownStartTransactionIsHeldNotAnswered() throws {
        var responder = LocalResponder()
        let start =
            #"[2,"5","StartTransaction",{"connectorId":1,"idTag":"X","meterStart":0,"timestamp":"2025-01-01T00:00:00Z"}]"#
        #expect(try Self.decide(&responder, start, .v16, .upstreamDown) == .hold)
        #expect(responder.nextTransactionID == 1)
    }

    @Test func transactionRelatedCallsAreNeverACallErrorInAnyMode() throws {
        let calls: [(OCPPVersion, String)] = [
            (
                .v16,
                #"[2,"1","StopTransaction",{"meterStop":0,"timestamp":"0000-00-00T00:00:00.000Z","transactionId":1}]"#
            ),
            (.v16, #"[2,"2","MeterValues",{"connectorId":1,"transactionId":1,"meterValue":[]}]"#),
            (.v16, #"[2,"3","StartTransaction",{"connectorId":1,"idTag":"X","meterStart":0,"timestamp":"x"}]"#),
            (.v201, #"[2,"4","TransactionEvent",{"eventType":"Started","seqNo":0}]"#),
            (.v21, #"[2,"5","TransactionEvent",{"eventType":"Ended","seqNo":3}]"#),
            (.v201, #"[2,"6","MeterValues",{"evseId":1,"meterValue":[]}]"#),
        ]
        for (version, call) in calls {
            for mode in [LocalResponder.Mode.standalone, .upstreamDown] {
                var responder = LocalResponder()
                let decision = try Self.decide(&responder, call, version, mode)
                if case .answer(let bytes, let hold) = decision {
                    #expect(try Envelope(parsing: bytes).messageType == .callResult, "\(call) \(mode)")
                    #expect(hold == (mode == .upstreamDown), "\(call) \(mode)")
                } else {
                    #expect(decision == .hold && mode == .upstreamDown, "\(call) \(mode)")
                }
            }
        }
    }

    @Test func upstreamDownNotificationsAreAnsweredEmptyAndHeld() throws {
        var responder = LocalResponder()
        for (version, action) in [
            (OCPPVersion.v16, "StatusNotification"), (.v16, "StopTransaction"), (.v16, "FirmwareStatusNotification"),
            (.v201, "StatusNotification"), (.v201, "TransactionEvent"), (.v201, "NotifyEvent"), (.v21, "NotifyReport"),
        ] {
            let decision = try Self.decide(&responder, "[2,\"9\",\"\(action)\",{}]", version, .upstreamDown)
            #expect(try Self.answer(decision) == (#"[3,"9",{}]"#, true), "\(action)")
        }
    }

    @Test func standaloneAuthorizesEveryone() throws {
        var responder = LocalResponder()
        #expect(
            try Self.answer(Self.decide(&responder, #"[2,"a","Authorize",{"idTag":"X"}]"#, .v16, .standalone))
                == (#"[3,"a",{"idTagInfo":{"status":"Accepted"}}]"#, false)
        )
        let authorize201 = #"[2,"a","Authorize",{"idToken":{"idToken":"X","type":"ISO14443"}}]"#
        #expect(
            try Self.answer(Self.decide(&responder, authorize201, .v201, .standalone))
                == (#"[3,"a",{"idTokenInfo":{"status":"Accepted"}}]"#, false)
        )
        let started = #"[2,"t","TransactionEvent",{"eventType":"Started","idToken":{"idToken":"X","type":"ISO14443"}}]"#
        #expect(
            try Self.answer(Self.decide(&responder, started, .v201, .standalone))
                == (#"[3,"t",{"idTokenInfo":{"status":"Accepted"}}]"#, false)
        )
    }

    @Test func upstreamDownAuthorizeIsATruthfulCallError() throws {
        var responder = LocalResponder()
        let decision = try Self.decide(&responder, #"[2,"a","Authorize",{"idTag":"X"}]"#, .v16, .upstreamDown)
        let (text, hold) = try Self.answer(decision)
        let envelope = try Envelope(parsing: [UInt8](text))
        #expect(envelope.error?.code == "InternalError")
        #expect(envelope.error?.description.contains("CSMS unreachable") == true)
        #expect(!hold)
    }

    @Test func dataTransferIsUnknownVendorInStandalone() throws {
        var responder = LocalResponder()
        let decision = try Self.decide(&responder, #"[2,"d","DataTransfer",{"vendorId":"x"}]"#, .v16, .standalone)
        #expect(try Self.answer(decision) == (#"[3,"d",{"status":"UnknownVendorId"}]"#, false))
    }

    @Test func unknownAndUnsupportedActionsGetTheRightErrorCodes() throws {
        var responder = LocalResponder()
        let unknown = try Self.answer(Self.decide(&responder, #"[2,"u","FooBar",{}]"#, .v16, .standalone))
        #expect(try Envelope(parsing: [UInt8](unknown.text)).error?.code == "NotImplemented")
        // TransactionEvent is not a 1.6 action.
        let wrongVersion = try Self.answer(
            Self.decide(&responder, #"[2,"u","TransactionEvent",{}]"#, .v16, .standalone)
        )
        #expect(try Envelope(parsing: [UInt8](wrongVersion.text)).error?.code == "NotImplemented")
        let unsupported = try Self.answer(
            Self.decide(&responder, #"[2,"s","SignCertificate",{"csr":"x"}]"#, .v201, .standalone)
        )
        #expect(try Envelope(parsing: [UInt8](unsupported.text)).error?.code == "NotSupported")
        let unsupportedDown = try Self.answer(
            Self.decide(&responder, #"[2,"s","SignCertificate",{"csr":"x"}]"#, .v201, .upstreamDown)
        )
        #expect(try Envelope(parsing: [UInt8](unsupportedDown.text)).error?.code == "InternalError")
    }

    @Test func connectedModeForwardsEverythingAndResponsesAreNotItsBusiness() throws {
        var responder = LocalResponder()
        #expect(try Self.decide(&responder, #"[2,"1","BootNotification",{}]"#, .v16, .upstreamConnected) == .forward)
        #expect(try Self.decide(&responder, #"[3,"1",{}]"#, .v16, .standalone) == .forward)
        #expect(try Self.decide(&responder, #"[4,"1","X","y",{}]"#, .v16, .upstreamDown) == .forward)
        #expect(
            try Self.decide(&responder, #"[6,"1","NotifyPeriodicEventStream",{}]"#, .v21, .upstreamDown) == .discard
        )
        #expect(
            try Self.decide(&responder, #"[6,"1","NotifyPeriodicEventStream",{}]"#, .v21, .upstreamConnected)
                == .forward
        )
    }

    /// Every call the AcTEC wallbox sent in the traces gets a CALLRESULT in standalone mode (no CALLERROR,
    /// so the wallbox does not close its socket as it did after four NotSupported errors).
    @Test func theRealWallboxsCallsAreAllAnsweredInStandalone() throws {
        var responder = LocalResponder()
        var answered = 0
        for (record, frame) in try Fixtures.allFrames() where record.from == "charger" {
            let envelope = try Envelope(parsing: frame)
            guard envelope.messageType == .call else { continue }
            let decision = responder.decide(
                frame: frame,
                envelope: envelope,
                version: .v16,
                mode: .standalone,
                now: Self.now
            )
            let (text, _) = try Self.answer(decision)
            #expect(try Envelope(parsing: [UInt8](text)).messageType == .callResult, "record \(record.i)")
            answered += 1
        }
        #expect(answered == 14)
    }
}
