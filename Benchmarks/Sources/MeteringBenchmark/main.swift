// Metering engine throughput on one core, as a multiple of real time, for 6 channels at 8 kS/s
// and 32 kS/s, against a vectorised numpy implementation of the same computation
// (Benchmarks/python/metering_numpy.py) on the same recording, in the same run.
//
// Targets: at least 1,000× real time at 8 kS/s, and faster than numpy at both rates.
// Environment: LOADGUARD_PYTHON names the Python with numpy (default: ../.venv/bin/python when
// it exists, else python3). LOADGUARD_BENCH_KEEP=1 keeps the generated recordings in the
// temporary directory (loadguard-metering-bench/) for a look with sox or numpy.

import Foundation
import Hardware
import Metering

/// One recording: a CT-metered three-phase site with harmonics, noise, 24-bit samples, a
/// wandering frequency and a load that steps, written as the `recording` backend reads it.
func makeRecording(rate: Double, seconds: Double, path: String) throws -> [SampleBlock] {
    var grid = SimulatedGridConfiguration()
    grid.realTime = false
    grid.sampleRate = rate
    grid.frequency = 50
    grid.frequencyWander = .init(amplitude: 0.05, period: 20)
    grid.phases = (0..<3).map { p in
        var phase = SimulatedGridConfiguration.Phase(voltage: 230, current: 40 + 10 * Double(p), phaseAngle: 25)
        phase.voltageHarmonics = [.init(order: 3, fraction: 0.03), .init(order: 5, fraction: 0.04)]
        phase.currentHarmonics = [
            .init(order: 3, fraction: 0.15), .init(order: 5, fraction: 0.1), .init(order: 7, fraction: 0.07),
        ]
        phase.currentSensorLead = 1
        return phase
    }
    grid.loadScript = [.init(at: seconds / 2, currents: [60, 20, 35])]
    grid.sensors.voltageRatio = 1000
    grid.sensors.ctPrimary = 100
    grid.sensors.ctSecondary = 5
    grid.sensors.voltageFullScale = 0.5
    grid.sensors.currentFullScale = 17
    grid.sensors.adcBits = 24
    grid.sensors.noise = 3e-5
    var model = try GridSignalModel(configuration: grid)
    let writer = try WAVRecordingWriter(path: path, sampleRate: rate, channelCount: 6)
    var blocks: [SampleBlock] = []
    let perBlock = Int(rate / 10)
    for _ in 0..<Int(seconds * 10) {
        let block = model.nextBlock(count: perBlock)
        try writer.write(block)
        blocks.append(block)
    }
    try writer.finish()
    return blocks
}

/// The calibration that matches the recording's sensors (and the numpy arguments 1000, 20, 1).
let calibration: MeterCalibration = {
    var c = MeterCalibration()
    c.voltage = .init(gain: 1000)
    c.current = .init(ctPrimary: 100, ctSecondary: 5, phaseLeadDegrees: 1)
    return c
}()

/// Best of three runs of the engine over the blocks (already in memory): seconds and result.
func runEngine(_ blocks: [SampleBlock]) throws -> (seconds: Double, energyWh: Double, readings: Int) {
    var best = Double.infinity
    var energy = 0.0
    var count = 0
    for _ in 0..<3 {
        var engine = try MeteringEngine(calibration: calibration)
        var readings = 0
        let clock = ContinuousClock()
        let start = clock.now
        for block in blocks { readings += engine.process(block).count }
        if engine.finish() != nil { readings += 1 }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        best = min(best, seconds)
        energy = Double(engine.registers.total.activeImportMilliwattHours) / 1000
        count = readings
    }
    return (best, energy, count)
}

struct NumpyResult: Decodable {
    var compute_seconds: Double
    var signal_seconds: Double
    var energy_wh: Double
    var numpy: String
}

func python() -> String {
    if let p = ProcessInfo.processInfo.environment["LOADGUARD_PYTHON"] { return p }
    let venv = FileManager.default.currentDirectoryPath + "/../.venv/bin/python"
    return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
}

/// Best of three runs of the numpy implementation on the same file.
func runNumpy(path: String) throws -> NumpyResult {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../python/metering_numpy.py").standardized.path
    var best: NumpyResult?
    for _ in 0..<3 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python(), script, path, "1000", "20", "1", "50"]
        // One core for numpy too: no BLAS threads.
        var environment = ProcessInfo.processInfo.environment
        for key in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] { environment[key] = "1" }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchmarkError("the numpy baseline failed (\(python()) \(script)): is numpy installed?")
        }
        let result = try JSONDecoder().decode(NumpyResult.self, from: data)
        if best == nil || result.compute_seconds < best!.compute_seconds { best = result }
    }
    return best!
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func format(_ x: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", x) }

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loadguard-metering-bench")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
var failures: [String] = []
print("MeteringBenchmark: 6 channels, one core; times are the best of 3 runs")
for (rate, seconds) in [(8000.0, 120.0), (32000.0, 30.0)] {
    let path = directory.appendingPathComponent("site-\(Int(rate)).wav").path
    let blocks = try makeRecording(rate: rate, seconds: seconds, path: path)
    let engine = try runEngine(blocks)
    let numpy = try runNumpy(path: path)
    let engineRealTime = seconds / engine.seconds
    let numpyRealTime = numpy.signal_seconds / numpy.compute_seconds
    let ratio = numpy.compute_seconds / engine.seconds
    let energyDifference = abs(engine.energyWh - numpy.energy_wh) / numpy.energy_wh
    print("  \(Int(rate / 1000)) kS/s, \(Int(seconds)) s recording:")
    print(
        "    engine:  \(format(engineRealTime))× real time "
            + "(\(format(engine.seconds * 1000, 1)) ms, \(engine.readings) readings)"
    )
    print(
        "    numpy \(numpy.numpy): \(format(numpyRealTime))× real time (\(format(numpy.compute_seconds * 1000, 1)) ms)"
    )
    print("    engine / numpy: \(format(ratio, 2))× faster")
    print(
        "    same result: energy \(format(engine.energyWh, 3)) Wh vs \(format(numpy.energy_wh, 3)) Wh "
            + "(\(format(energyDifference * 100, 4)) %)"
    )
    if energyDifference > 1e-4 { failures.append("\(Int(rate)) S/s: results differ by \(energyDifference)") }
    if ratio < 1 { failures.append("\(Int(rate)) S/s: slower than numpy (\(format(ratio, 2))×)") }
    if rate == 8000 && engineRealTime < 1000 {
        failures.append("8 kS/s: \(format(engineRealTime))× real time, below 1000×")
    }
}
if ProcessInfo.processInfo.environment["LOADGUARD_BENCH_KEEP"] == nil {
    try? FileManager.default.removeItem(at: directory)
}
if failures.isEmpty {
    print("  targets met: ≥ 1000× real time at 8 kS/s, faster than numpy at both rates")
} else {
    print("  TARGETS MISSED: " + failures.joined(separator: "; "))
    exit(1)
}
