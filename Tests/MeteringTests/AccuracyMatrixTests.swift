import Foundation
import Hardware
import Metering
import Testing

/// One point of the accuracy matrix of docs/metering.md: every combination of power factor,
/// direction, load, frequency behaviour and sensor, always with 20 % THD current harmonics,
/// 7 % THD voltage harmonics, broadband noise (−90 dBFS; −100 dBFS for the Rogowski coil) and
/// 16-bit quantisation.
struct AccuracyCase: Sendable, CustomTestStringConvertible {
    enum PowerFactor: Sendable, CaseIterable {
        case unity, inductive05, capacitive08
        /// Degrees by which the current lags.
        var angle: Double {
            switch self {
            case .unity: 0
            case .inductive05: 60
            case .capacitive08: -acos(0.8) * 180 / Double.pi
            }
        }
    }
    enum Frequency: Sendable, CaseIterable {
        case low, nominal, high, ramp
    }
    enum Sensor: Sendable, CaseIterable {
        /// A 100:5 CT and a 1000:1 divider, with phase errors that the calibration removes.
        case currentTransformer
        /// A 100 mV/kA Rogowski coil.
        case rogowski
    }

    var powerFactor: PowerFactor
    var export: Bool
    /// Fraction of the 100 A nominal current.
    var load: Double
    var frequency: Frequency
    var sensor: Sensor

    static let all: [AccuracyCase] = PowerFactor.allCases.flatMap { pf in
        [false, true].flatMap { export in
            [0.01, 0.1, 1.0, 1.2].flatMap { load in
                Frequency.allCases.flatMap { f in
                    Sensor.allCases.map {
                        AccuracyCase(powerFactor: pf, export: export, load: load, frequency: f, sensor: $0)
                    }
                }
            }
        }
    }

    var testDescription: String {
        "\(powerFactor) \(export ? "export" : "import") \(Int(load * 100))% \(frequency) \(sensor)"
    }

    /// Seconds before the first reading that is checked (the Rogowski integrator settles).
    var settle: Double { sensor == .rogowski ? 2 : 1 }
    static let measured = 2.0

    var grid: SimulatedGridConfiguration {
        var g = SimulatedGridConfiguration()
        g.realTime = false
        g.sampleRate = 8000
        switch frequency {
        case .low: g.frequency = 49.5
        case .nominal: g.frequency = 50
        case .high: g.frequency = 50.5
        case .ramp:
            g.frequency = 49.5
            g.frequencyRamps = [.init(start: settle - 0.5, duration: 3, to: 50.5)]
        }
        let angle = powerFactor.angle + (export ? 180 : 0)
        let leads: [(v: Double, i: Double)] = [(-0.3, 1.2), (0.2, -0.8), (0, 2.5)]
        g.phases = (0..<3).map { p in
            var phase = SimulatedGridConfiguration.Phase(
                voltage: 230 + Double(p),
                current: 100 * load,
                phaseAngle: angle
            )
            phase.voltageHarmonics = [
                .init(order: 3, fraction: 0.05, phase: 10), .init(order: 5, fraction: 0.04, phase: -30),
                .init(order: 7, fraction: 0.03, phase: 60),
            ]
            phase.currentHarmonics = [
                .init(order: 3, fraction: 0.15, phase: 20), .init(order: 5, fraction: 0.11, phase: 45),
                .init(order: 7, fraction: 0.07, phase: -80),
            ]
            if sensor == .currentTransformer {
                phase.voltageSensorLead = leads[p].v
                phase.currentSensorLead = leads[p].i
            }
            return phase
        }
        g.sensors.voltageRatio = 1000
        g.sensors.voltageFullScale = 0.5
        g.sensors.adcBits = 16
        switch sensor {
        case .currentTransformer:
            g.sensors.ctPrimary = 100
            g.sensors.ctSecondary = 5
            g.sensors.currentFullScale = 17
            // −90 dBFS: a 24-bit metering ADC's noise floor. At 1 % load the signal is 47 dB
            // below full scale, so the noise is still 43 dB below it.
            g.sensors.noise = 3e-5
        case .rogowski:
            g.sensors.rogowskiMvPerKa = 100
            g.sensors.currentFullScale = 0.05
            // −100 dBFS. A coil's output is di/dt: integrated, white ADC noise piles up at low
            // frequencies and near the fundamental, so at 1 % load and −90 dBFS the sensor's own
            // noise alone moves P at PF 0.5 by up to 0.1 % within one second.
            g.sensors.noise = 1e-5
        }
        return g
    }

