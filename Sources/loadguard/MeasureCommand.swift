import ArgumentParser
import Foundation
import Hardware
import Metering
import Yams

/// `loadguard measure --recording FILE.wav [--config FILE] --json`: runs the measurement engine
/// over a recording and prints one reading per second, then exits at the end of the file.
struct MeasureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "Measure a recording: one reading per second (V, A, W, var, VA, PF, Hz, energy registers).",
        discussion: """
            The recording is a 6- or 7-channel 32-bit float WAV file (V1 V2 V3 I1 I2 I3 [IN], at the \
            sensor), as `loadguard record` writes it. With --config, the `meter: calibration:` section of \
            that site configuration turns sensor values into line values; without it, samples are taken \
            as line volts and amperes.
            """
    )

    @Option(name: .long, help: "The WAV recording to measure.")
    var recording: String

    @Option(name: .long, help: "A site configuration (YAML) whose meter.calibration section applies.")
    var config: String?

    @Flag(name: .long, help: "Print each reading as one line of JSON.")
    var json = false

    func run() async throws {
        let calibration = try config.map(Self.loadCalibration) ?? MeterCalibration()
        var engine: MeteringEngine
        do {
            engine = try MeteringEngine(calibration: calibration)
        } catch {
            throw MeasureError(message: "\(config ?? "calibration"): \(error)")
        }
        let source: RecordingSampleSource
        do {
            source = try RecordingSampleSource(path: recording)
        } catch {
            throw MeasureError(message: error.description)
        }
        let json = self.json
        try await MeterRun.run(source: source, engine: &engine) { reading in
            print(json ? try MeterRun.jsonLine(reading) : MeterRun.textLine(reading))
        }
    }

    /// Reads only `meter.calibration` from a site configuration file.
    static func loadCalibration(path: String) throws -> MeterCalibration {
        struct Site: Decodable {
            struct Meter: Decodable { var calibration: MeterCalibration? }
            var meter: Meter?
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw MeasureError(message: "cannot read configuration '\(path)': \(error.localizedDescription)")
        }
        do {
            return try YAMLDecoder().decode(Site.self, from: text).meter?.calibration ?? MeterCalibration()
        } catch let error as DecodingError {
            throw MeasureError(message: "configuration '\(path)': \(describe(error))")
        } catch {
            throw MeasureError(message: "configuration '\(path)' is not valid YAML: \(error)")
        }
    }

    /// A decoding error as "where: what".
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let c): return "'\(path(c.codingPath))': expected \(type). \(c.debugDescription)"
        case .valueNotFound(let type, let c): return "'\(path(c.codingPath))': expected a \(type), found none"
        case .keyNotFound(let key, let c): return "'\(path(c.codingPath + [key]))': required key missing"
        case .dataCorrupted(let c): return "'\(path(c.codingPath))': \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// Why `measure` could not run, said the way a person can act on it.
struct MeasureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
