import Foundation
import Hardware
import Testing

@testable import Metering

@Suite struct EnergyRegisterTests {
    /// Many small windows of odd length add up to exactly their sum: no remainder is lost.
    @Test func integrationKeepsFractionsOfAMilliwattHour() {
        var integrator = EnergyIntegrator()
        var exact = 0.0
        // One hour of 50.0123 Hz windows at 1234.567 W per phase.
        let window = 10 / 50.0123
        let count = Int(3600 / window)
        for _ in 0..<count {
            integrator.add(
                activePower: [3 * 1234.567, 1234.567, 1234.567, 1234.567],
                reactivePower: [-3 * 10.01, -10.01, -10.01, -10.01],
                seconds: window
            )
            exact += 3 * 1234.567 * window / 3.6
        }
        let total = integrator.snapshot.total
        #expect(abs(Double(total.activeImportMilliwattHours) - exact) < 1)
        #expect(total.activeExportMilliwattHours == 0)
        #expect(total.reactiveQ4MillivarHours > 0 && total.reactiveQ1MillivarHours == 0)
        #expect(integrator.snapshot.phases[0].activeImportMilliwattHours * 3 - total.activeImportMilliwattHours <= 3)
    }

    @Test(arguments: [
        (p: 100.0, q: 50.0, register: 2), (p: -100.0, q: 50.0, register: 3),
        (p: -100.0, q: -50.0, register: 4), (p: 100.0, q: -50.0, register: 5),
    ])
    func reactiveEnergyGoesToItsQuadrant(p: Double, q: Double, register: Int) {
        var integrator = EnergyIntegrator()
        integrator.add(activePower: [p, p, 0, 0], reactivePower: [q, q, 0, 0], seconds: 36)
        var expected = RegisterSet()
        var all = [Int64](repeating: 0, count: 6)
        all[p > 0 ? 0 : 1] = 1000
        all[register] = 500
        expected.all = all
        #expect(integrator.snapshot.total == expected)
        #expect(integrator.snapshot.phases[0] == expected)
        #expect(integrator.snapshot.phases[1] == RegisterSet())
    }

    @Test func restoreNeverGoesLower() throws {
        var older = RegisterSnapshot()
        older.total.activeImportMilliwattHours = 3_000
        older.total.activeExportMilliwattHours = 9_000
        older.phases[2].reactiveQ3MillivarHours = 77
        var engine = try MeteringEngine()
        var model = try GridSignalModel(configuration: .test(current: 30))
        for _ in 0..<20 { _ = engine.process(model.nextBlock(count: 400)) }
        let counted = engine.registers
        #expect(counted.total.activeImportMilliwattHours > 3_000)
        engine.restore(older)
        // Import counted beyond the snapshot stays; export rises to the snapshot's.
        #expect(engine.registers.total.activeImportMilliwattHours == counted.total.activeImportMilliwattHours)
        #expect(engine.registers.total.activeExportMilliwattHours == 9_000)
        #expect(engine.registers.phases[2].reactiveQ3MillivarHours == 77)
        for (a, b) in zip(engine.registers.phases + [engine.registers.total], counted.phases + [counted.total]) {
            for (x, y) in zip(a.all, b.all) { #expect(x >= y) }
        }
        // Counting goes on from the restored values.
        for _ in 0..<20 { _ = engine.process(model.nextBlock(count: 400)) }
        #expect(engine.registers.total.activeExportMilliwattHours == 9_000)
        #expect(engine.registers.total.activeImportMilliwattHours > counted.total.activeImportMilliwattHours)
    }

    @Test func mergeTakesTheLargerOfEachRegisterAndIsSymmetric() {
        var a = RegisterSnapshot()
        var b = RegisterSnapshot()
        a.total.activeImportMilliwattHours = 10
        b.total.activeImportMilliwattHours = 7
        a.phases[1].activeExportMilliwattHours = 1
        b.phases[1].activeExportMilliwattHours = 3
        b.phases = Array(b.phases.prefix(2))  // a damaged record with only two phases
        let m = a.merged(with: b)
        #expect(m == b.merged(with: a))
        #expect(m.total.activeImportMilliwattHours == 10)
        #expect(m.phases.count == 3 && m.phases[1].activeExportMilliwattHours == 3)
    }

    @Test func snapshotRoundTripsThroughJSON() throws {
        var s = RegisterSnapshot()
        s.total.activeImportMilliwattHours = Int64.max / 2
        s.phases[0].reactiveQ2MillivarHours = 123
        let data = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(RegisterSnapshot.self, from: data) == s)
    }

