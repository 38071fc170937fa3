import Foundation
import OCPP
import Testing

@testable import LoadGuard

enum ReplayFixtures {
    /// `Fixtures/ocpp-traces` in the repository, found from this file's path.
    static var directory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Fixtures/ocpp-traces")
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func scripts(_ name: String) throws -> [ReplayScript] {
        ReplayScript.scripts(from: try ReplayTrace.records(inTrace: try text(name)))
    }
}

@Suite("Replay: comparing responses")
struct ReplayComparisonTests {
    func differences(_ expected: String, _ got: String) -> [FieldDifference] {
        ReplayComparison.differences(expected: Array(expected.utf8), got: Array(got.utf8))
    }

    @Test("the same response, with other volatile values, agrees")
    func volatileValues() {
        #expect(
            differences(
                #"[3,"1",{"currentTime":"2026-11-25T17:57:41Z","interval":300,"status":"Accepted"}]"#,
                #"[3,"1",{"status":"Accepted","interval":300.0,"currentTime":"2027-01-01T00:00:00.123Z"}]"#
            ).isEmpty
        )
        #expect(
            differences(
                #"[3,"6",{"transactionId":1001,"idTagInfo":{"status":"Accepted","expiryDate":"2026-12-01T00:00:00Z"}}]"#,
                #"[3,"6",{"transactionId":7,"idTagInfo":{"status":"Accepted","expiryDate":"2030-01-01T10:00:00+01:00"}}]"#
            ).isEmpty
        )
        #expect(differences(#"[3,"1",{"idTag":"<redacted>"}]"#, #"[3,"1",{"idTag":"ABC"}]"#).isEmpty)
    }

    @Test("volatile values of another type differ")
    func volatileType() {
        #expect(
            differences(#"[3,"6",{"transactionId":1001}]"#, #"[3,"6",{"transactionId":"1001"}]"#) == [
                FieldDifference(path: "$.transactionId", expected: "a number", got: #""1001" (a string)"#)
            ]
        )
    }

    @Test("values, missing and extra members, array lengths are reported with their path")
    func structuralDifferences() {
        let found = differences(
            #"[3,"4",{"idTagInfo":{"status":"Accepted"},"list":[1,2],"gone":true}]"#,
            #"[3,"4",{"idTagInfo":{"status":"Invalid"},"list":[1,3,4],"extra":null}]"#
        )
        #expect(
            found == [
                FieldDifference(path: "$.extra", expected: "absent", got: "null"),
                FieldDifference(path: "$.gone", expected: "true", got: "absent"),
                FieldDifference(path: "$.idTagInfo.status", expected: #""Accepted""#, got: #""Invalid""#),
                FieldDifference(path: "$.list", expected: "2 elements", got: "3 elements"),
                FieldDifference(path: "$.list[1]", expected: "2", got: "3"),
            ]
        )
    }

    @Test("message types and error codes are compared; error descriptions are not")
    func messageTypes() {
        #expect(
            differences(#"[4,"103","NotSupported","x",{}]"#, #"[3,"103",{}]"#) == [
                FieldDifference(path: "messageType", expected: "CALLERROR NotSupported", got: "CALLRESULT")
            ]
        )
        #expect(
            differences(#"[4,"1","NotSupported","x",{}]"#, #"[4,"1","NotImplemented","x",{}]"#) == [
                FieldDifference(path: "errorCode", expected: "NotSupported", got: "NotImplemented")
            ]
        )
        #expect(differences(#"[4,"1","NotSupported","one text",{}]"#, #"[4,"1","NotSupported","another"]"#).isEmpty)
        #expect(differences(#"[3,"1",{}]"#, "not json").first?.path == "frame")
    }
}

@Suite("Replay: scripts from traces")
struct ReplayScriptTests {
    @Test(
        "a LoadGuard trace: every charger call is a step with the recorded response",
        arguments: [
            ("ocpp16_session.jsonl", OCPPVersion.v16), ("ocpp201_session.jsonl", .v201), ("ocpp21_session.jsonl", .v21),
        ]
    )
    func loadGuardTraces(file: String, version: OCPPVersion) throws {
        let scripts = try ReplayFixtures.scripts(file)
        #expect(scripts.count == 1)
        let script = try #require(scripts.first)
        #expect(script.charger == "CP-1")
        #expect(script.version == version)
        #expect(script.steps.count == 11)
        #expect(script.steps.allSatisfy { $0.waitsForAnswer && $0.expected != nil })
        #expect(script.steps.first?.action == "BootNotification")
        let expected = try #require(script.steps.first?.expected)
        #expect((try Envelope(parsing: expected)).messageID == script.steps.first?.messageID)
    }

