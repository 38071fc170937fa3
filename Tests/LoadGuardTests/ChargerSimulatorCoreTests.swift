import Foundation
import OCPP
import Testing

@testable import LoadGuard

/// Drives a ``SimulatedChargerCore`` as a CSMS would, with a clock that only moves when told.
struct CoreHarness {
    var core: SimulatedChargerCore
    var now: Date
    /// Frames the charger sent and that the test has not looked at yet.
    var sent: [[UInt8]] = []
    var events: [SimulatorEvent] = []

    init(_ configuration: SimulatedChargerConfiguration, start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        core = SimulatedChargerCore(configuration: configuration, start: start)
        now = start
    }

    mutating func take(_ actions: [SimulatedChargerCore.Action]) {
        for action in actions {
            switch action {
            case .send(let frame): sent.append(frame)
            case .event(let event): events.append(event)
            }
        }
    }

    mutating func connect(_ version: OCPPVersion) { take(core.connected(version: version, at: now)) }
    mutating func disconnect() { take(core.disconnected(at: now)) }

    mutating func advance(_ seconds: TimeInterval) {
        now = now.addingTimeInterval(seconds)
        take(core.tick(at: now))
    }

    /// Moves time in steps of `step` until `seconds` passed, answering every call with `answer`.
    mutating func run(_ seconds: TimeInterval, step: TimeInterval = 0.5, answer: (Envelope) -> String? = { _ in "{}" })
    {
        let end = now.addingTimeInterval(seconds)
        while now < end {
            advance(min(step, end.timeIntervalSince(now)))
            answerAll(answer)
        }
    }

    /// The next frame the charger sent: its envelope and payload as text.
    mutating func next() -> (envelope: Envelope, payload: String)? {
        guard !sent.isEmpty else { return nil }
        let frame = sent.removeFirst()
        guard let envelope = try? Envelope(parsing: frame) else { return nil }
        return (envelope, String(decoding: envelope.payload(of: frame), as: UTF8.self))
    }

    /// Takes the next frame, which must be a CALL of `action`.
    mutating func expectCall(_ action: String, sourceLocation: SourceLocation = #_sourceLocation) -> (
        id: String, payload: String
    )? {
        guard let (envelope, payload) = next() else {
            Issue.record("expected \(action), nothing was sent", sourceLocation: sourceLocation)
            return nil
        }
        #expect(envelope.messageType == .call, sourceLocation: sourceLocation)
        #expect(envelope.action == action, "payload: \(payload)", sourceLocation: sourceLocation)
        return (envelope.messageID, payload)
    }

