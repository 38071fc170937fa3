import Foundation
import Hardware
import Metering
import Testing

@Suite struct MeterCalibrationTests {
    @Test func decodesSnakeCaseWithGroupAndChannelEntries() throws {
        let json = """
            {"nominal_voltage": 240, "nominal_current": 63, "no_load_current": 0.05,
             "voltage": {"gain": 1000},
             "current": {"ct_primary": 200, "ct_secondary": 5},
             "channels": {"i3": {"rogowski_mv_per_ka": 85, "phase_lead_degrees": 0.5}}}
            """
        let c = try JSONDecoder().decode(MeterCalibration.self, from: Data(json.utf8))
        try c.validate()
        #expect(c.nominalVoltage == 240 && c.nominalCurrent == 63 && c.nominalFrequency == 50)
        #expect(c.effectiveNoLoadCurrent == 0.05 && c.effectiveVoltageAbsentThreshold == 24)
        #expect(c.calibration(for: .v2).gain == 1000)
        #expect(c.calibration(for: .i1).ctPrimary == 200)
        #expect(c.calibration(for: .i3).rogowskiMvPerKa == 85 && c.calibration(for: .i3).ctPrimary == nil)
        #expect(c.calibration(for: .neutral).ctSecondary == 5)
    }

    @Test func emptyDocumentGivesDefaults() throws {
        let c = try JSONDecoder().decode(MeterCalibration.self, from: Data("{}".utf8))
        #expect(c == MeterCalibration())
    }

    /// A CT on every phase with a gain trim and a phase lead: the engine reads line values.
    @Test func calibrationTurnsSensorValuesIntoLineValues() throws {
        var grid = SimulatedGridConfiguration.test(current: 150, phaseAngle: 45)
        grid.sensors.voltageRatio = 400
        grid.sensors.ctPrimary = 300
        grid.sensors.ctSecondary = 1
        grid.phases[0].currentSensorLead = 3
        var c = MeterCalibration()
        c.voltage = .init(gain: 400)
        c.current = .init(ctPrimary: 300, ctSecondary: 1, phaseLeadDegrees: 3)
        let run = try SimulatedRun(grid: grid, calibration: c).run(seconds: 3)
        let truth = run.model.truth(phase: 0)
        let r = try #require(run.readings.last)
        #expect(relativeError(r.phases[0].voltage, 230) < 1e-4)
        #expect(relativeError(r.phases[0].current, 150) < 1e-4)
        #expect(relativeError(r.phases[0].activePower, truth.activePower) < 1e-4)
        #expect(relativeError(r.phases[0].reactivePower, truth.reactivePower) < 1e-4)
        // Without the phase correction, P at 45° is off by about tan(45°) · 3° = 5 %.
        c.current.phaseLeadDegrees = 0
        let uncorrected = try SimulatedRun(grid: grid, calibration: c).run(seconds: 3).readings.last!
        #expect(relativeError(uncorrected.phases[0].activePower, truth.activePower) > 0.04)
    }
}