    @Test(
        "an AcTEC frame log: charger calls, the CSMS's CALLERRORs as expected responses, no answers to unanswered calls"
    )
    func actecBootLog() throws {
        let script = try #require(
            try ReplayFixtures.scripts("actec/actec-ev-ac22k_1.6_boot_callerror_disconnect.jsonl").first
        )
        #expect(script.charger == "Actec")
        #expect(script.version == .v16)
        #expect(script.steps.map { $0.action ?? "" }.filter { $0 == "FirmwareStatusNotification" }.count == 7)
        let firmware = try #require(script.steps.first { $0.action == "FirmwareStatusNotification" })
        #expect(
            firmware.expected.map { String(decoding: $0, as: UTF8.self) }?.hasPrefix(#"[4,"103","NotSupported""#)
                == true
        )
        let lastHeartbeat = try #require(script.steps.last { $0.action == "Heartbeat" })
        #expect(lastHeartbeat.expected == nil)
        #expect(script.answers.isEmpty)
    }

    @Test("an AcTEC frame log: the charger's answers to SetChargingProfile are kept for replay, extra fields and all")
    func actecAnswers() throws {
        let script = try #require(
            try ReplayFixtures.scripts("actec/actec-ev-ac22k_1.6_setchargingprofile_rewrite_nonconformant_conf.jsonl")
                .first
        )
        let answers = try #require(script.answers["SetChargingProfile"])
        #expect(answers.count == 2)
        guard case .result(let payload) = answers[0] else {
            Issue.record("expected a CALLRESULT answer")
            return
        }
        let text = String(decoding: payload, as: UTF8.self)
        #expect(text.contains(#""status":"Accepted""#) && text.contains("chargingSchedule"))
        #expect(script.steps.map(\.action) == ["MeterValues", "MeterValues"])
    }

    @Test(
        "every fixture trace can be read",
        arguments: [
            "ocpp16_session.jsonl", "ocpp201_session.jsonl", "ocpp21_session.jsonl",
            "actec/actec-ev-ac22k_1.6_boot_callerror_disconnect.jsonl",
            "actec/actec-ev-ac22k_1.6_evcc_profiles_ignored.jsonl",
            "actec/actec-ev-ac22k_1.6_setchargingprofile_rewrite_nonconformant_conf.jsonl",
            "actec/actec-ev-ac22k_1.6_stoptransaction_false_reason.jsonl",
        ]
    )
    func fixturesReadable(file: String) throws {
        let records = try ReplayTrace.records(inTrace: try ReplayFixtures.text(file))
        #expect(!records.isEmpty)
    }

    @Test("--charger selects one charger; a line that is no trace is named")
    func selectionAndErrors() throws {
        let records = try ReplayTrace.records(inTrace: try ReplayFixtures.text("ocpp16_session.jsonl"))
        #expect(ReplayScript.scripts(from: records, charger: "CP-9").isEmpty)
        #expect(ReplayScript.scripts(from: records, charger: "CP-1").count == 1)
        #expect(throws: ReplayError.self) { try ReplayTrace.records(inTrace: "\n{\"nope\":1}\n") }
        do {
            _ = try ReplayTrace.records(inTrace: "\n{\"nope\":1}\n")
        } catch {
            #expect(error.description.hasPrefix("trace line 2 "))
        }
    }
}

/// Plays the server side of a replay in tests.
struct SessionDriver {
    var session: ReplaySession
    var sent: [String] = []
    var timers: [String] = []
    var finished = false

    init(_ script: ReplayScript) { session = ReplaySession(script: script) }

    mutating func take(_ actions: [ReplaySession.Action]) {
        for action in actions {
            switch action {
            case .send(let frame): sent.append(String(decoding: frame, as: UTF8.self))
            case .startTimer(let id): timers.append(id)
            case .finished: finished = true
            }
        }
    }

    mutating func receive(_ frame: String) { take(session.received(Array(frame.utf8))) }
}

