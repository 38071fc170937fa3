import Allocation
import Foundation
import LoadGuard
import Testing

@Suite struct SimulationLoaderTests {
    let minimal = """
        duration: 10m
        site:
          fuse_current: 63
        chargers:
          - id: a
        evs:
          - charger: a
            energy_wh: 1000

        """

    @Test func durationsReadSecondsMinutesAndHours() {
        #expect(ScenarioDuration.seconds("90s") == 90)
        #expect(ScenarioDuration.seconds("15m") == 900)
        #expect(ScenarioDuration.seconds("2h") == 7200)
        #expect(ScenarioDuration.seconds("1h30m") == 5400)
        #expect(ScenarioDuration.seconds("42") == 42)
        #expect(ScenarioDuration.seconds("5x") == nil)
        #expect(ScenarioDuration.seconds("m") == nil)
    }

    @Test func aMinimalScenarioGetsTheDefaults() throws {
        let scenario = try ScenarioLoader.parse(minimal, file: "minimal.yaml")
        #expect(scenario.duration == 600)
        #expect(scenario.site.margin == 2)
        #expect(scenario.site.nominalVoltage == 230)
        #expect(scenario.chargers == [Charger(id: "a")])
        #expect(scenario.vehicles.first?.depart == 600)
        #expect(scenario.vehicles.first?.maxCurrent == 16)
        #expect(scenario.name == "minimal.yaml")
    }

    @Test func dispatchSettingsAreRead() throws {
        let text =
            minimal + """
                dispatch: {settle_time: 20s, increase_fraction: 0.25, deadband: 1.5, small_gap_persistence: 5m,
                           withheld_decrease: 3, unused_margin: 4, probe_loan_time: 2m}

                """
        let dispatch = try ScenarioLoader.parse(text, file: "dispatch.yaml").dispatch
        #expect(dispatch.settleTime == 20)
        #expect(dispatch.increaseFraction == 0.25)
        #expect(dispatch.deadband == 1.5)
        #expect(dispatch.smallGapPersistence == 300)
        #expect(dispatch.withheldDecrease == 3)
        #expect(dispatch.unusedMargin == 4)
        #expect(dispatch.probeLoanTime == 120)
    }

