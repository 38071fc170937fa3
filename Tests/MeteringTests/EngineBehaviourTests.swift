import Hardware
import Metering
import Testing

/// The engine's states and gates: exactness on a clean signal, the frequency range, voltage-absent
/// and no-load gates, load steps, gaps in the sample clock, the neutral current.
@Suite struct EngineBehaviourTests {
    /// With an ideal signal the only error left is the algorithm's own: far below the 0.1 % budget.
    @Test(arguments: [42.5, 47.0, 50.0, 52.3, 57.5])
    func cleanSignalIsExact(frequency: Double) throws {
        var grid = SimulatedGridConfiguration.test(current: 63, phaseAngle: 25, frequency: frequency)
        grid.blockSize = 333
        let run = try SimulatedRun(grid: grid, calibration: MeterCalibration()).run(seconds: 3.2)
        let truth = run.model.truth(phase: 0)
        for r in run.readings where r.second >= 1 {
            #expect(relativeError(r.phases[0].voltage, truth.voltage) < 1e-6)
            #expect(relativeError(r.phases[0].current, truth.current) < 1e-6)
            #expect(relativeError(r.phases[0].activePower, truth.activePower) < 1e-6)
            #expect(relativeError(r.phases[0].reactivePower, truth.reactivePower) < 1e-6)
            #expect(abs(r.frequency! - frequency) < 1e-5)
        }
    }

    @Test func windowsAreTenCyclesAndTileTheSampleClock() throws {
        let run = try SimulatedRun(grid: .test(frequency: 49.8), calibration: MeterCalibration()).run(seconds: 3)
        #expect(run.windows.count >= 13)
        for (a, b) in zip(run.windows, run.windows.dropFirst()) {
            #expect(a.end == b.start)
            #expect(abs(run.model.cycles(at: b.end) - run.model.cycles(at: b.start) - 10) < 1e-4)
        }
        // Readings collect the windows that ended in their second.
        for r in run.readings {
            let inSecond = run.windows.filter { Int64($0.end.rounded(.down)) == r.second }
            #expect(r.windows == inSecond.count)
            #expect(r.end == inSecond.last?.end)
        }
    }

    @Test(arguments: [40.0, 60.0])
    func frequencyOutsideTheValidRangeIsNotReported(frequency: Double) throws {
        let run = try SimulatedRun(grid: .test(frequency: frequency), calibration: MeterCalibration()).run(seconds: 3)
        let readings = run.readings.filter { $0.second >= 1 }
        #expect(!readings.isEmpty)
        for r in readings {
            #expect(r.frequency == nil)
            // Still measured, over 10 cycles (or 10 nominal cycles when no crossing came in time).
            #expect(relativeError(r.phases[0].voltage, 230) < 1e-3)
        }
    }

    @Test func absentVoltageGatesPowerAndEnergyOfThatPhase() throws {
        var grid = SimulatedGridConfiguration.test(current: 40)
        grid.phases = [.init(current: 40), .init(voltage: 0, current: 40), .init(current: 40)]
        let run = try SimulatedRun(grid: grid, calibration: MeterCalibration()).run(seconds: 3)
        let r = try #require(run.readings.last)
        #expect(r.locked && r.frequency != nil)
        #expect(!r.phases[1].voltagePresent && r.phases[1].activePower == 0 && r.phases[1].powerFactor == nil)
        #expect(relativeError(r.phases[1].current, 40) < 1e-3)
        #expect(r.phases[0].voltagePresent && relativeError(r.phases[0].activePower, 230 * 40) < 1e-3)
        #expect(run.engine.registers.phases[1].activeImportMilliwattHours == 0)
        #expect(run.engine.registers.phases[0].activeImportMilliwattHours > 0)
    }

    @Test func withoutAnyVoltageWindowsAreUnlockedAndCurrentsStillMeasured() throws {
        var grid = SimulatedGridConfiguration.test(current: 20)
        grid.phases = [.init(voltage: 0, current: 20)]
        let run = try SimulatedRun(grid: grid, calibration: MeterCalibration()).run(seconds: 4)
        #expect(run.readings.count >= 3)
        for r in run.readings where r.second >= 1 {
            #expect(!r.locked && r.frequency == nil)
            #expect(r.windows == 5)
            // Fixed windows of 10 nominal cycles at 50 Hz: exact for a 50 Hz current.
            #expect(relativeError(r.phases[0].current, 20) < 1e-3)
            #expect(r.total.activePower == 0)
        }
        #expect(run.engine.registers == RegisterSnapshot())
    }

    @Test func noLoadGateStopsCreep() throws {
        var grid = SimulatedGridConfiguration.test(current: 0.05, phaseAngle: 10)
        grid.sensors.noise = 1e-4
        grid.sensors.voltageFullScale = 500
        grid.sensors.currentFullScale = 200
        var calibration = MeterCalibration()
        calibration.noLoadCurrent = 0.1
        let run = try SimulatedRun(grid: grid, calibration: calibration).run(seconds: 20)
        #expect(run.engine.registers == RegisterSnapshot())
        for r in run.readings {
            #expect(!r.phases[0].loaded && r.phases[0].activePower == 0 && r.phases[0].reactivePower == 0)
        }
    }