    /// Takes the next frame, which must be a CALL of `action`, or fails the test.
    mutating func call(_ action: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (
        id: String, payload: String
    ) {
        let call = expectCall(action, sourceLocation: sourceLocation)
        return try #require(call, sourceLocation: sourceLocation)
    }

    /// Answers the call with `id`.
    mutating func reply(_ id: String, _ payload: String) {
        take(core.received(Frame.callResult(id: id, payload: Array(payload.utf8)), at: now))
    }

    /// Sends a CSMS call and returns the charger's answer frame (as text).
    mutating func csmsCall(_ action: String, _ payload: String, id: String = "csms-1") -> String {
        take(core.received(Frame.call(id: id, action: action, payload: Array(payload.utf8)), at: now))
        guard let index = sent.firstIndex(where: { (try? Envelope(parsing: $0))?.messageID == id }) else {
            return "no answer"
        }
        return String(decoding: sent.remove(at: index), as: UTF8.self)
    }

    /// Answers every call the charger has sent so far (one at a time, as they come).
    mutating func answerAll(_ answer: (Envelope) -> String? = { _ in "{}" }) {
        var rounds = 0
        while let frame = sent.first, rounds < 100 {
            rounds += 1
            sent.removeFirst()
            guard let envelope = try? Envelope(parsing: frame), envelope.messageType == .call else { continue }
            calls.append((envelope.action ?? "", String(decoding: envelope.payload(of: frame), as: UTF8.self)))
            if let payload = answer(envelope) { reply(envelope.messageID, payload) }
        }
    }

    /// Every call answered by ``answerAll(_:)``: action and payload.
    var calls: [(action: String, payload: String)] = []

    /// Boots with `Accepted` and answers the first StatusNotification.
    mutating func boot(_ version: OCPPVersion = .v16, interval: Int = 300) {
        connect(version)
        guard let boot = expectCall("BootNotification") else { return }
        reply(boot.id, #"{"currentTime":"2027-01-15T08:00:00Z","interval":\#(interval),"status":"Accepted"}"#)
    }
}

/// Standard CSMS answers for a session.
func standardAnswer(_ envelope: Envelope) -> String? {
    switch envelope.action {
    case "Authorize": #"{"idTagInfo":{"status":"Accepted"},"idTokenInfo":{"status":"Accepted"}}"#
    case "StartTransaction": #"{"transactionId":42,"idTagInfo":{"status":"Accepted"}}"#
    case "Heartbeat": #"{"currentTime":"2027-01-15T08:00:00Z"}"#
    default: "{}"
    }
}

func sampled(_ payload: String, _ measurand: String, phase: String? = nil) -> Double? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { return nil }
    let meterValues =
        (object["meterValue"] as? [[String: Any]]) ?? (object["transactionData"] as? [[String: Any]]) ?? []
    for value in meterValues {
        for sample in value["sampledValue"] as? [[String: Any]] ?? [] {
            guard sample["measurand"] as? String == measurand, sample["phase"] as? String == phase else { continue }
            if let text = sample["value"] as? String { return Double(text) }
            if let number = sample["value"] as? Double { return number }
        }
    }
    return nil
}

func field(_ payload: String, _ path: String...) -> Any? {
    var current: Any? = try? JSONSerialization.jsonObject(with: Data(payload.utf8))
    for key in path { current = (current as? [String: Any])?[key] }
    return current
}

@Suite("Simulated charger: OCPP 1.6 behaviour")
struct ChargerSimulatorCoreTests {
    let oneCar = [SimulatedCarConfiguration(energyNeeded: 30_000, maxCurrent: 16, idTag: "TAG-1")]

    @Test("boot: Pending is retried at the interval given; Accepted starts status and heartbeats")
    func bootPendingThenAccepted() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", vendor: "ACME", model: "Box"))
        harness.connect(.v16)
        #expect(harness.events.first == .connected(version: .v16))
        let boot = try harness.call("BootNotification")
        #expect(field(boot.payload, "chargePointVendor") as? String == "ACME")
        #expect(field(boot.payload, "chargePointModel") as? String == "Box")
        harness.reply(boot.id, #"{"currentTime":"2027-01-15T08:00:00Z","interval":5,"status":"Pending"}"#)
        #expect(harness.sent.isEmpty)
        #expect(harness.core.state.connection == .booting)
        harness.advance(4.9)
        #expect(harness.sent.isEmpty)
        harness.advance(0.1)
        let again = try harness.call("BootNotification")
        #expect(again.id != boot.id)
        harness.reply(again.id, #"{"currentTime":"2027-01-15T08:00:00Z","interval":60,"status":"Accepted"}"#)
        #expect(harness.core.state.connection == .accepted)
        let status = try harness.call("StatusNotification")
        #expect(field(status.payload, "status") as? String == "Available")
        #expect(field(status.payload, "connectorId") as? Int == 1)
        harness.reply(status.id, "{}")
        harness.advance(59)
        #expect(harness.sent.isEmpty)
        harness.advance(1)
        _ = try harness.call("Heartbeat")
    }

    @Test("boot: while Rejected the charger answers no CSMS call and boots again after the interval")
    func bootRejected() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1"))
        harness.connect(.v16)
        let boot = try harness.call("BootNotification")
        harness.reply(boot.id, #"{"currentTime":"2027-01-15T08:00:00Z","interval":30,"status":"Rejected"}"#)
        #expect(harness.csmsCall("GetConfiguration", "{}") == "no answer")
        harness.advance(30)
        _ = try harness.call("BootNotification")
    }

    @Test("boot: a CALLERROR or no answer sends the BootNotification again 10 s later")
    func bootFailure() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", callTimeout: .seconds(30)))
        harness.connect(.v16)
        let boot = try harness.call("BootNotification")
        harness.take(
            harness.core.received(
                Frame.callError(id: boot.id, code: .internalError, description: "down"),
                at: harness.now
            )
        )
        #expect(
            harness.events.contains(.callFailed(action: "BootNotification", code: "InternalError", description: "down"))
        )
        harness.advance(9.9)
        #expect(harness.sent.isEmpty)
        harness.advance(0.1)
        _ = try harness.call("BootNotification")
        harness.advance(30)
        #expect(harness.events.contains(.callTimedOut(action: "BootNotification", willRetry: true)))
        harness.advance(10)
        _ = try harness.call("BootNotification")
    }

