import Foundation
import Hardware
import Testing

@Suite struct SimulatedGridTests {
    func config(_ edit: (inout SimulatedGridConfiguration) -> Void = { _ in }) -> SimulatedGridConfiguration {
        var c = SimulatedGridConfiguration()
        c.realTime = false
        edit(&c)
        return c
    }

    @Test func phaseIsContinuousAcrossBlocks() throws {
        let c = config {
            $0.frequencyRamps = [.init(start: 0.01, duration: 0.05, to: 51)]
            $0.phases = [.init(current: 10, phaseAngle: 30, currentHarmonics: [.init(order: 5, fraction: 0.2)])]
        }
        var whole = try GridSignalModel(configuration: c)
        var pieces = try GridSignalModel(configuration: c)
        let one = whole.nextBlock(count: 1000)
        let parts = [pieces.nextBlock(count: 7), pieces.nextBlock(count: 500), pieces.nextBlock(count: 493)]
        #expect(parts.map(\.firstSample) == [0, 7, 507])
        for ch in 0..<6 {
            #expect(parts.flatMap { $0.channels[ch] } == one.channels[ch])
        }
    }

    @Test func samplesFollowTheAnalyticModel() throws {
        var model = try GridSignalModel(
            configuration: config {
                $0.sensors.voltageRatio = 100
                $0.sensors.ctPrimary = 50
                $0.sensors.ctSecondary = 1
                $0.phases = [.init(voltage: 230, current: 20, phaseAngle: 90)]
            }
        )
        let block = model.nextBlock(count: 8000)
        // Sample n of V2 at 50 Hz: √2·230/100 · sin(2π·50·n/8000 − 120°).
        for n in [0, 13, 4321] {
            let t = Double(n) / 8000
            let v2 = 2.0.squareRoot() * 2.3 * sin(2 * Double.pi * 50 * t - 2 * Double.pi / 3)
            let i1 = 2.0.squareRoot() * 0.4 * sin(2 * Double.pi * 50 * t - Double.pi / 2)
            #expect(abs(Double(block[.v2][n]) - v2) < 1e-6)
            #expect(abs(Double(block[.i1][n]) - i1) < 1e-6)
        }
        // RMS over whole cycles matches the truth (harmonics and all).
        let truth = model.truth(phase: 0)
        let rms = (block[.v1].reduce(0) { $0 + Double($1) * Double($1) } / 8000).squareRoot() * 100
        #expect(abs(rms - truth.voltage) / truth.voltage < 1e-6)
        #expect(truth.reactivePower > 4599 && abs(truth.activePower) < 1e-9)
    }

    @Test func frequencyRampIntegratesToTheRightPhase() throws {
        let model = try GridSignalModel(
            configuration: config {
                $0.frequency = 49.5
                $0.frequencyRamps = [.init(start: 1, duration: 2, to: 50.5)]
            }
        )
        #expect(model.frequency(at: 0.5) == 49.5)
        #expect(abs(model.frequency(at: 2) - 50) < 1e-12)
        #expect(model.frequency(at: 10) == 50.5)
        // 49.5 cycles in the first second, 100 in the ramp, then 50.5 per second.
        #expect(abs(model.cycles(at: 1) - 49.5) < 1e-9)
        #expect(abs(model.cycles(at: 3) - 149.5) < 1e-9)
        #expect(abs(model.cycles(at: 4) - 200) < 1e-9)
        #expect(abs(model.meanFrequency(from: 1, to: 3) - 50) < 1e-12)
    }

    @Test func rogowskiOutputIsTheScaledDerivative() throws {
        var model = try GridSignalModel(
            configuration: config {
                $0.sampleRate = 100_000
                $0.sensors.rogowskiMvPerKa = 100
                $0.phases = [.init(current: 1000, currentHarmonics: [.init(order: 3, fraction: 0.1)])]
            }
        )
        let block = model.nextBlock(count: 4000)
        // M = 0.1 V/kA / (2π · 50 Hz): 1000 A at 50 Hz gives 0.1 V RMS, the 3rd harmonic three times its share.
        let rms = (block[.i1].reduce(0) { $0 + Double($1) * Double($1) } / 4000).squareRoot()
        let expected = 0.1 * (1 + 0.3 * 0.3).squareRoot()
        #expect(abs(rms - expected) / expected < 1e-5)
        // Numerical integral of the output over a quarter period equals M · Δi.
        let m = 1e-4 / (2 * Double.pi * 50)
        var integral = 0.0
        for n in 0..<500 { integral += Double(block[.i1][n] + block[.i1][n + 1]) / 2 / 100_000 }
        let current = { (t: Double) in
            1000 * 2.0.squareRoot() * (sin(2 * Double.pi * 50 * t) + 0.1 * sin(6 * Double.pi * 50 * t))
        }
        #expect(abs(integral / m - (current(0.005) - current(0))) < 0.01)
    }

