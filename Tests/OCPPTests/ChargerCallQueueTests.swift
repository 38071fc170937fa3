import Testing

@testable import OCPP

@Suite struct ChargerCallQueueTests {
    typealias Action = ChargerCallQueue.Action

    static func call(_ id: String, _ action: String = "GetConfiguration") -> [UInt8] {
        [UInt8]("[2,\"\(id)\",\"\(action)\",{}]")
    }

    static func result(_ id: String, _ payload: String = "{\"status\":\"Accepted\"}") -> ([UInt8], Envelope) {
        let frame = [UInt8]("[3,\"\(id)\",\(payload)]")
        return (frame, try! Envelope(parsing: frame))
    }

    static func error(_ id: String) -> ([UInt8], Envelope) {
        let frame = [UInt8]("[4,\"\(id)\",\"NotSupported\",\"nope\",{\"x\":1}]")
        return (frame, try! Envelope(parsing: frame))
    }

    /// The ids sent to the charger by a list of actions.
    static func sent(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .sendToCharger(let id, _) = $0 { id } else { nil } }
    }

    @Test func aCSMSCallIsSentAtOnceAndItsResultForwarded() throws {
        var queue = ChargerCallQueue()
        let frame = Self.call("c1")
        #expect(
            try queue.enqueue(.csms(id: "c1", frame: frame)) == [
                .sendToCharger(id: "c1", frame: frame), .startTimer(id: "c1", seconds: 30),
            ]
        )
        let (response, envelope) = Self.result("c1")
        #expect(
            queue.responseReceived(response, envelope: envelope) == [
                .cancelTimer(id: "c1"), .forwardToCSMS(frame: response),
            ]
        )
        #expect(queue.callInFlight == nil)
    }

    @Test func anInjectedCallsResultGoesToItsWaiterNotToTheCSMS() throws {
        var queue = ChargerCallQueue()
        _ = try queue.enqueue(.controller(id: "lg-1", frame: Self.call("lg-1", "SetChargingProfile")))
        let (response, envelope) = Self.result("lg-1")
        #expect(
            queue.responseReceived(response, envelope: envelope) == [
                .cancelTimer(id: "lg-1"),
                .completeInjected(id: "lg-1", outcome: .result(payload: [UInt8]("{\"status\":\"Accepted\"}"))),
            ]
        )
    }

    @Test func anInjectedCallsErrorGoesToItsWaiter() throws {
        var queue = ChargerCallQueue()
        _ = try queue.enqueue(.controller(id: "lg-1", frame: Self.call("lg-1")))
        let (response, envelope) = Self.error("lg-1")
        #expect(
            queue.responseReceived(response, envelope: envelope) == [
                .cancelTimer(id: "lg-1"),
                .completeInjected(
                    id: "lg-1",
                    outcome: .callError(code: "NotSupported", description: "nope", details: [UInt8]("{\"x\":1}"))
                ),
            ]
        )
    }

    @Test func oneCallInFlightAndCSMSCallsGoBeforeWaitingInjectedCalls() throws {
        var queue = ChargerCallQueue()
        var order: [String] = []
        order += Self.sent(try queue.enqueue(.controller(id: "i1", frame: Self.call("i1"))))
        order += Self.sent(try queue.enqueue(.controller(id: "i2", frame: Self.call("i2"))))
        order += Self.sent(try queue.enqueue(.csms(id: "c1", frame: Self.call("c1"))))
        order += Self.sent(try queue.enqueue(.controller(id: "i3", frame: Self.call("i3"))))
        order += Self.sent(try queue.enqueue(.csms(id: "c2", frame: Self.call("c2"))))
        #expect(order == ["i1"])
        #expect(queue.waitingCSMSCount == 2 && queue.waitingInjectedCount == 2)
        while let (id, _) = queue.callInFlight {
            let (frame, envelope) = Self.result(id)
            order += Self.sent(queue.responseReceived(frame, envelope: envelope))
        }
        #expect(order == ["i1", "c1", "c2", "i2", "i3"])
    }

    /// Property: for any interleaving of enqueues and answers, CSMS calls leave in arrival order, injected calls
    /// leave in arrival order, at most one call is in flight, and a CSMS call never waits behind more than one
    /// injected call sent after it arrived.
    @Test func randomInterleavingsKeepTheOrderingRules() throws {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<300 {
            var queue = ChargerCallQueue(configuration: .init(maximumQueuedInjectedCalls: 1000))
            var csmsArrived: [String] = []
            var injectedArrived: [String] = []
            var sentOrder: [String] = []
            var injectedSentWhileCSMSWaited: [String: Int] = [:]
            var counter = 0
            for _ in 0..<60 {
                var actions: [Action] = []
                switch Int.random(in: 0..<3, using: &random) {
                case 0:
                    counter += 1
                    let id = "c\(counter)"
                    csmsArrived.append(id)
                    injectedSentWhileCSMSWaited[id] = 0
                    actions = try queue.enqueue(.csms(id: id, frame: Self.call(id)))
                case 1:
                    counter += 1
                    let id = "i\(counter)"
                    injectedArrived.append(id)
                    actions = try queue.enqueue(.controller(id: id, frame: Self.call(id)))
                default:
                    guard let (id, _) = queue.callInFlight else { continue }
                    if Bool.random(using: &random) {
                        let (frame, envelope) = Self.result(id)
                        actions = queue.responseReceived(frame, envelope: envelope)
                    } else {
                        actions = queue.timerFired(id: id)
                    }
                }
                let sent = Self.sent(actions)
                #expect(sent.count <= 1)
                for id in sent {
                    sentOrder.append(id)
                    if id.hasPrefix("i") {
                        for waiting in csmsArrived where !sentOrder.contains(waiting) {
                            injectedSentWhileCSMSWaited[waiting, default: 0] += 1
                        }
                    }
                }
            }
            #expect(
                sentOrder.filter { $0.hasPrefix("c") }
                    == Array(csmsArrived.prefix(sentOrder.filter { $0.hasPrefix("c") }.count))
            )
            #expect(
                sentOrder.filter { $0.hasPrefix("i") }
                    == Array(injectedArrived.prefix(sentOrder.filter { $0.hasPrefix("i") }.count))
            )
            #expect(injectedSentWhileCSMSWaited.values.allSatisfy { $0 == 0 })
        }
    }

    @Test func aCSMSCallWaitsAtMostForTheOneInjectedCallInFlight() throws {
        var queue = ChargerCallQueue()
        _ = try queue.enqueue(.controller(id: "i1", frame: Self.call("i1")))
        _ = try queue.enqueue(.controller(id: "i2", frame: Self.call("i2")))
        #expect(try queue.enqueue(.csms(id: "c1", frame: Self.call("c1"))) == [])
        let (frame, envelope) = Self.result("i1")
        #expect(Self.sent(queue.responseReceived(frame, envelope: envelope)) == ["c1"])
    }

    @Test func timeoutFreesTheSlotAndReportsIt() throws {
        var queue = ChargerCallQueue(configuration: .init(callTimeout: 5))
        _ = try queue.enqueue(.csms(id: "c1", frame: Self.call("c1")))
        _ = try queue.enqueue(.controller(id: "i1", frame: Self.call("i1")))
        #expect(
            queue.timerFired(id: "c1") == [
                .reportTimeout(id: "c1", source: .csms),
                .sendToCharger(id: "i1", frame: Self.call("i1")),
                .startTimer(id: "i1", seconds: 5),
            ]
        )
        #expect(
            queue.timerFired(id: "i1") == [
                .reportTimeout(id: "i1", source: .controller), .completeInjected(id: "i1", outcome: .timedOut),
            ]
        )
        #expect(queue.timerFired(id: "i1") == [])
        #expect(queue.timerFired(id: "unknown") == [])
    }

    @Test func lateResponsesAreForwardedForCSMSCallsAndConsumedForInjectedCalls() throws {
        var queue = ChargerCallQueue()
        _ = try queue.enqueue(.csms(id: "c1", frame: Self.call("c1")))
        _ = queue.timerFired(id: "c1")
        _ = try queue.enqueue(.controller(id: "i1", frame: Self.call("i1")))
        _ = queue.timerFired(id: "i1")
        let (lateCSMS, lateCSMSEnvelope) = Self.result("c1")
        #expect(queue.responseReceived(lateCSMS, envelope: lateCSMSEnvelope) == [.forwardToCSMS(frame: lateCSMS)])
        let (lateInjected, lateInjectedEnvelope) = Self.error("i1")
        #expect(
            queue.responseReceived(lateInjected, envelope: lateInjectedEnvelope) == [.discardLateResponse(id: "i1")]
        )
        // Only once: a second response with that id is unknown and goes to the CSMS.
        #expect(
            queue.responseReceived(lateInjected, envelope: lateInjectedEnvelope) == [
                .forwardToCSMS(frame: lateInjected)
            ]
        )
    }

    @Test func rememberedTimedOutIDsAreBounded() throws {
        var queue = ChargerCallQueue(configuration: .init(rememberedTimedOutCalls: 2))
        for id in ["i1", "i2", "i3"] {
            _ = try queue.enqueue(.controller(id: id, frame: Self.call(id)))
            _ = queue.timerFired(id: id)
        }
        let (first, firstEnvelope) = Self.result("i1")
        #expect(queue.responseReceived(first, envelope: firstEnvelope) == [.forwardToCSMS(frame: first)])
        let (third, thirdEnvelope) = Self.result("i3")
        #expect(queue.responseReceived(third, envelope: thirdEnvelope) == [.discardLateResponse(id: "i3")])
    }

    @Test func responsesWithUnknownIDsAreForwardedUnchanged() throws {
        var queue = ChargerCallQueue()
        _ = try queue.enqueue(.controller(id: "i1", frame: Self.call("i1")))
        let (frame, envelope) = Self.result("other")
        #expect(queue.responseReceived(frame, envelope: envelope) == [.forwardToCSMS(frame: frame)])
        #expect(queue.callInFlight?.id == "i1")
    }

    @Test func aCSMSCallWhoseIDLooksInjectedIsStillAnsweredToTheCSMS() throws {
        var queue = ChargerCallQueue()
        let id = "lg-abcdefgh2345-1"
        _ = try queue.enqueue(.csms(id: id, frame: Self.call(id)))
        let (frame, envelope) = Self.result(id)
        #expect(
            queue.responseReceived(frame, envelope: envelope) == [.cancelTimer(id: id), .forwardToCSMS(frame: frame)]
        )
    }

    @Test func callResultErrorNeverCompletesTheCallInFlight() throws {
        var queue = ChargerCallQueue()
        _ = try queue.enqueue(.controller(id: "i1", frame: Self.call("i1")))
        let frame = [UInt8](#"[5,"i1","FormatViolation","x",{}]"#)
        #expect(queue.responseReceived(frame, envelope: try Envelope(parsing: frame)) == [.forwardToCSMS(frame: frame)])
        #expect(queue.callInFlight?.id == "i1")
    }

    @Test func injectedCallsAreBoundedButCSMSCallsAreNever() throws {
        var queue = ChargerCallQueue(configuration: .init(maximumQueuedInjectedCalls: 2))
        _ = try queue.enqueue(.controller(id: "i0", frame: Self.call("i0")))
        _ = try queue.enqueue(.controller(id: "i1", frame: Self.call("i1")))
        _ = try queue.enqueue(.controller(id: "i2", frame: Self.call("i2")))
        #expect(throws: ChargerCallQueueError.injectedQueueFull(limit: 2)) {
            try queue.enqueue(.controller(id: "i3", frame: Self.call("i3")))
        }
        for index in 0..<1000 {
            _ = try queue.enqueue(.csms(id: "c\(index)", frame: Self.call("c\(index)")))
        }
        #expect(queue.waitingCSMSCount == 1000)
    }

    @Test func duplicateInjectedIDsAreRefused() throws {
        var queue = ChargerCallQueue()
        _ = try queue.enqueue(.controller(id: "i1", frame: Self.call("i1")))
        #expect(throws: ChargerCallQueueError.duplicateID("i1")) {
            try queue.enqueue(.controller(id: "i1", frame: Self.call("i1")))
        }
        _ = try queue.enqueue(.controller(id: "i2", frame: Self.call("i2")))
        #expect(throws: ChargerCallQueueError.duplicateID("i2")) {
            try queue.enqueue(.controller(id: "i2", frame: Self.call("i2")))
        }
        // A CSMS call may reuse any id: it is not LoadGuard's to police.
        #expect(throws: Never.self) { try queue.enqueue(.csms(id: "i1", frame: Self.call("i1"))) }
    }

    @Test func disconnectFailsInjectedCallsAndAbandonsCSMSCalls() throws {
        var queue = ChargerCallQueue()
        _ = try queue.enqueue(.controller(id: "i1", frame: Self.call("i1")))
        _ = try queue.enqueue(.csms(id: "c1", frame: Self.call("c1")))
        _ = try queue.enqueue(.controller(id: "i2", frame: Self.call("i2")))
        #expect(
            queue.chargerDisconnected() == [
                .cancelTimer(id: "i1"),
                .completeInjected(id: "i1", outcome: .chargerDisconnected),
                .completeInjected(id: "i2", outcome: .chargerDisconnected),
                .abandonCSMSCalls(ids: ["c1"]),
            ]
        )
        #expect(!queue.isConnected)
        #expect(throws: ChargerCallQueueError.chargerDisconnected) {
            try queue.enqueue(.controller(id: "i3", frame: Self.call("i3")))
        }
        #expect(try queue.enqueue(.csms(id: "c2", frame: Self.call("c2"))) == [.abandonCSMSCalls(ids: ["c2"])])
        queue.chargerConnected()
        #expect(Self.sent(try queue.enqueue(.controller(id: "i3", frame: Self.call("i3")))) == ["i3"])
    }

    @Test func disconnectWhileIdleDoesNothingButChangeState() {
        var queue = ChargerCallQueue()
        #expect(queue.chargerDisconnected() == [])
        #expect(!queue.isConnected)
    }

    @Test func errorsSayWhatToDo() {
        #expect("\(ChargerCallQueueError.injectedQueueFull(limit: 16))".contains("16 injected calls"))
        #expect("\(ChargerCallQueueError.duplicateID("x"))".contains("'x'"))
    }

    /// The boot trace: the CSMS's calls the AcTEC wallbox never answered time out one after the other and do
    /// not block the injected call behind them forever.
    @Test func unansweredCSMSCallsFromTheTraceTimeOut() throws {
        let frames = try Fixtures.frames(of: "actec-ev-ac22k_1.6_boot_callerror_disconnect.jsonl")
            .filter { $0.record.from == "csms" && $0.record.to == "charger" }
            .map(\.frame)
            .filter { (try? Envelope(parsing: $0))?.messageType == .call }
        #expect(frames.count == 2)
        var queue = ChargerCallQueue()
        for frame in frames {
            let envelope = try Envelope(parsing: frame)
            _ = try queue.enqueue(.csms(id: envelope.messageID, frame: frame))
        }
        _ = try queue.enqueue(.controller(id: "lg-x-1", frame: Self.call("lg-x-1", "SetChargingProfile")))
        #expect(Self.sent(queue.timerFired(id: "3871321050")) == ["4001746851"])
        #expect(Self.sent(queue.timerFired(id: "4001746851")) == ["lg-x-1"])
    }
}
