import Hardware
import Metering

/// A simulated grid and a matching calibration, run through the engine without I/O.
struct SimulatedRun {
    var grid: SimulatedGridConfiguration
    var calibration: MeterCalibration

    /// Runs `seconds` of signal; returns the readings, the windows and the model (for the truth).
    func run(seconds: Double, restore: RegisterSnapshot? = nil) throws -> (
        readings: [MeterReading], windows: [CycleWindow], model: GridSignalModel, engine: MeteringEngine
    ) {
        var model = try GridSignalModel(configuration: grid)
        var engine = try MeteringEngine(calibration: calibration)
        if let restore { engine.restore(restore) }
        var readings: [MeterReading] = []
        var windows: [CycleWindow] = []
        let total = Int((seconds * grid.sampleRate).rounded())
        var done = 0
        while done < total {
            let n = min(grid.blockSize, total - done)
            readings += engine.process(model.nextBlock(count: n))
            windows += engine.recentWindows
            done += n
        }
        return (readings, windows, model, engine)
    }
}

extension SimulatedGridConfiguration {
    /// A grid for tests: not paced in real time.
    static func test(
        current: Double = 100,
        phaseAngle: Double = 0,
        frequency: Double = 50,
        sampleRate: Double = 8000
    ) -> SimulatedGridConfiguration {
        var c = SimulatedGridConfiguration()
        c.realTime = false
        c.sampleRate = sampleRate
        c.frequency = frequency
        c.phases = [SimulatedGridConfiguration.Phase(voltage: 230, current: current, phaseAngle: phaseAngle)]
        return c
    }
}

/// Relative error of `measured` against `truth`.
func relativeError(_ measured: Double, _ truth: Double) -> Double {
    abs(measured - truth) / abs(truth)
}