    @Test func quantisationNoiseAndClipping() throws {
        var model = try GridSignalModel(
            configuration: config {
                $0.sensors.adcBits = 12
                $0.sensors.voltageFullScale = 300
                $0.sensors.noise = 0.001
                $0.seed = 7
            }
        )
        let block = model.nextBlock(count: 8000)
        let lsb = 600.0 / 4096
        for x in block[.v1].prefix(100) {
            let steps = Double(x) / lsb
            #expect(abs(steps - steps.rounded()) < 1e-3)
        }
        // 230 V RMS peaks at 325 V: clipped to the full scale.
        #expect(block[.v1].max()! <= 300 && block[.v1].min()! >= -300)
        #expect(block[.v1].filter { $0 >= 299 }.count > 100)
        // The noise has the configured RMS: the current channel carries signal + noise.
        var again = try GridSignalModel(
            configuration: config {
                $0.sensors.noise = 0.001
                $0.sensors.currentFullScale = 100
                $0.phases = [.init(current: 0)]
            }
        )
        let quiet = again.nextBlock(count: 40_000)
        let noiseRMS = (quiet[.i2].reduce(0) { $0 + Double($1) * Double($1) } / 40_000).squareRoot()
        #expect(abs(noiseRMS - 0.1) < 0.003)
        // The same seed gives the same samples.
        var twin = try GridSignalModel(configuration: again.configuration)
        #expect(twin.nextBlock(count: 40_000) == quiet)
    }

    @Test func loadScriptAndRuntimeLoadChangeTheCurrent() async throws {
        let source = try SimulatedSampleSource(
            configuration: config {
                $0.blockSize = 1000
                $0.loadScript = [.init(at: 0.2, currents: [5, 6, 7])]
            }
        )
        let first = try #require(try await source.nextBlock())
        #expect(abs(Double(first[.i1].map { abs($0) }.max()!) - 10 * 2.0.squareRoot()) < 0.01)
        let second = try #require(try await source.nextBlock())
        // The step at 0.2 s is sample 600 of the second block (0.125 s to 0.25 s).
        #expect(abs(Double(second[.i3][..<600].map { abs($0) }.max()!) - 10 * 2.0.squareRoot()) < 0.01)
        #expect(abs(Double(second[.i3][600...].map { abs($0) }.max()!) - 7 * 2.0.squareRoot()) < 0.01)
        // From another task, as the API does.
        await Task.detached { await source.setLoad(l1: 0, l2: 16, l3: 32) }.value
        let third = try #require(try await source.nextBlock())
        #expect(third.firstSample == 2000)
        #expect(third[.i1].allSatisfy { $0 == 0 })
        #expect(abs(Double(third[.i3].map { abs($0) }.max()!) - 32 * 2.0.squareRoot()) < 0.01)
        let truth = await source.truth()
        #expect(truth[2].current == 32)
    }

    @Test func finiteSourceEndsAndPacedSourceKeepsTime() async throws {
        let finite = try SimulatedSampleSource(
            configuration: config {
                $0.duration = 0.25
                $0.blockSize = 1000
            }
        )
        var counts: [Int] = []
        while let b = try await finite.nextBlock() { counts.append(b.count) }
        #expect(counts == [1000, 1000])
        let paced = try SimulatedSampleSource(
            configuration: config {
                $0.realTime = true
                $0.blockSize = 400
            }
        )
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<3 { _ = try await paced.nextBlock() }
        // Three blocks of 50 ms are due 150 ms after the first call.
        #expect(clock.now - start >= .milliseconds(145))
    }

    @Test func decodesSnakeCaseConfiguration() throws {
        let json = """
            {"sample_rate": 16000, "block_size": 160, "frequency": 60, "real_time": false,
             "frequency_ramps": [{"start": 1, "duration": 2, "to": 59.5}],
             "phases": [{"voltage": 120, "current": 30, "phase_angle": -36.87,
                         "current_harmonics": [{"order": 3, "fraction": 0.2}]}],
             "sample_neutral": true,
             "sensors": {"voltage_ratio": 500, "ct_primary": 200, "ct_secondary": 5, "adc_bits": 24, "noise": 1e-5},
             "load_script": [{"at": 10, "currents": [1, 2, 3], "phase_angles": [0, 0, 0]}], "seed": 42}
            """
        let c = try JSONDecoder().decode(SimulatedGridConfiguration.self, from: Data(json.utf8))
        #expect(c.sampleRate == 16000 && c.blockSize == 160 && c.frequency == 60 && !c.realTime)
        #expect(c.resolvedPhases.count == 3 && c.resolvedPhases[2].voltage == 120)
        #expect(c.phases[0].currentHarmonics[0].phase == 0)
        #expect(c.sensors.ctPrimary == 200 && c.sensors.adcBits == 24 && c.sensors.rogowskiMvPerKa == nil)
        #expect(c.loadScript[0].phaseAngles == [0, 0, 0] && c.seed == 42 && c.sampleNeutral)
        try c.validate()
        let empty = try JSONDecoder().decode(SimulatedGridConfiguration.self, from: Data("{}".utf8))
        #expect(empty == SimulatedGridConfiguration())
    }

    @Test func invalidConfigurationNamesTheKey() {
        var c = config { $0.phases = [.init(currentHarmonics: [.init(order: 90, fraction: 0.1)])] }
        #expect(throws: SimulatedGridConfigurationError.self) { try c.validate() }
        do {
            try c.validate()
        } catch {
            #expect(error.key == "phases[0].current_harmonics")
            #expect(error.description.contains("Nyquist"))
        }
        c = config { $0.loadScript = [.init(at: 1, currents: [1, 2])] }
        #expect(throws: SimulatedGridConfigurationError.self) { try GridSignalModel(configuration: c) }
    }
}