    @Test("a car: Preparing, Authorize, StartTransaction, Charging, meter values with the CSMS's transaction id")
    func sessionFlow() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", meterInterval: .seconds(10), cars: oneCar))
        harness.boot()
        #expect(harness.events.contains(.carArrived(energyNeeded: 30_000)))
        harness.run(12, answer: standardAnswer)
        let actions = harness.calls.map(\.action)
        #expect(
            Array(actions.prefix(5)) == [
                "StatusNotification", "Authorize", "StartTransaction", "StatusNotification", "MeterValues",
            ]
        )
        #expect(field(harness.calls[0].payload, "status") as? String == "Preparing")
        #expect(field(harness.calls[1].payload, "idTag") as? String == "TAG-1")
        #expect(field(harness.calls[2].payload, "meterStart") as? Int == 0)
        #expect(field(harness.calls[3].payload, "status") as? String == "Charging")
        let meter = harness.calls[4].payload
        #expect(field(meter, "transactionId") as? Int == 42)
        #expect(sampled(meter, "Current.Import", phase: "L1") == 16)
        #expect(sampled(meter, "Current.Import", phase: "L3") == 16)
        #expect(sampled(meter, "Power.Active.Import") == 11_040)
        // 16 A × 3 × 230 V from 2 s after the start (reaction delay) to 10 s: 24.5 Wh.
        #expect(sampled(meter, "Energy.Active.Import.Register").map { abs($0 - 24) <= 1 } == true)
        #expect(harness.core.state.transactionID == "42")
        #expect(harness.events.contains(.sessionStarted(transactionID: nil)))
    }

    @Test("a ChargePointMaxProfile lowers the draw after the reaction delay; below 6 A the car pauses")
    func limitFollowed() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", cars: oneCar))
        harness.boot()
        harness.run(5, answer: standardAnswer)
        #expect(harness.core.state.currents == [16, 16, 16])
        let request = try Frame.encodePayload(
            OCPP16.SetChargingProfileRequest.chargePointMaxProfile(
                limit: .amperes(10),
                profileID: 1,
                stackLevel: 0,
                startSchedule: nil
            )
        )
        let answer = harness.csmsCall("SetChargingProfile", String(decoding: request, as: UTF8.self))
        #expect(answer == #"[3,"csms-1",{"status":"Accepted"}]"#)
        harness.run(1.5, answer: standardAnswer)
        #expect(harness.core.state.limit.amperes == 10)
        #expect(harness.core.state.currents == [16, 16, 16])
        harness.run(1, answer: standardAnswer)
        #expect(harness.core.state.currents == [10, 10, 10])
        #expect(harness.events.contains { if case .limitChanged(_, let to) = $0 { to.amperes == 10 } else { false } })

        let pause = try Frame.encodePayload(
            OCPP16.SetChargingProfileRequest.chargePointMaxProfile(
                limit: .amperes(5),
                profileID: 1,
                stackLevel: 0,
                startSchedule: nil
            )
        )
        _ = harness.csmsCall("SetChargingProfile", String(decoding: pause, as: UTF8.self), id: "csms-2")
        harness.calls = []
        harness.run(3, answer: standardAnswer)
        #expect(harness.core.state.currents == [0, 0, 0])
        #expect(harness.core.state.status == "SuspendedEVSE")
        #expect(harness.calls.contains { $0.action == "StatusNotification" && $0.payload.contains("SuspendedEVSE") })
    }

    @Test("profiles: TxProfile only during a transaction, W limits, ClearChargingProfile {} and by id")
    func profileCalls() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", cars: []))
        harness.boot()
        harness.answerAll()
        let txProfile =
            #"{"connectorId":1,"csChargingProfiles":{"chargingProfileId":5,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":8}]}}}"#
        #expect(harness.csmsCall("SetChargingProfile", txProfile).contains(#""Rejected""#))
        #expect(harness.events.contains { if case .profileRejected = $0 { true } else { false } })
        let watts =
            #"{"connectorId":0,"csChargingProfiles":{"chargingProfileId":6,"stackLevel":2,"chargingProfilePurpose":"ChargePointMaxProfile","chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":4140}]}}}"#
        #expect(harness.csmsCall("SetChargingProfile", watts).contains(#""Accepted""#))
        harness.advance(0.1)
        #expect(abs(harness.core.state.limit.amperes - 6) < 1e-9)
        #expect(harness.csmsCall("ClearChargingProfile", #"{"id":99}"#) == #"[3,"csms-1",{"status":"Unknown"}]"#)
        #expect(harness.csmsCall("ClearChargingProfile", #"{"id":6}"#) == #"[3,"csms-1",{"status":"Accepted"}]"#)
        #expect(harness.csmsCall("SetChargingProfile", watts).contains(#""Accepted""#))
        #expect(harness.csmsCall("ClearChargingProfile", "{}") == #"[3,"csms-1",{"status":"Accepted"}]"#)
        #expect(harness.csmsCall("ClearChargingProfile", "{}") == #"[3,"csms-1",{"status":"Unknown"}]"#)
        harness.advance(0.1)
        #expect(harness.core.state.limit.amperes == 32)
    }

    @Test("GetConfiguration and ChangeConfiguration")
    func configuration() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", meterInterval: .seconds(10)))
        harness.boot()
        harness.answerAll()
        let all = harness.csmsCall("GetConfiguration", "{}")
        #expect(all.contains(#"{"key":"ChargeProfileMaxStackLevel","readonly":true,"value":"8"}"#))
        #expect(
            all.contains(#"{"key":"ChargingScheduleAllowedChargingRateUnit","readonly":true,"value":"Current,Power"}"#)
        )
        #expect(all.contains(#""MeterValuesSampledData""#))
        let some = harness.csmsCall("GetConfiguration", #"{"key":["MeterValueSampleInterval","Foo"]}"#)
        #expect(
            some
                == #"[3,"csms-1",{"configurationKey":[{"key":"MeterValueSampleInterval","readonly":false,"value":"10"}],"unknownKey":["Foo"]}]"#
        )
        #expect(
            harness.csmsCall("ChangeConfiguration", #"{"key":"MeterValueSampleInterval","value":"5"}"#).contains(
                "Accepted"
            )
        )
        #expect(
            harness.csmsCall("ChangeConfiguration", #"{"key":"MeterValueSampleInterval","value":"0"}"#).contains(
                "Rejected"
            )
        )
        #expect(
            harness.csmsCall("ChangeConfiguration", #"{"key":"ChargeProfileMaxStackLevel","value":"3"}"#).contains(
                "Rejected"
            )
        )
        #expect(harness.csmsCall("ChangeConfiguration", #"{"key":"Foo","value":"3"}"#).contains("NotSupported"))
        #expect(
            harness.csmsCall("GetConfiguration", #"{"key":["MeterValueSampleInterval"]}"#).contains(#""value":"5""#)
        )
        #expect(
            harness.csmsCall(
                "ChangeConfiguration",
                #"{"key":"MeterValuesSampledData","value":"Energy.Active.Import.Register"}"#
            )
            .contains("Accepted")
        )
        #expect(
            harness.csmsCall("ChangeConfiguration", #"{"key":"MeterValuesSampledData","value":"Voltage"}"#).contains(
                "Rejected"
            )
        )
    }

    @Test("unknown actions get NotImplemented; malformed payloads FormationViolation; Reset is accepted")
    func errors() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1"))
        harness.boot()
        harness.answerAll()
        let unknown = harness.csmsCall("UpdateFirmware", "{}")
        #expect(unknown.hasPrefix(#"[4,"csms-1","NotImplemented""#))
        let malformed = harness.csmsCall("SetChargingProfile", #"{"connectorId":0}"#)
        #expect(malformed.hasPrefix(#"[4,"csms-1","FormationViolation""#))
        #expect(malformed.contains("csChargingProfiles"))
        #expect(harness.csmsCall("Reset", #"{"type":"Soft"}"#) == #"[3,"csms-1",{"status":"Accepted"}]"#)
    }

    @Test("the car leaves when full: StopTransaction with the exact energy, then Available")
    func carFull() throws {
        let car = SimulatedCarConfiguration(energyNeeded: 500, maxCurrent: 16, idTag: "TAG-1")
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", initialEnergyRegister: 1000, cars: [car]))
        harness.boot()
        harness.run(400, step: 1, answer: standardAnswer)
        let stop = try #require(harness.calls.first { $0.action == "StopTransaction" })
        #expect(field(stop.payload, "meterStop") as? Int == 1500)
        #expect(field(stop.payload, "transactionId") as? Int == 42)
        #expect(field(stop.payload, "reason") as? String == "EVDisconnected")
        let start = try #require(harness.calls.first { $0.action == "StartTransaction" })
        #expect(field(start.payload, "meterStart") as? Int == 1000)
        let statuses = harness.calls.filter { $0.action == "StatusNotification" }.compactMap {
            field($0.payload, "status") as? String
        }
        #expect(statuses == ["Preparing", "Charging", "Available"])
        #expect(harness.core.state.carPresent == false)
        #expect(harness.events.contains(.carLeft(reason: "full")))
    }

    @Test("the car leaves at its departure time; the next one comes after its arrival delay")
    func departureAndNextCar() throws {
        let cars = [
            SimulatedCarConfiguration(energyNeeded: 50_000, maximumStay: .seconds(60), idTag: "FIRST"),
            SimulatedCarConfiguration(arrivalDelay: .seconds(30), energyNeeded: 50_000, idTag: "SECOND"),
        ]
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", cars: cars))
        harness.boot()
        harness.run(59, step: 1, answer: standardAnswer)
        #expect(!harness.calls.contains { $0.action == "StopTransaction" })
        harness.run(2, step: 1, answer: standardAnswer)
        #expect(harness.calls.contains { $0.action == "StopTransaction" })
        #expect(harness.events.contains(.carLeft(reason: "departure time")))
        harness.calls = []
        harness.run(28, step: 1, answer: standardAnswer)
        #expect(!harness.calls.contains { $0.action == "Authorize" })
        harness.run(3, step: 1, answer: standardAnswer)
        #expect(harness.calls.contains { $0.action == "Authorize" && $0.payload.contains("SECOND") })
    }

    @Test("a refused id tag: no session, the car leaves")
    func authorizationRefused() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", cars: oneCar))
        harness.boot()
        harness.run(3) { envelope in
            envelope.action == "Authorize" ? #"{"idTagInfo":{"status":"Invalid"}}"# : "{}"
        }
        #expect(!harness.calls.contains { $0.action == "StartTransaction" })
        #expect(harness.events.contains(.authorizationRefused(status: "Invalid")))
        #expect(!harness.core.state.carPresent)
    }

    @Test("disconnected while charging: meter values wait, after the reconnect the charger boots first")
    func reconnect() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", meterInterval: .seconds(5), cars: oneCar))
        harness.boot()
        harness.run(6, answer: standardAnswer)
        harness.disconnect()
        #expect(harness.core.state.connection == .disconnected)
        for _ in 0..<11 { harness.advance(1) }
        #expect(harness.sent.isEmpty)
        #expect(harness.core.state.currents == [16, 16, 16])
        harness.calls = []
        harness.boot()
        harness.answerAll(standardAnswer)
        let actions = harness.calls.map(\.action)
        #expect(actions.first == "MeterValues")
        #expect(actions.filter { $0 == "MeterValues" }.count == 2)
        #expect(actions.contains("StatusNotification"))
        #expect(
            harness.calls.filter { $0.action == "MeterValues" }.allSatisfy {
                field($0.payload, "transactionId") as? Int == 42
            }
        )
    }

    @Test("a transaction message without answer is sent again, at most 3 times; a heartbeat is dropped")
    func callTimeouts() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", callTimeout: .seconds(30), cars: oneCar))
        harness.boot()
        harness.run(2) { envelope in envelope.action == "StartTransaction" ? nil : standardAnswer(envelope) }
        var starts = harness.calls.filter { $0.action == "StartTransaction" }.count
        #expect(starts == 1)
        harness.run(95) { envelope in envelope.action == "StartTransaction" ? nil : standardAnswer(envelope) }
        starts = harness.calls.filter { $0.action == "StartTransaction" }.count
        #expect(starts == 3)
        #expect(harness.events.contains(.callTimedOut(action: "StartTransaction", willRetry: false)))
    }

    @Test("RemoteStart starts a session for a waiting car; RemoteStop ends it and the car leaves")
    func remoteStartStop() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", cars: oneCar))
        harness.boot()
        // Nobody answers the charger's Authorize: the remote start comes first.
        harness.answerAll { $0.action == "Authorize" ? nil : "{}" }
        #expect(harness.csmsCall("RemoteStartTransaction", #"{"connectorId":2,"idTag":"REMOTE"}"#).contains("Rejected"))
        #expect(harness.csmsCall("RemoteStartTransaction", #"{"idTag":"REMOTE"}"#).contains("Accepted"))
        #expect(harness.csmsCall("RemoteStartTransaction", #"{"idTag":"REMOTE"}"#).contains("Rejected"))
        // The unanswered Authorize times out after 30 s; then the StartTransaction goes out.
        harness.run(32, answer: standardAnswer)
        let start = try #require(harness.calls.first { $0.action == "StartTransaction" })
        #expect(field(start.payload, "idTag") as? String == "REMOTE")
        #expect(harness.csmsCall("RemoteStopTransaction", #"{"transactionId":41}"#).contains("Rejected"))
        #expect(harness.csmsCall("RemoteStopTransaction", #"{"transactionId":42}"#).contains("Accepted"))
        harness.run(1, answer: standardAnswer)
        let stop = try #require(harness.calls.first { $0.action == "StopTransaction" })
        #expect(field(stop.payload, "reason") as? String == "Remote")
        #expect(!harness.core.state.carPresent)
    }

    @Test("TriggerMessage: the requested message follows the answer")
    func triggerMessage() throws {
        var harness = CoreHarness(SimulatedChargerConfiguration(id: "CP-1", cars: oneCar))
        harness.boot()
        harness.run(3, answer: standardAnswer)
        harness.calls = []
        harness.take(
            harness.core.received(
                Frame.call(
                    id: "t1",
                    action: "TriggerMessage",
                    payload: Array(#"{"requestedMessage":"MeterValues"}"#.utf8)
                ),
                at: harness.now
            )
        )
        #expect(String(decoding: harness.sent.removeFirst(), as: UTF8.self) == #"[3,"t1",{"status":"Accepted"}]"#)
        let meter = try harness.call("MeterValues")
        #expect(sampled(meter.payload, "Current.Import", phase: "L2") == 16)
        #expect(meter.payload.contains(#""context":"Trigger""#))
        #expect(
            harness.csmsCall("TriggerMessage", #"{"requestedMessage":"DiagnosticsStatusNotification"}"#).contains(
                "NotImplemented"
            )
        )
    }

    @Test("a 1-phase charger reports L1 only; the draw is limited by the charger's maximum")
    func onePhaseCharger() throws {
        let car = SimulatedCarConfiguration(energyNeeded: 30_000, maxCurrent: 32, idTag: "TAG-1")
        var harness = CoreHarness(
            SimulatedChargerConfiguration(
                id: "CP-1",
                phases: 1,
                maxCurrent: 20,
                meterInterval: .seconds(5),
                cars: [car]
            )
        )
        harness.boot()
        harness.run(6, answer: standardAnswer)
        let meter = try #require(harness.calls.first { $0.action == "MeterValues" })
        #expect(sampled(meter.payload, "Current.Import", phase: "L1") == 20)
        #expect(sampled(meter.payload, "Current.Import", phase: "L2") == nil)
        #expect(sampled(meter.payload, "Power.Active.Import") == 4600)
        #expect(harness.core.state.currents == [20, 0, 0])
    }

    @Test("the configuration names what is wrong")
    func configurationProblems() {
        let bad = SimulatedChargerConfiguration(
            id: "a:b",
            phases: 2,
            maxCurrent: 3,
            meterInterval: .milliseconds(500),
            cars: [SimulatedCarConfiguration(energyNeeded: 0)]
        )
        let problems = bad.problems
        #expect(problems.count == 5)
        #expect(problems.contains { $0.contains("phases must be 1 or 3, found 2") })
        #expect(problems.contains { $0.contains("car 1: energy needed must be positive") })
    }
}