    @Test func errorsNameFileLineAndKey() {
        let yaml = minimal.replacingOccurrences(of: "  - id: a\n", with: "  - id: a\n    max_current: lots\n")
        do {
            _ = try ScenarioLoader.parse(yaml, file: "bad.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "bad.yaml")
            #expect(error.line == 6)
            #expect(error.key == "chargers[0].max_current")
            #expect(error.message == "expected a number, found \"lots\"")
            #expect(error.description.hasPrefix("bad.yaml:6:"))
        }
    }

    @Test func unknownKeysAreReportedWhereTheyAre() {
        let yaml = minimal.replacingOccurrences(of: "  fuse_current: 63", with: "  fuse_current: 63\n  fuse_curent: 50")
        #expect(throws: ScenarioError.self) { try ScenarioLoader.parse(yaml, file: "typo.yaml") }
        do {
            _ = try ScenarioLoader.parse(yaml, file: "typo.yaml")
        } catch {
            #expect(error.line == 4)
            #expect(error.key == "site.fuse_curent")
            #expect(error.message.contains("unknown key \"fuse_curent\""))
        }
    }

    @Test func missingKeysAndBadReferencesAreExplained() {
        let noFuse = minimal.replacingOccurrences(of: "  fuse_current: 63\n", with: "  margin: 2\n")
        do {
            _ = try ScenarioLoader.parse(noFuse, file: "s.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "site.fuse_current")
            #expect(error.message == "missing required key `fuse_current`")
            #expect(error.line == 3)
        }
        let badCharger = minimal.replacingOccurrences(of: "  - charger: a", with: "  - charger: b")
        do {
            _ = try ScenarioLoader.parse(badCharger, file: "s.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "evs[0].charger")
            #expect(error.line == 7)
            #expect(error.message.contains("found \"b\""))
        }
        let badDuration = minimal.replacingOccurrences(of: "duration: 10m", with: "duration: ten minutes")
        do {
            _ = try ScenarioLoader.parse(badDuration, file: "s.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 1)
            #expect(error.message.contains("expected a duration such as 90s"))
        }
    }

    @Test func rippleLevelsAndEventsAreRead() throws {
        let yaml =
            minimal + """
                inputs:
                  levels:
                    "00": "100%"
                    "10": "4.2kW"
                events:
                  - {at: 1m, inputs: "10"}
                  - {at: 2m, api_limit: {max_current: "32A", expires_after: 90s}}
                  - {at: 3m, building: [1, 2, 3]}
                  - {at: 4m, meter_fault: 30s}
                  - {at: 5m, charger_offline: {charger: a, duration: 1m}}

                """
        let scenario = try ScenarioLoader.parse(yaml, file: "s.yaml")
        #expect(scenario.rippleControl?.level(for: "10") == .watts(4200))
        #expect(scenario.initialInputs == "00")
        #expect(
            scenario.events.map(\.kind) == [
                .inputs("10"),
                .apiLimit(id: "api-2", level: .amperes(32), expiresAfter: 90),
                .building(PhaseCurrents(l1: 1, l2: 2, l3: 3)),
                .meterFault(duration: 30),
                .chargerOffline(charger: "a", duration: 60),
            ]
        )
    }

    @Test func aBadLevelOrPatternPointsAtItsLine() {
        let yaml =
            minimal + """
                inputs:
                  levels:
                    "00": "100%"
                    "10": "lots"

                """
        do {
            _ = try ScenarioLoader.parse(yaml, file: "s.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 12)
            #expect(error.message.contains("\"lots\""))
        }
        let unknownPattern =
            minimal + """
                inputs:
                  levels: {"00": "100%"}
                events:
                  - {at: 1m, inputs: "11"}

                """
        do {
            _ = try ScenarioLoader.parse(unknownPattern, file: "s.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "events[0].inputs")
            #expect(error.line == 12)
        }
    }

    @Test func anEventNeedsExactlyOneKind() {
        let yaml = minimal + "events:\n  - {at: 1m, meter_fault: 10s, inputs: \"10\"}\n"
        do {
            _ = try ScenarioLoader.parse(yaml, file: "s.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "events[0]")
            #expect(error.message.contains("exactly one of"))
        }
    }

    @Test func aBuildingCSVIsReadRelativeToTheScenario() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "loadguard-sim-\(UInt32.random(in: 0...UInt32.max))"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "seconds,l1,l2,l3\n0,10,11,12\n60,20,21,22\n".write(
            to: folder.appendingPathComponent("load.csv"),
            atomically: true,
            encoding: .utf8
        )
        let yaml = minimal + "building: load.csv\n"
        let path = folder.appendingPathComponent("s.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let scenario = try ScenarioLoader.load(path: path)
        #expect(scenario.building.load(at: 30) == PhaseCurrents(l1: 10, l2: 11, l3: 12))
        #expect(scenario.building.load(at: 90) == PhaseCurrents(l1: 20, l2: 21, l3: 22))

        try "seconds,l1,l2,l3\n0,10,11,12\n30,oops,1,2\n".write(
            to: folder.appendingPathComponent("load.csv"),
            atomically: true,
            encoding: .utf8
        )
        do {
            _ = try ScenarioLoader.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.file.hasSuffix("load.csv"))
            #expect(error.line == 3)
        }
    }

    @Test func theSummaryIsJSONWithTheIssuesKeys() throws {
        let scenario = try ScenarioLoader.parse(minimal, file: "s.yaml")
        let result = SimulationRunner(scenario: scenario).run()
        let json = try result.summaryJSON()
        for key in [
            "overload_amp_seconds", "max_overload_seconds", "max_phase_current", "energy_delivered_wh",
            "energy_requested_wh", "headroom_used", "jain_fairness", "limit_messages", "pauses", "settings",
        ] {
            #expect(json.contains("\"\(key)\""), "\(key)")
        }
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect(object?["jain_fairness"] is NSNull)
        let csv = result.csv().split(separator: "\n")
        #expect(csv.count == 601)
        #expect(csv[0].hasPrefix("time,measurement,limit_l1"))
        #expect(csv[0].hasSuffix("a_allocation,a_limit,a_draw"))
    }

    @Test func jainIndexIsOneForEqualSharesAndLowerOtherwise() {
        #expect(jainIndex([0.5, 0.5, 0.5]) == 1)
        #expect(abs(jainIndex([1, 0])! - 0.5) < 1e-12)
        #expect(jainIndex([]) == nil)
    }
}
