import Foundation
import Hardware
import Testing

/// The `iio` source against libiio's real `local:` and `ip:` backends, without hardware: each test
/// runs HardwareProbe inside Scripts/iio-sandbox.sh, which puts a fake ADE9000 (sysfs tree on a
/// tmpfs over /sys/bus, a FIFO as /dev/iio:device0) and, for `ip:`, Debian's iiod on 127.0.0.1 into
/// private mount and network namespaces. The test writes the ADC codes the FIFO delivers and checks
/// the sensor values that come out. If the namespaces cannot be made, the tests fail and say why.
@Suite(.serialized)
struct IIOBackendTests {
    /// The ADE9000 driver's scan order: current0 voltage0 current1 voltage1 current2 voltage2 (current3).
    static let scanOrder = ["current0", "voltage0", "current1", "voltage1", "current2", "voltage2", "current3"]
    static let fullScaleCodes = 74_770_000.0

    /// A configuration in blocks of 100 samples, with distinct full scales per current channel so
    /// that a swapped channel shows.
    static func configuration(
        uri: String,
        neutral: Bool,
        refillTimeout: Double,
        extra: String = ""
    ) -> String {
        let channels = neutral ? #", "in": "current3""# : ""
        let neutralScale = neutral ? #", "in": 0.025"# : ""
        return """
            {"uri": "\(uri)", "device": "ade9000", "buffer_size": 100, "sample_rate": 8000,
             "refill_timeout": \(refillTimeout),
             "channels": {"v1": "voltage0", "v2": "voltage1", "v3": "voltage2",
                          "i1": "current0", "i2": "current1", "i3": "current2"\(channels)},
             "full_scale": {"i1": 0.1, "i2": 0.2, "i3": 0.05\(neutralScale)}\(extra)}
            """
    }

    /// ADC code of sample `k` of the IIO channel at scan position `position`: full scale, minus
    /// full scale, -1, Int32.min and Int32.max first (sign, byte order and range), then a 50 Hz
    /// sine at 8 kS/s whose amplitude and phase differ per channel.
    static func code(sample k: Int, position: Int) -> Int32 {
        switch k {
        case 0: return Int32(fullScaleCodes)
        case 1: return -Int32(fullScaleCodes)
        case 2: return -1
        case 3: return .min
        case 4: return .max
        default:
            let amplitude = 0.9 - 0.1 * Double(position)
            let phase = 2 * Double.pi * Double(k) * 50 / 8000 + Double(position)
            return Int32((amplitude * fullScaleCodes * sin(phase)).rounded())
        }
    }