    @Test func loadStepsShowUpInTheNextSecond() throws {
        var grid = SimulatedGridConfiguration.test(current: 10)
        grid.loadScript = [
            .init(at: 2, currents: [32, 16, 0]), .init(at: 4, currents: [0, 0, 0], phaseAngles: [0, 0, 0]),
        ]
        let run = try SimulatedRun(grid: grid, calibration: MeterCalibration()).run(seconds: 6.5)
        let bySecond = Dictionary(uniqueKeysWithValues: run.readings.map { ($0.second, $0) })
        #expect(relativeError(bySecond[1]!.phases[0].current, 10) < 1e-3)
        #expect(relativeError(bySecond[3]!.phases[0].current, 32) < 1e-3)
        #expect(relativeError(bySecond[3]!.phases[1].current, 16) < 1e-3)
        #expect(bySecond[3]!.phases[2].current < 1e-3 && !bySecond[3]!.phases[2].loaded)
        #expect(bySecond[5]!.total.activePower == 0)
    }

    @Test func aGapInTheSampleClockRestartsWindowsButKeepsRegisters() throws {
        var model = try GridSignalModel(configuration: .test(current: 50))
        var engine = try MeteringEngine()
        var readings: [MeterReading] = []
        for _ in 0..<30 { readings += engine.process(model.nextBlock(count: 400)) }
        let before = engine.registers.total.activeImportMilliwattHours
        // Skip 1.5 s of samples (an overrun): the next block starts at 3.0 s.
        _ = model.nextBlock(count: 12_000)
        var after: [MeterReading] = []
        for _ in 0..<50 { after += engine.process(model.nextBlock(count: 400)) }
        #expect(readings.map(\.second) == [0])
        // The second in progress at the gap (1) is emitted as it is when the gap is seen; none
        // for the gap (2); measurement resumes after the first zero crossing.
        #expect(after.map(\.second) == [1, 3, 4])
        #expect(after[0].end < 1.5)
        #expect(after[1].start > 3.0 && after[1].start < 3.03)
        #expect(engine.registers.total.activeImportMilliwattHours > before)
        #expect(relativeError(after[2].total.activePower, 3 * 230 * 50) < 1e-3)
        #expect(after[2].windows == 5)
    }

    @Test func neutralCurrentIsMeasuredWhenSampled() throws {
        var grid = SimulatedGridConfiguration.test(current: 10)
        grid.sampleNeutral = true
        grid.phases = [
            .init(current: 10, currentHarmonics: [.init(order: 3, fraction: 0.3)]),
            .init(current: 20, phaseAngle: 30, currentHarmonics: [.init(order: 3, fraction: 0.2)]),
            .init(current: 5),
        ]
        let run = try SimulatedRun(grid: grid, calibration: MeterCalibration()).run(seconds: 3)
        let r = try #require(run.readings.last)
        let truth = run.model.neutralCurrentTruth()
        #expect(truth > 5)
        #expect(relativeError(try #require(r.neutralCurrent), truth) < 1e-3)
    }

    @Test func rogowskiReadingsAreFlaggedWhileTheIntegratorSettles() throws {
        var grid = SimulatedGridConfiguration.test(current: 50)
        grid.sensors.rogowskiMvPerKa = 100
        var calibration = MeterCalibration()
        calibration.current = .init(rogowskiMvPerKa: 100)
        let run = try SimulatedRun(grid: grid, calibration: calibration).run(seconds: 5)
        #expect(run.readings.first!.settling)
        #expect(run.readings.contains { !$0.settling })
        for r in run.readings where !r.settling {
            #expect(relativeError(r.phases[0].current, 50) < 1e-3)
        }
    }

    /// An ADC offset at a coil's output would integrate into a ramp: the window-rate DC block
    /// takes it out, with a long leak and from the first seconds on.
    @Test func rogowskiInputOffsetIsRemoved() throws {
        var grid = SimulatedGridConfiguration.test(current: 30, phaseAngle: 50)
        grid.sensors.rogowskiMvPerKa = 100
        grid.sensors.currentFullScale = 0.05
        grid.sensors.offset = 0.002  // 0.1 mV, the output of 30 A is 3 mV RMS
        var calibration = MeterCalibration()
        calibration.current = .init(rogowskiMvPerKa: 100)
        calibration.integratorTimeConstant = 10
        let run = try SimulatedRun(grid: grid, calibration: calibration).run(seconds: 5)
        let truth = run.model.truth(phase: 0)
        let settled = run.readings.filter { !$0.settling }
        #expect(settled.map(\.second) == [2, 3])
        for r in settled {
            #expect(relativeError(r.phases[0].current, truth.current) < 1e-3)
            #expect(relativeError(r.phases[0].activePower, truth.activePower) < 1e-3)
        }
    }

    @Test func invalidCalibrationIsRejectedWithItsKey() {
        var c = MeterCalibration()
        c.channels["i2"] = .init(ctPrimary: 100)
        #expect(throws: MeterCalibrationError.self) { try MeteringEngine(calibration: c) }
        do {
            _ = try MeteringEngine(calibration: c)
        } catch {
            #expect(error.key == "meter.calibration.channels.i2.ct_primary/ct_secondary")
            #expect(error.description.contains("both or neither"))
        }
        var v = MeterCalibration()
        v.voltage = .init(rogowskiMvPerKa: 100)
        #expect(throws: MeterCalibrationError.self) { try v.validate() }
        var k = MeterCalibration()
        k.channels["i4"] = .init()
        #expect(throws: MeterCalibrationError.self) { try k.validate() }
    }
}