    var calibration: MeterCalibration {
        var c = MeterCalibration()
        c.voltage = .init(gain: 1000)
        switch sensor {
        case .currentTransformer:
            c.current = .init(ctPrimary: 100, ctSecondary: 5)
            let leads: [(v: Double, i: Double)] = [(-0.3, 1.2), (0.2, -0.8), (0, 2.5)]
            for p in 0..<3 {
                c.channels["v\(p + 1)"] = .init(gain: 1000, phaseLeadDegrees: leads[p].v)
                c.channels["i\(p + 1)"] = .init(ctPrimary: 100, ctSecondary: 5, phaseLeadDegrees: leads[p].i)
            }
        case .rogowski:
            c.current = .init(rogowskiMvPerKa: 100)
        }
        return c
    }
}

@Suite struct AccuracyMatrixTests {
    @Test(arguments: AccuracyCase.all)
    func accuracy(_ c: AccuracyCase) throws {
        let run = try SimulatedRun(grid: c.grid, calibration: c.calibration).run(
            seconds: c.settle + AccuracyCase.measured + 0.3
        )
        let first = Int64(c.settle)
        let checked = run.readings.filter { $0.second >= first }
        try #require(checked.count == Int(AccuracyCase.measured))
        let truths = (0..<3).map { run.model.truth(phase: $0) }
        for reading in checked {
            #expect(!reading.settling && reading.locked)
            for p in 0..<3 {
                let m = reading.phases[p]
                let t = truths[p]
                #expect(relativeError(m.voltage, t.voltage) <= 1e-3, "V L\(p + 1) \(m.voltage) vs \(t.voltage)")
                #expect(relativeError(m.current, t.current) <= 1e-3, "I L\(p + 1) \(m.current) vs \(t.current)")
                #expect(
                    relativeError(m.activePower, t.activePower) <= 1e-3,
                    "P L\(p + 1) \(m.activePower) vs \(t.activePower)"
                )
                #expect(relativeError(m.apparentPower, t.apparentPower) <= 1e-3, "S L\(p + 1)")
                #expect(
                    reactiveError(m.reactivePower, t) <= 2e-3,
                    "Q L\(p + 1) \(m.reactivePower) vs \(t.reactivePower)"
                )
            }
            let totalP = truths.reduce(0) { $0 + $1.activePower }
            let totalS = truths.reduce(0) { $0 + $1.apparentPower }
            #expect(relativeError(reading.total.activePower, totalP) <= 1e-3, "P total")
            #expect(relativeError(reading.total.apparentPower, totalS) <= 1e-3, "S total")
            if let f = reading.frequency {
                #expect(abs(f - run.model.meanFrequency(from: reading.start, to: reading.end)) <= 1e-3)
            } else {
                Issue.record("no frequency in second \(reading.second)")
            }
        }
        // Every 10-cycle window's frequency, against the mean frequency over that window.
        for w in run.windows where w.start >= c.settle && w.end <= c.settle + AccuracyCase.measured {
            let f = try #require(w.frequency)
            #expect(abs(f - run.model.meanFrequency(from: w.start, to: w.end)) <= 1e-3, "window at \(w.start)")
        }
        // Energy over the checked seconds, against P × the time the windows covered.
        let before = try #require(run.readings.last { $0.second == first - 1 })
        let after = checked[checked.count - 1]
        let seconds = after.end - before.end
        let trueEnergy = truths.reduce(0) { $0 + $1.activePower } * seconds / 3600
        let measured =
            c.export
            ? -(after.energy.total.activeExportWh - before.energy.total.activeExportWh)
            : after.energy.total.activeImportWh - before.energy.total.activeImportWh
        // 0.1 % of reading plus the register's 1 mWh resolution at either end.
        #expect(abs(measured - trueEnergy) <= 1e-3 * abs(trueEnergy) + 0.002, "energy \(measured) vs \(trueEnergy) Wh")
    }
}

/// Error of a fundamental reactive power: relative to the reading, but for power factors
/// near 1 relative to the reactive power at |sin φ| = 0.5 (half the fundamental apparent power),
/// as reactive-energy meters specify their accuracy.
func reactiveError(_ measured: Double, _ truth: GridSignalModel.PhaseTruth) -> Double {
    return abs(measured - truth.reactivePower) / max(abs(truth.reactivePower), 0.5 * truth.fundamentalApparentPower)
}