    /// The samples of the enabled channels, interleaved in scan order, big-endian s32.
    static func samples(count: Int, channels: Int) -> Data {
        var data = Data(capacity: count * channels * 4)
        for k in 0..<count {
            for position in 0..<channels {
                withUnsafeBytes(of: code(sample: k, position: position).bigEndian) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// The sensor value that the ADE9000 convention gives code `code` for a full scale `fullScale`.
    static func expected(code: Int32, fullScale: Double) -> Double {
        Double(code) / fullScaleCodes * fullScale
    }

    static func checkValues(
        _ output: ProbeOutput,
        blocks: Int,
        channels: [(SampleChannel, position: Int, value: (Int32) -> Double)]
    ) {
        #expect(output.blocks.count == blocks, "\(output.transcript)")
        for (index, block) in output.blocks.enumerated() {
            #expect(block.firstSample == UInt64(index * 100))
            #expect(block.count == 100)
            for (channel, position, value) in channels {
                let values = block.values["\(channel)"] ?? []
                #expect(values.count == 100, "channel \(channel) of block \(index)")
                for (offset, actual) in values.enumerated() {
                    let k = index * 100 + offset
                    let want = value(code(sample: k, position: position))
                    let tolerance = 2e-7 * max(abs(want), 1e-3)
                    if abs(Double(actual) - want) > tolerance {
                        Issue.record("\(channel) sample \(k): got \(actual), expected \(want)")
                        return
                    }
                }
            }
        }
    }

    @Test func localBackendDeliversKnownCodesAsSensorValues() async throws {
        let output = try await runProbe(
            backend: "local",
            configuration: Self.configuration(uri: "local:", neutral: true, refillTimeout: 0.4),
            samples: Self.samples(count: 300, channels: 7),
            blocks: 3,
            environment: ["FAKE_IIO_NEUTRAL": "1"]
        )
        #expect(output.opened?.channels == 7)
        #expect(output.opened?.sampleRate == 8000)
        Self.checkValues(
            output,
            blocks: 3,
            channels: [
                (.v1, 1, { Self.expected(code: $0, fullScale: 1.0) }),
                (.v2, 3, { Self.expected(code: $0, fullScale: 1.0) }),
                (.v3, 5, { Self.expected(code: $0, fullScale: 1.0) }),
                (.i1, 0, { Self.expected(code: $0, fullScale: 0.1) }),
                (.i2, 2, { Self.expected(code: $0, fullScale: 0.2) }),
                (.i3, 4, { Self.expected(code: $0, fullScale: 0.05) }),
                (.neutral, 6, { Self.expected(code: $0, fullScale: 0.025) }),
            ]
        )
        // The first samples are exactly plus and minus full scale.
        #expect(output.blocks.first?.values["V1"]?.prefix(2) == [1.0, -1.0])
        #expect(output.blocks.first?.values["I2"]?.prefix(2) == [0.2, -0.2])
        // The FIFO then stays open without data: the next refill times out and the meter is stale.
        #expect(output.end?.case == "stale", "\(output.transcript)")
        #expect(output.end?.description == "no samples for 0.4 s: the meter is stale")
        #expect((output.end?.seconds ?? 99) < 5)
    }

    @Test func ipBackendThroughIiodDeliversKnownCodesAsSensorValues() async throws {
        let output = try await runProbe(
            backend: "ip",
            configuration: Self.configuration(
                uri: "ip:127.0.0.1",
                neutral: false,
                refillTimeout: 0.5,
                extra: #", "scale": {"v3": 2e-8}, "offset": {"v3": 100}"#
            ),
            samples: Self.samples(count: 300, channels: 6),
            blocks: 3
        )
        #expect(output.opened?.channels == 6, "\(output.transcript)")
        Self.checkValues(
            output,
            blocks: 3,
            channels: [
                (.v1, 1, { Self.expected(code: $0, fullScale: 1.0) }),
                (.v2, 3, { Self.expected(code: $0, fullScale: 1.0) }),
                (.v3, 5, { (Double($0) + 100) * 2e-8 }),
                (.i1, 0, { Self.expected(code: $0, fullScale: 0.1) }),
                (.i2, 2, { Self.expected(code: $0, fullScale: 0.2) }),
                (.i3, 4, { Self.expected(code: $0, fullScale: 0.05) }),
            ]
        )
        #expect(output.end?.case == "stale", "\(output.transcript)")
    }

    @Test(arguments: ["local", "ip"])
    func cancelEndsABlockedRefillLongBeforeTheTimeout(backend: String) async throws {
        let uri = backend == "local" ? "local:" : "ip:127.0.0.1"
        let output = try await runProbe(
            backend: backend,
            configuration: Self.configuration(uri: uri, neutral: false, refillTimeout: 60),
            samples: Self.samples(count: 100, channels: 6),
            blocks: 1,
            cancelAfter: 0.2
        )
        #expect(output.blocks.count == 1, "\(output.transcript)")
        #expect(output.end?.case == "cancelled", "\(output.transcript)")
        #expect((output.end?.seconds ?? 99) < 10, "cancel must not wait for the 60 s refill timeout")
    }

    @Test func missingChannelIsReportedByName() async throws {
        let output = try await runProbe(
            backend: "local",
            configuration: Self.configuration(uri: "local:", neutral: false, refillTimeout: 1)
                .replacingOccurrences(of: #""i3": "current2""#, with: #""i3": "current7""#),
            samples: Data(),
            blocks: 1
        )
        #expect(output.openFailed?.case == "missingChannel", "\(output.transcript)")
        #expect(output.openFailed?.description == "device 'ade9000' has no channel 'current7'")
    }

    @Test func missingDeviceListsTheDevicesThatExist() async throws {
        let output = try await runProbe(
            backend: "local",
            configuration: Self.configuration(uri: "local:", neutral: false, refillTimeout: 1)
                .replacingOccurrences(of: #""device": "ade9000""#, with: #""device": "ade7880""#),
            samples: Data(),
            blocks: 1
        )
        #expect(output.openFailed?.case == "unavailable", "\(output.transcript)")
        #expect(
            output.openFailed?.description
                == "sample source unavailable: no IIO device 'ade7880' at local:; devices there: ade9000 (iio:device0)"
        )
    }

    @Test func sampleRateOfTheDeviceMustMatchTheConfiguration() async throws {
        let output = try await runProbe(
            backend: "local",
            configuration: Self.configuration(uri: "local:", neutral: false, refillTimeout: 1),
            samples: Data(),
            blocks: 1,
            environment: ["FAKE_IIO_SAMPLING_FREQUENCY": "32000"]
        )
        #expect(output.openFailed?.case == "unavailable", "\(output.transcript)")
        #expect(output.openFailed?.description.contains("samples at 32000.0 S/s") == true, "\(output.transcript)")
    }

    @Test func unreachableIiodIsReportedWithTheURI() async throws {
        let output = try await runProbe(
            backend: "ip-down",
            configuration: Self.configuration(uri: "ip:127.0.0.1", neutral: false, refillTimeout: 1),
            samples: Data(),
            blocks: 1
        )
        #expect(output.openFailed?.case == "unavailable", "\(output.transcript)")
        #expect(
            output.openFailed?.description.hasPrefix(
                "sample source unavailable: cannot open the IIO context 'ip:127.0.0.1': Connection refused"
            ) == true,
            "\(output.transcript)"
        )
    }
}

/// What HardwareProbe printed (see Tests/HardwareProbe/main.swift for the format).
struct ProbeOutput {
    struct Block {
        var firstSample: UInt64
        var count: Int
        var values: [String: [Float]] = [:]
    }

    var opened: (channels: Int, sampleRate: Double)?
    var blocks: [Block] = []
    var end: (case: String, seconds: Double, description: String)?
    var openFailed: (case: String, description: String)?
    /// Everything the sandbox printed, for failure messages.
    var transcript = ""

    init(stdout: String, stderr: String, status: Int32) {
        transcript =
            "exit status \(status)\n--- stdout (values cut)\n"
            + stdout.split(separator: "\n").map { $0.prefix(100) }.joined(separator: "\n")
            + "\n--- stderr\n\(stderr)"
        for line in stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "opened":
                opened = (Int(fields[1]) ?? -1, Double(fields[2]) ?? -1)
            case "block":
                blocks.append(Block(firstSample: UInt64(fields[1]) ?? .max, count: Int(fields[2]) ?? -1))
            case "values":
                blocks[blocks.count - 1].values[fields[1]] = fields.dropFirst(2).map { Float($0) ?? .nan }
            case "end":
                end = (fields[1], Double(fields[2]) ?? -1, fields.dropFirst(3).joined(separator: " "))
            case "open-failed":
                openFailed = (fields[1], fields.dropFirst(2).joined(separator: " "))
            default:
                break
            }
        }
    }
}

/// Runs HardwareProbe in the sandbox with `samples` as the fake device's data.
func runProbe(
    backend: String,
    configuration: String,
    samples: Data,
    blocks: Int,
    cancelAfter: Double? = nil,
    environment: [String: String] = [:]
) async throws -> ProbeOutput {
    let fileManager = FileManager.default
    let work = fileManager.temporaryDirectory.appendingPathComponent("loadguard-iio-\(UUID().uuidString)")
    try fileManager.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? fileManager.removeItem(at: work) }
    try samples.write(to: work.appendingPathComponent("samples.bin"))

    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts/iio-sandbox.sh").path
    let probe = try probeExecutable()
    let stdoutURL = work.appendingPathComponent("stdout")
    let stderrURL = work.appendingPathComponent("stderr")
    try Data().write(to: stdoutURL)
    try Data().write(to: stderrURL)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments =
        [script, work.path, backend, probe, configuration, "\(blocks)"] + (cancelAfter.map { ["\($0)"] } ?? [])
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
    process.standardError = try FileHandle(forWritingTo: stderrURL)
    process.standardInput = FileHandle.nullDevice

