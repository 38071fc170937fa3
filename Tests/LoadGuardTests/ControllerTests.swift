import Allocation
import OCPP
import Testing

@testable import LoadGuard

@Suite("Profile installer")
struct ProfileInstallerTests {
    @Test func sendsTheWantedLimitOnceAndKnowsWhenItIsInstalled() {
        var installer = ProfileInstaller()
        #expect(installer.want(16, now: 0) == 16)
        #expect(installer.want(16, now: 1) == nil)
        #expect(!installer.isInstalled)
        #expect(installer.answered(accepted: true, now: 1) == nil)
        #expect(installer.isInstalled)
        #expect(installer.want(16, now: 2) == nil)
    }

    @Test func theLatestWantedLimitWinsWhileOneIsInFlight() {
        var installer = ProfileInstaller()
        #expect(installer.want(16, now: 0) == 16)
        #expect(installer.want(10, now: 0.1) == nil)
        #expect(installer.want(8, now: 0.2) == nil)
        #expect(installer.answered(accepted: true, now: 0.5) == 8)
        #expect(installer.answered(accepted: true, now: 0.6) == nil)
        #expect(installer.installed == 8)
    }

    @Test func rejectionsBackOffTwoSecondsDoublingToSixty() {
        var installer = ProfileInstaller()
        #expect(installer.want(16, now: 0) == 16)
        #expect(installer.answered(accepted: false, now: 0) == nil)
        #expect(installer.tick(now: 1.9) == nil)
        #expect(installer.tick(now: 2) == 16)
        #expect(installer.answered(accepted: false, now: 2) == nil)
        #expect(installer.tick(now: 5.9) == nil)
        #expect(installer.tick(now: 6) == 16)
        for _ in 0..<10 {
            _ = installer.answered(accepted: false, now: 100)
            #expect(installer.retryAt! - 100 <= 60)
            _ = installer.tick(now: 1000)
        }
    }

    @Test func invalidationReinstallsAtOnce() {
        var installer = ProfileInstaller()
        _ = installer.want(12, now: 0)
        _ = installer.answered(accepted: true, now: 0)
        #expect(installer.invalidate(now: 5) == 12)
        #expect(!installer.isInstalled)
    }

    @Test func aBootWhileALimitIsInFlightSendsItAgainAfterTheAnswer() {
        var installer = ProfileInstaller()
        #expect(installer.want(12, now: 0) == 12)
        #expect(installer.invalidate(now: 0.1) == nil)
        #expect(installer.answered(accepted: true, now: 0.2) == 12)
        #expect(!installer.isInstalled)
        #expect(installer.answered(accepted: true, now: 0.3) == nil)
        #expect(installer.isInstalled)
    }

    @Test func aDisconnectForgetsTheLimitInFlight() {
        var installer = ProfileInstaller()
        _ = installer.want(12, now: 0)
        installer.disconnected()
        #expect(installer.tick(now: 1) == 12)
    }
}

@Suite("Charger record from OCPP traffic")
struct ChargerRecordTests {
    let threePhase = Charger(id: "CP-1", phases: 3, rotation: .l2l3l1, minCurrent: 6, maxCurrent: 32, priority: 0)
    let onePhase = Charger(id: "CP-2", phases: 1, rotation: .l2l3l1, minCurrent: 6, maxCurrent: 16, priority: 0)

    private func meter(current: PhaseValues = PhaseValues(), power: PhaseValues = PhaseValues()) -> ChargerEvent {
        .meterValues(
            OCPP.MeterReading(
                outlet: Outlet(id: 1),
                timestamp: "2026-01-01T00:00:00Z",
                currentImport: current,
                powerActiveImport: power
            )
        )
    }

    @Test func perPhaseCurrentsAreTheBestSource() {
        var record = ChargerRecord(model: threePhase)
        record.apply(meter(current: PhaseValues(l1: 10, l2: 11, l3: 12)), now: 1, nominalVoltage: 230)
        #expect(record.measured == PhaseCurrents(l1: 10, l2: 11, l3: 12))
        #expect(record.measurementSource == .phaseCurrents)
        #expect(record.lastReport == 1)
    }

    @Test func aCurrentWithoutPhaseCountsOnEveryTerminal() {
        var record = ChargerRecord(model: threePhase)
        record.apply(meter(current: PhaseValues(total: 9)), now: 1, nominalVoltage: 230)
        #expect(record.measured == PhaseCurrents(l1: 9, l2: 9, l3: 9))
        #expect(record.measurementSource == .totalCurrent)
        var single = ChargerRecord(model: onePhase)
        single.apply(meter(current: PhaseValues(total: 9)), now: 1, nominalVoltage: 230)
        #expect(single.measured == PhaseCurrents(l1: 9, l2: 0, l3: 0))
    }

    @Test func powerIsTurnedIntoCurrentWhenNoCurrentIsSent() {
        var record = ChargerRecord(model: threePhase)
        record.apply(meter(power: PhaseValues(total: 6900)), now: 1, nominalVoltage: 230)
        #expect(abs(record.measured.l1 - 10) < 1e-9)
        #expect(record.measurementSource == .power)
    }

