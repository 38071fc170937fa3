import Foundation
import Hardware
import Metering
import Testing

@Test func zzMarginProbe() throws {
    for load in [1.0] {
        for noise in [0.0] {
            for adc in [0] {
                let c = AccuracyCase(powerFactor: .inductive05, export: true, load: load, frequency: .high, sensor: .rogowski)
                var g = c.grid
                g.sensors.noise = noise
                if adc == 0 { g.sensors.adcBits = nil }
                var cal = c.calibration
                cal.integratorTimeConstant = Double(ProcessInfo.processInfo.environment["TAU"] ?? "2")!
                let run = try SimulatedRun(grid: g, calibration: cal).run(seconds: c.settle + AccuracyCase.measured + 0.3)
                let truths = (0..<3).map { run.model.truth(phase: $0) }
                var worst = 0.0
                var worstI = 0.0
                for r in run.readings where r.second >= Int64(c.settle) {
                    for p in 0..<3 {
                        worst = max(worst, relativeError(r.phases[p].activePower, truths[p].activePower))
                        worstI = max(worstI, relativeError(r.phases[p].current, truths[p].current))
                    }
                }
                print("PROBE load", load, "noise", noise, "adc", adc, "P", worst, "I", worstI)
            }
        }
    }
}
