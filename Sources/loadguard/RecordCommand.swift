import ArgumentParser
import Foundation
import Hardware
import LoadGuard
import Logging

/// `loadguard record --seconds N --out FILE.wav [--config FILE]`: records the configured sample
/// source (simulated by default) into a WAV file that `measure`, sox or numpy can read.
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record the meter's raw samples (V1 V2 V3 I1 I2 I3 [IN]) into a 32-bit float WAV file."
    )

    @Option(name: .long, help: "Seconds to record.")
    var seconds: Double

    @Option(name: .long, help: "The WAV file to write.")
    var out: String

    @Option(name: .long, help: "A site configuration whose meter section names the source (default: simulated).")
    var config: String?

    func validate() throws {
        guard seconds > 0, seconds <= 86_400 else { throw ValidationError("--seconds: expected 0 < N ≤ 86400") }
    }

    func run() async throws {
        var meter = MeterSection()
        var base = ""
        if let config {
            do {
                meter = try LoadGuardConfiguration.load(path: config).meter
            } catch {
                throw ValidationError(error.description)
            }
            base = (config as NSString).deletingLastPathComponent
        }
        let source: any SampleSource
        switch meter.source {
        case .simulated:
            var grid = meter.simulated
            grid.realTime = false
            source = try SimulatedSampleSource(configuration: grid)
        case .iio:
            source = try IIOSampleSource(configuration: meter.iio!, logger: Logger(label: "loadguard.record"))
        case .recording:
            let file = meter.recording!.file
            source = try RecordingSampleSource(path: file.hasPrefix("/") || base.isEmpty ? file : base + "/" + file)
        }
        let writer = try WAVRecordingWriter(path: out, sampleRate: source.sampleRate, channelCount: source.channelCount)
        let total = UInt64(seconds * source.sampleRate)
        var written: UInt64 = 0
        while written < total, let block = try await source.nextBlock() {
            let keep = Int(min(UInt64(block.count), total - written))
            let trimmed =
                keep == block.count
                ? block
                : SampleBlock(
                    sampleRate: block.sampleRate,
                    firstSample: block.firstSample,
                    channels: block.channels.map { Array($0.prefix(keep)) }
                )
            try writer.write(trimmed)
            written += UInt64(keep)
        }
        try writer.finish()
        FileHandle.standardError.write(
            Data("\(out): \(written) samples × \(source.channelCount) channels at \(Int(source.sampleRate)) S/s\n".utf8)
        )
    }
}