    @Test func aChargingCarWithoutMeterValuesCountsAtItsLimitOrMaximum() {
        var record = ChargerRecord(model: threePhase)
        record.apply(.connected(version: .v16), now: 0, nominalVoltage: 230)
        record.apply(.status(StatusChange(outlet: Outlet(id: 1), status: "Charging")), now: 0, nominalVoltage: 230)
        #expect(record.allocatorState(now: 1).measured.l1 == 32)
        record.accepted(limit: 10, now: 1)
        #expect(record.allocatorState(now: 2).measured.l1 == 10)
    }

    @Test func mostActiveConnectorStatusWins() {
        var record = ChargerRecord(model: threePhase)
        record.apply(.status(StatusChange(outlet: Outlet(id: 0), status: "Available")), now: 0, nominalVoltage: 230)
        record.apply(.status(StatusChange(outlet: Outlet(id: 1), status: "Available")), now: 0, nominalVoltage: 230)
        record.apply(.status(StatusChange(outlet: Outlet(id: 2), status: "SuspendedEV")), now: 0, nominalVoltage: 230)
        #expect(record.status == .suspendedEV)
        record.apply(.status(StatusChange(outlet: Outlet(id: 1), status: "Charging")), now: 0, nominalVoltage: 230)
        #expect(record.status == .charging)
    }

    @Test func overdrawLongerThanTenSecondsIsNonCompliant() {
        var record = ChargerRecord(model: threePhase)
        record.accepted(limit: 10, now: 0)
        // 10 × 1.1 + 0.5 = 11.5 A is still compliant.
        record.apply(meter(current: PhaseValues(l1: 11.5, l2: 11.5, l3: 11.5)), now: 1, nominalVoltage: 230)
        #expect(record.overdrawSince == nil)
        record.apply(meter(current: PhaseValues(l1: 12, l2: 12, l3: 12)), now: 2, nominalVoltage: 230)
        record.apply(meter(current: PhaseValues(l1: 12, l2: 12, l3: 12)), now: 12, nominalVoltage: 230)
        #expect(!record.nonCompliant)
        record.apply(meter(current: PhaseValues(l1: 12, l2: 12, l3: 12)), now: 12.5, nominalVoltage: 230)
        #expect(record.nonCompliant)
        record.apply(meter(current: PhaseValues(l1: 9, l2: 9, l3: 9)), now: 13, nominalVoltage: 230)
        #expect(!record.nonCompliant)
    }

    @Test func aBootForgetsTheAcceptedLimit() {
        var record = ChargerRecord(model: threePhase)
        record.accepted(limit: 10, now: 0)
        record.apply(.boot(BootInfo(vendor: "V", model: "M")), now: 1, nominalVoltage: 230)
        #expect(record.acceptedLimit == nil)
        #expect(record.vendor == "V")
    }
}

@Suite("Charging profile payloads")
struct ProfilePayloadTests {
    @Test func oneSixMaxProfileIsOnConnectorZeroInAmperes() throws {
        let payload = try SiteController.profilePayload(
            version: .v16,
            strategy: .max,
            limit: .amperes(16, numberPhases: 3),
            stackLevel: 1
        )
        let text = String(decoding: payload, as: UTF8.self)
        #expect(text.contains("\"connectorId\":0"))
        #expect(text.contains("ChargePointMaxProfile"))
        #expect(text.contains("\"chargingRateUnit\":\"A\""))
        #expect(text.contains("\"chargingProfileId\":\(SiteController.profileID)"))
    }

    @Test func twoXStrategiesUseTheirPurposes() throws {
        let max = String(
            decoding: try SiteController.profilePayload(
                version: .v201,
                strategy: .max,
                limit: .amperes(10),
                stackLevel: 1
            ),
            as: UTF8.self
        )
        #expect(max.contains("ChargingStationMaxProfile") && max.contains("\"evseId\":0"))
        let external = String(
            decoding: try SiteController.profilePayload(
                version: .v201,
                strategy: .external,
                limit: .watts(6900, numberPhases: 3),
                stackLevel: 1
            ),
            as: UTF8.self
        )
        #expect(
            external.contains("ChargingStationExternalConstraints") && external.contains("\"chargingRateUnit\":\"W\"")
        )
        let txDefault = String(
            decoding: try SiteController.profilePayload(
                version: .v16,
                strategy: .txdefault,
                limit: .amperes(8),
                stackLevel: 7
            ),
            as: UTF8.self
        )
        #expect(txDefault.contains("TxDefaultProfile") && txDefault.contains("\"stackLevel\":7"))
    }

    @Test func statusIsReadFromSchemaInvalidResults() {
        // The AcTEC wallbox adds connectorId and chargingSchedule to its SetChargingProfile.conf.
        let payload = Array(#"{"status":"Accepted","connectorId":1,"chargingSchedule":{"duration":0}}"#.utf8)
        #expect(SiteController.status(in: payload) == "Accepted")
        #expect(SiteController.status(in: Array("not json".utf8)) == nil)
    }

    @Test func stackLevelIsReadFromGetConfigurationAndGetVariables() {
        let v16 = Array(
            #"{"configurationKey":[{"key":"ChargeProfileMaxStackLevel","readonly":true,"value":"5"}]}"#.utf8
        )
        #expect(SiteController.stackLevel(in: v16) == 5)
        let v201 = Array(
            #"{"getVariableResult":[{"attributeStatus":"Accepted","attributeValue":"9","component":{"name":"SmartChargingCtrlr"},"variable":{"name":"ProfileStackLevel"}}]}"#
                .utf8
        )
        #expect(SiteController.stackLevel(in: v201) == 9)
    }
}