    let status: Int32 = try await withThrowingTaskGroup(of: Int32?.self) { group in
        group.addTask {
            await withCheckedContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(returning: -1)
                }
            }
        }
        group.addTask {
            // A guard against a hung sandbox, far above the few seconds a run takes.
            try await Task.sleep(for: .seconds(120))
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        if first == nil, process.isRunning {
            process.terminate()
        }
        return first ?? -2
    }
    let stdout = (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
    let output = ProbeOutput(stdout: stdout, stderr: stderr, status: status)
    if status == -1 { Issue.record("cannot start /bin/sh \(script)") }
    if status == -2 { Issue.record("the IIO sandbox did not finish within 120 s\n\(output.transcript)") }
    if status != 0 {
        let message =
            "the IIO sandbox failed (status \(status)); these tests need root (or user namespaces), util-linux, "
            + "iproute2 and iiod\n\(output.transcript)"
        Issue.record("\(message)")
    }
    return output
}

/// HardwareProbe, built next to the test bundle.
func probeExecutable() throws -> String {
    let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
    // On Linux the test binary is <build>/<name>PackageTests.xctest; elsewhere a bundle inside <build>.
    while !directory.path.isEmpty, directory.path != "/" {
        let candidate = directory.appendingPathComponent("HardwareProbe").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
    }
    struct ProbeNotFound: Error, CustomStringConvertible {
        var testBinary: String
        var description: String {
            "HardwareProbe not found in a parent directory of \(testBinary): build it with the tests"
        }
    }
    throw ProbeNotFound(testBinary: testBinary)
}