@Suite("Simulated charger: OCPP 2.0.1 behaviour")
struct ChargerSimulatorCore2Tests {
    @Test("a session: Occupied, Authorize, TransactionEvent Started/Updated/Ended, Available")
    func session() throws {
        let car = SimulatedCarConfiguration(energyNeeded: 200, maxCurrent: 16, idTag: "TOKEN-1")
        var harness = CoreHarness(
            SimulatedChargerConfiguration(id: "CP-2", version: .v201, meterInterval: .seconds(5), cars: [car])
        )
        harness.boot(.v201)
        harness.run(120, answer: standardAnswer)
        let actions = harness.calls.map(\.action)
        #expect(Array(actions.prefix(3)) == ["StatusNotification", "Authorize", "TransactionEvent"])
        #expect(field(harness.calls[0].payload, "connectorStatus") as? String == "Occupied")
        #expect(field(harness.calls[1].payload, "idToken", "idToken") as? String == "TOKEN-1")
        let events = harness.calls.filter { $0.action == "TransactionEvent" }.map(\.payload)
        #expect(field(events[0], "eventType") as? String == "Started")
        #expect(field(events[0], "idToken", "idToken") as? String == "TOKEN-1")
        #expect(field(events[0], "evse", "id") as? Int == 1)
        #expect(field(events[0], "transactionInfo", "chargingState") as? String == "EVConnected")
        #expect(events.contains { field($0, "transactionInfo", "chargingState") as? String == "Charging" })
        let periodic = try #require(events.first { field($0, "triggerReason") as? String == "MeterValuePeriodic" })
        #expect(sampled(periodic, "Current.Import", phase: "L1") == 16)
        let ended = try #require(events.last)
        #expect(field(ended, "eventType") as? String == "Ended")
        #expect(field(ended, "transactionInfo", "stoppedReason") as? String == "EVDisconnected")
        #expect(sampled(ended, "Energy.Active.Import.Register") == 200)
        let seqNos = events.compactMap { field($0, "seqNo") as? Int }
        #expect(seqNos == Array(0..<events.count))
        let ids = Set(events.compactMap { field($0, "transactionInfo", "transactionId") as? String })
        #expect(ids.count == 1)
        #expect(
            field(harness.calls.last { $0.action == "StatusNotification" }?.payload ?? "", "connectorStatus") as? String
                == "Available"
        )
    }

    @Test("ChargingStationMaxProfile and TxProfile of the running transaction; GetVariables and SetVariables")
    func profilesAndVariables() throws {
        var harness = CoreHarness(
            SimulatedChargerConfiguration(
                id: "CP-2",
                version: .v201,
                cars: [SimulatedCarConfiguration(energyNeeded: 50_000, maxCurrent: 32)]
            )
        )
        harness.boot(.v201)
        harness.run(3, answer: standardAnswer)
        let max = try Frame.encodePayload(
            OCPP2.SetChargingProfileRequest.chargingStationMaxProfile(
                limit: .amperes(20),
                profileID: 3,
                stackLevel: 0,
                startSchedule: nil
            )
        )
        #expect(harness.csmsCall("SetChargingProfile", String(decoding: max, as: UTF8.self)).contains("Accepted"))
        let transaction = try #require(harness.core.state.transactionID)
        let tx =
            #"{"evseId":1,"chargingProfile":{"id":9,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","transactionId":"\#(transaction)","chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":12}]}]}}"#
        #expect(harness.csmsCall("SetChargingProfile", tx).contains("Accepted"))
        let wrongTx = tx.replacingOccurrences(of: transaction, with: "OTHER")
        #expect(harness.csmsCall("SetChargingProfile", wrongTx).contains("Rejected"))
        harness.run(3, answer: standardAnswer)
        #expect(harness.core.state.limit.amperes == 12)
        #expect(harness.core.state.currents == [12, 12, 12])
        #expect(harness.core.state.limit.source == "TxProfile #9 (stack 0)")

        let get = harness.csmsCall(
            "GetVariables",
            #"{"getVariableData":[{"component":{"name":"SmartChargingCtrlr"},"variable":{"name":"ProfileStackLevel"}},{"component":{"name":"SmartChargingCtrlr"},"variable":{"name":"RateUnit"}},{"component":{"name":"SmartChargingCtrlr"},"variable":{"name":"Entries","instance":"ChargingProfiles"}},{"component":{"name":"Foo"},"variable":{"name":"Bar"}},{"component":{"name":"SmartChargingCtrlr"},"variable":{"name":"Bar"}}]}"#
        )
        #expect(get.contains(#""attributeStatus":"Accepted","attributeValue":"8""#))
        #expect(get.contains(#""attributeValue":"A,W""#))
        #expect(get.contains(#""attributeValue":"24""#))
        #expect(get.contains(#""attributeStatus":"UnknownComponent""#))
        #expect(get.contains(#""attributeStatus":"UnknownVariable""#))
        let set = harness.csmsCall(
            "SetVariables",
            #"{"setVariableData":[{"attributeValue":"2","component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}},{"attributeValue":"3","component":{"name":"SmartChargingCtrlr"},"variable":{"name":"ProfileStackLevel"}}]}"#
        )
        #expect(set.contains(#""attributeStatus":"Accepted""#))
        #expect(set.contains(#""attributeStatus":"Rejected""#))
        harness.calls = []
        harness.run(2.5, answer: standardAnswer)
        #expect(harness.calls.contains { field($0.payload, "triggerReason") as? String == "MeterValuePeriodic" })
    }

    @Test("RequestStartTransaction and RequestStopTransaction")
    func remoteControl() throws {
        var harness = CoreHarness(
            SimulatedChargerConfiguration(id: "CP-2", version: .v201, cars: [SimulatedCarConfiguration()])
        )
        harness.boot(.v201)
        harness.answerAll { $0.action == "Authorize" ? nil : "{}" }
        let start = harness.csmsCall(
            "RequestStartTransaction",
            #"{"remoteStartId":7,"idToken":{"idToken":"R1","type":"Central"}}"#
        )
        let transaction = try #require(harness.core.state.transactionID)
        #expect(start == #"[3,"csms-1",{"status":"Accepted","transactionId":"\#(transaction)"}]"#)
        // The unanswered Authorize times out after 30 s; then the TransactionEvent goes out.
        harness.run(32, answer: standardAnswer)
        let started = try #require(harness.calls.first { $0.action == "TransactionEvent" })
        #expect(field(started.payload, "triggerReason") as? String == "RemoteStart")
        #expect(field(started.payload, "transactionInfo", "remoteStartId") as? Int == 7)
        #expect(harness.csmsCall("RequestStopTransaction", #"{"transactionId":"nope"}"#).contains("Rejected"))
        #expect(
            harness.csmsCall("RequestStopTransaction", #"{"transactionId":"\#(transaction)"}"#).contains("Accepted")
        )
        harness.run(1, answer: standardAnswer)
        let ended = try #require(harness.calls.last { $0.action == "TransactionEvent" })
        #expect(field(ended.payload, "triggerReason") as? String == "RemoteStop")
        #expect(harness.csmsCall("GetConfiguration", "{}").hasPrefix(#"[4,"csms-1","NotImplemented""#))
        #expect(harness.csmsCall("SetChargingProfile", #"{"evseId":"x"}"#).hasPrefix(#"[4,"csms-1","FormatViolation""#))
    }
}
