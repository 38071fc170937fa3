import Foundation
public import Hardware

/// Drives an engine from a ``SampleSource`` until the source ends: what `loadguard measure`
/// does with a recording, and what tests do with a generated one.
public enum MeterRun {
    /// Feeds every block of `source` to `engine` and hands each reading to `body`, including the
    /// partial last second when the source ends.
    public static func run(
        source: any SampleSource,
        engine: inout MeteringEngine,
        body: (MeterReading) throws -> Void
    ) async throws {
        while let block = try await source.nextBlock() {
            for reading in engine.process(block) { try body(reading) }
        }
        if let last = engine.finish() { try body(last) }
    }

    /// One reading as a single line of JSON (snake_case keys, sorted), as `loadguard measure --json`
    /// prints it.
    public static func jsonLine(_ reading: MeterReading) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(reading), as: UTF8.self)
    }

    /// One reading as a line for people: second, frequency, per-phase V, A, W, and total W and Wh.
    public static func textLine(_ reading: MeterReading) -> String {
        func f(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
        var parts = ["t=\(reading.second)s", "f=" + (reading.frequency.map { f($0, 3) } ?? "-") + "Hz"]
        for (k, p) in reading.phases.enumerated() {
            parts.append("L\(k + 1) \(f(p.voltage, 1))V \(f(p.current, 2))A \(f(p.activePower, 0))W")
        }
        parts.append("P=\(f(reading.total.activePower, 0))W")
        parts.append("import=\(f(reading.energy.total.activeImportWh, 3))Wh")
        parts.append("export=\(f(reading.energy.total.activeExportWh, 3))Wh")
        if reading.settling { parts.append("(settling)") }
        return parts.joined(separator: " ")
    }
}