    /// An hour of samples through the whole engine: the register ends where P × 1 h puts it,
    /// well within 1 Wh (the signal is ideal, so P itself is exact to ~1e-8 and what is left is
    /// the integration: windows tiling the hour, and no remainder lost). Seen: 0.6 mWh on 21.6 kWh.
    @Test func noRegisterDriftOverASimulatedHour() throws {
        // 1 kS/s and exactly 50 Hz, so one block of 50 cycles can be replayed with a moving clock.
        var grid = SimulatedGridConfiguration.test(current: 80, phaseAngle: 20, sampleRate: 1000)
        grid.phases = [
            .init(current: 80, phaseAngle: 20), .init(current: 60, phaseAngle: 20), .init(current: 40, phaseAngle: 200),
        ]
        var model = try GridSignalModel(configuration: grid)
        let block = model.nextBlock(count: 1000)
        var engine = try MeteringEngine()
        var readings: [MeterReading] = []
        for second in 0..<3600 {
            let b = SampleBlock(sampleRate: 1000, firstSample: UInt64(second) * 1000, channels: block.channels)
            readings += engine.process(b)
        }
        readings += engine.finish().map { [$0] } ?? []
        let truths = (0..<3).map { model.truth(phase: $0) }
        let first = try #require(readings.first)
        let last = try #require(readings.last)
        let seconds = last.end - first.start
        #expect(seconds > 3598)
        let registers = engine.registers
        // Phases 1 and 2 import, phase 3 exports; the total registers are net.
        let importWh = (truths[0].activePower + truths[1].activePower) * seconds / 3600
        let exportWh = -truths[2].activePower * seconds / 3600
        let netWh = importWh - exportWh
        let phaseImport =
            registers.phases[0].activeImportMilliwattHours + registers.phases[1].activeImportMilliwattHours
        #expect(abs(Double(phaseImport) / 1000 - importWh) < 0.01)
        #expect(abs(Double(registers.phases[2].activeExportMilliwattHours) / 1000 - exportWh) < 0.01)
        #expect(abs(Double(registers.total.activeImportMilliwattHours) / 1000 - netWh) < 0.01)
        #expect(registers.total.activeExportMilliwattHours == 0)
    }
}

@Suite struct WindowIntegrationTests {
    /// The end weights integrate cubics exactly over any fractional window.
    @Test(arguments: [(3.25, 20.5), (2.0, 17.0), (5.999, 30.001), (4.5, 13.75)])
    func edgeWeightsIntegrateCubicsExactly(t0: Double, t1: Double) {
        let a = Int(t0.rounded(.up))
        let b = Int(t1.rounded(.down))
        let (head, tail) = MeteringEngine.edgeWeights(t0: t0, t1: t1, a: a, b: b)
        func f(_ x: Double) -> Double { 0.3 * x * x * x - 2 * x * x + x - 7 }
        func F(_ x: Double) -> Double { 0.075 * x * x * x * x - 2 * x * x * x / 3 + x * x / 2 - 7 * x }
        var sum = 0.0
        for (k, w) in zip(a - 2...a + 1, head) { sum += w * f(Double(k)) }
        for (k, w) in zip(b - 1...b + 2, tail) { sum += w * f(Double(k)) }
        for k in (a + 2)...(b - 2) { sum += f(Double(k)) }
        #expect(abs(sum - (F(t1) - F(t0))) < 1e-9 * abs(F(t1) - F(t0)))
    }
}