@Suite("Replay: the session")
struct ReplaySessionTests {
    func script16() throws -> ReplayScript {
        try #require(try ReplayFixtures.scripts("ocpp16_session.jsonl").first)
    }

    @Test("one call at a time; the recorded answers give no differences")
    func sameAnswers() throws {
        let script = try script16()
        var driver = SessionDriver(script)
        driver.take(driver.session.start())
        #expect(driver.sent.count == 1)
        #expect(driver.timers == ["cp-1"])
        for step in script.steps {
            let expected = try #require(step.expected)
            driver.receive(String(decoding: expected, as: UTF8.self))
        }
        #expect(driver.finished)
        #expect(driver.sent.count == 11)
        #expect(driver.session.outcomes.count == 11)
        #expect(driver.session.outcomes.allSatisfy { $0.verdict == .same })
    }

    @Test("a different transaction id is carried into the charger's later frames; differences are reported")
    func transactionIDAndDifferences() throws {
        let script = try script16()
        var driver = SessionDriver(script)
        driver.take(driver.session.start())
        for step in script.steps {
            var answer = String(decoding: try #require(step.expected), as: UTF8.self)
            if step.action == "StartTransaction" { answer = answer.replacingOccurrences(of: "1001", with: "7") }
            if step.action == "StopTransaction" { answer = #"[3,"\#(step.messageID ?? "")",{}]"# }
            driver.receive(answer)
        }
        let later = driver.sent.filter { $0.contains("MeterValues") || $0.contains("StopTransaction") }
        #expect(later.count == 3)
        #expect(later.allSatisfy { $0.contains(#""transactionId":7"#) && !$0.contains("1001") })
        let different = driver.session.outcomes.filter { $0.verdict == .different }
        #expect(different.map(\.action) == ["StopTransaction"])
        #expect(
            different.first?.differences == [
                FieldDifference(path: "$.idTagInfo", expected: #"{"status":"Accepted"}"#, got: "absent")
            ]
        )
    }

    @Test("calls from the server are answered from the trace, else NotImplemented; timeouts and closes are reported")
    func servedCallsAndFailures() throws {
        let script = try #require(
            try ReplayFixtures.scripts("actec/actec-ev-ac22k_1.6_setchargingprofile_rewrite_nonconformant_conf.jsonl")
                .first
        )
        var driver = SessionDriver(script)
        driver.take(driver.session.start())
        #expect(driver.sent.count == 1)
        driver.receive(#"[2,"lg-1","SetChargingProfile",{}]"#)
        #expect(driver.sent.last?.hasPrefix(#"[3,"lg-1",{"#) == true)
        #expect(driver.sent.last?.contains(#""status":"Accepted""#) == true)
        driver.receive(#"[2,"lg-2","GetConfiguration",{}]"#)
        #expect(driver.sent.last?.hasPrefix(#"[4,"lg-2","NotImplemented""#) == true)
        #expect(driver.session.served.map(\.answeredFromTrace) == [true, false])
        driver.take(driver.session.timerFired(messageID: "907"))
        #expect(driver.session.outcomes.map(\.verdict) == [.noResponse])
        driver.session.connectionClosed(reason: "gone")
        #expect(driver.session.outcomes.map(\.verdict) == [.noResponse, .notSent])
        let report = ReplayReport(outcomes: driver.session.outcomes, served: driver.session.served)
        #expect(report.hasDifferences)
        #expect(report.text().contains("Actec MeterValues (id 1024): not_sent"))
        #expect(report.text().hasSuffix("2 calls: 1 no response, 1 not sent\n"))
    }

    @Test("a response that the trace did not record is not compared and is no difference")
    func notCompared() throws {
        let script = try #require(
            try ReplayFixtures.scripts("actec/actec-ev-ac22k_1.6_boot_callerror_disconnect.jsonl").first
        )
        var driver = SessionDriver(script)
        driver.take(driver.session.start())
        while !driver.finished, let id = driver.timers.last {
            let index = driver.timers.count
            driver.receive(#"[3,"\#(id)",{"status":"Accepted","interval":60,"currentTime":"2027-01-01T00:00:00Z"}]"#)
            if driver.timers.count == index, !driver.finished { break }
        }
        let verdicts = driver.session.outcomes.map(\.verdict)
        #expect(verdicts.last == .notCompared)
        #expect(verdicts.filter { $0 == .different }.count == 5)
    }
}
