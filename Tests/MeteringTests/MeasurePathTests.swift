import Foundation
import Hardware
import Metering
import Testing

/// `loadguard measure`'s path: a generated recording, read back by the `recording` backend and
/// measured by ``MeterRun``, gives exactly the readings of the engine fed directly.
@Suite struct MeasurePathTests {
    @Test func measuringARecordingMatchesTheEngineOnTheSameSamples() async throws {
        var grid = SimulatedGridConfiguration.test(current: 25, phaseAngle: -20, frequency: 49.9)
        grid.sampleNeutral = true
        grid.phases[0].currentHarmonics = [.init(order: 3, fraction: 0.1)]
        grid.sensors.noise = 1e-5
        var model = try GridSignalModel(configuration: grid)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("measure-\(UUID().uuidString).wav")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try WAVRecordingWriter(path: path, sampleRate: 8000, channelCount: 7)
        var direct = try MeteringEngine()
        var expected: [MeterReading] = []
        for _ in 0..<85 {
            let block = model.nextBlock(count: 400)
            try writer.write(block)
            expected += direct.process(block)
        }
        try writer.finish()
        if let last = direct.finish() { expected.append(last) }

        let source = try RecordingSampleSource(path: path)
        #expect(source.sampleRate == 8000 && source.channelCount == 7)
        var engine = try MeteringEngine()
        var readings: [MeterReading] = []
        var lines: [String] = []
        try await MeterRun.run(source: source, engine: &engine) { reading in
            readings.append(reading)
            lines.append(try MeterRun.jsonLine(reading))
        }
        #expect(readings.count == 5)
        #expect(readings == expected)
        let truth = model.truth(phase: 0)
        #expect(relativeError(readings[2].phases[0].activePower, truth.activePower) < 1e-3)

        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        #expect(object["second"] as? Int == 2)
        #expect((object["frequency"] as? Double).map { abs($0 - 49.9) < 1e-3 } == true)
        let phases = try #require(object["phases"] as? [[String: Any]])
        #expect(phases.count == 3 && phases[0]["active_power"] is Double && phases[0]["power_factor"] is Double)
        let energy = try #require(object["energy"] as? [String: Any])
        let total = try #require(energy["total"] as? [String: Any])
        #expect((total["active_import_wh"] as? Double ?? 0) > 0)
        #expect(object["neutral_current"] is Double)
        #expect(!lines[2].contains("\n"))
        // The JSON decodes back to the same reading.
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try decoder.decode(MeterReading.self, from: Data(lines[2].utf8)) == readings[2])
    }
}
