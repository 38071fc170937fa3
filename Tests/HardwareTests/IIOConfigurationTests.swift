import Foundation
import Hardware
import Logging
import Testing

struct IIOConfigurationTests {
    private func decode(_ json: String) throws -> IIOSourceConfiguration {
        try JSONDecoder().decode(IIOSourceConfiguration.self, from: Data(json.utf8))
    }

    /// The message a decoding failure carries for the person editing the config file.
    private func decodingProblem(_ json: String) -> String? {
        do {
            _ = try decode(json)
            return nil
        } catch let DecodingError.dataCorrupted(context) {
            return context.debugDescription
        } catch {
            return "\(error)"
        }
    }

    private let currents = #""full_scale": {"i1": 0.1, "i2": 0.1, "i3": 0.1}"#

    @Test func defaultsDescribeAnADE9000On8kSamplesPerSecond() throws {
        let configuration = try decode("{\(currents)}")
        #expect(configuration.uri == "local:")
        #expect(configuration.device == "ade9000")
        #expect(configuration.channels == IIOSourceConfiguration.ade9000Channels)
        #expect(configuration.sampleRate == 8000)
        #expect(configuration.bufferSize == 800)
        #expect(configuration.kernelBuffers == 4)
        #expect(configuration.refillTimeout == 1.0)
        #expect(configuration.fullScaleCodes == 74_770_000)
        #expect(configuration.fullScale == [.v1: 1, .v2: 1, .v3: 1, .i1: 0.1, .i2: 0.1, .i3: 0.1])
        #expect(configuration.sampleChannels == SampleChannel.phaseChannels)
    }

    @Test func snakeCaseKeysAreRead() throws {
        let configuration = try decode(
            """
            {"uri": "ip:192.168.1.20", "device": "iio:device1", "sample_rate": 32000, "buffer_size": 3200,
             "kernel_buffers": 8, "refill_timeout": 0.5, "full_scale_codes": 8388608,
             "channels": {"v1": "a", "v2": "b", "v3": "c", "i1": "d", "i2": "e", "i3": "f", "in": "g"},
             "full_scale": {"v1": 0.5, "i1": 0.05, "i2": 0.05, "i3": 0.05, "in": 0.01},
             "scale": {"v2": 1e-9}, "offset": {"i3": -12}}
            """
        )
        #expect(configuration.uri == "ip:192.168.1.20")
        #expect(configuration.device == "iio:device1")
        #expect(configuration.sampleRate == 32000)
        #expect(configuration.bufferSize == 3200)
        #expect(configuration.kernelBuffers == 8)
        #expect(configuration.refillTimeout == 0.5)
        #expect(configuration.fullScaleCodes == 8_388_608)
        #expect(configuration.channels[.neutral] == "g")
        #expect(configuration.sampleChannels.count == 7)
        #expect(configuration.conversion(for: .v1) == SampleConversion(scale: 0.5 / 8_388_608))
        #expect(configuration.conversion(for: .v2) == SampleConversion(scale: 1e-9))
        #expect(configuration.conversion(for: .v3) == SampleConversion(scale: 1.0 / 8_388_608))
        #expect(configuration.conversion(for: .i3) == SampleConversion(scale: 0.05 / 8_388_608, offset: -12))
        #expect(configuration.conversion(for: .neutral) == SampleConversion(scale: 0.01 / 8_388_608))
    }

    @Test func conversionFollowsTheADE9000FullScaleConvention() {
        let configuration = IIOSourceConfiguration(fullScale: [.v1: 1, .v2: 1, .v3: 1, .i1: 0.1, .i2: 0.1, .i3: 0.1])
        let voltage = configuration.conversion(for: .v1)
        #expect(voltage.value(ofCode: 74_770_000) == 1.0)
        #expect(voltage.value(ofCode: -74_770_000) == -1.0)
        #expect(voltage.value(ofCode: 37_385_000) == 0.5)
        #expect(voltage.value(ofCode: 0) == 0)
        let current = configuration.conversion(for: .i1)
        #expect(current.value(ofCode: 74_770_000) == 0.1)
        #expect(current.value(ofCode: -7_477_000) == -0.01)
        let offsetScale = SampleConversion(scale: 0.5, offset: -3)
        #expect(offsetScale.value(ofCode: 5) == 1.0)
    }

    @Test func currentChannelsWithoutCalibrationAreRefusedWithAnExample() {
        #expect(
            decodingProblem("{}")
                == "iio.full_scale.i1 is missing: give the value at the sensor of I1 (current0) at 74770000 codes, "
                + "e.g. 0.1 A for a CT on a 10 Ω burden at 1 V full scale, or iio.scale.i1 in sensor units per code"
        )
        #expect(IIOSourceConfiguration().sampleChannels.count == 6)
        #expect(
            throws: IIOConfigurationError.missingCalibration(.i1, iioChannel: "current0", fullScaleCodes: 74_770_000)
        ) {
            try IIOSourceConfiguration().validate()
        }
    }

    @Test func scaleAloneCalibratesAChannel() throws {
        let configuration = try decode(#"{"scale": {"i1": 1e-9, "i2": 1e-9, "i3": 1e-9}}"#)
        #expect(configuration.conversion(for: .i2) == SampleConversion(scale: 1e-9))
    }

    @Test func unknownChannelKeysAreNamed() {
        #expect(
            decodingProblem(#"{"channels": {"v1": "voltage0", "v4": "voltage3"}}"#)
                == "iio.channels has an unknown channel 'v4': expected v1, v2, v3, i1, i2, i3 or in"
        )
        #expect(
            decodingProblem(#"{"full_scale": {"L1": 1}}"#)
                == "iio.full_scale has an unknown channel 'L1': expected v1, v2, v3, i1, i2, i3 or in"
        )
    }

    @Test func everyPhaseChannelMustBeMapped() {
        #expect(
            decodingProblem(#"{"channels": {"v1": "voltage0", "v2": "voltage1", "v3": "voltage2"}}"#)
                == "iio.channels.i1 is missing: name the IIO channel that measures I1 (for an ADE9000: current0)"
        )
    }

    @Test func twoChannelsCannotReadTheSameIIOChannel() {
        let json = """
            {"channels": {"v1": "voltage0", "v2": "voltage0", "v3": "voltage2",
                          "i1": "current0", "i2": "current1", "i3": "current2"}, \(currents)}
            """
        #expect(
            decodingProblem(json)
                == "iio.channels.v1 and iio.channels.v2 both read 'voltage0': "
                + "each sample channel needs its own IIO channel"
        )
    }

    @Test func calibrationOfAnUnmappedChannelIsRefused() {
        #expect(
            decodingProblem(#"{"full_scale": {"i1": 0.1, "i2": 0.1, "i3": 0.1, "in": 0.1}}"#)
                == "iio.full_scale.in is set but iio.channels.in is not: map the channel or remove the calibration"
        )
    }

    @Test func refillTimeoutMustCoverTwoBlocks() {
        // 800 samples at 8 kS/s are 0.1 s: the timeout must be at least 0.2 s.
        #expect(
            decodingProblem("{\(currents), \"refill_timeout\": 0.15}")
                == "iio.refill_timeout is 0.15: expected seconds ≥ twice the block duration (0.2 s for 800 samples "
                + "at 8000.0 S/s)"
        )
        #expect(decodingProblem("{\(currents), \"refill_timeout\": 0.2}") == nil)
    }

    @Test(arguments: [
        (#""sample_rate": 0"#, "iio.sample_rate is 0.0: expected samples per second > 0"),
        (#""buffer_size": 0"#, "iio.buffer_size is 0: expected samples per block ≥ 1"),
        (#""kernel_buffers": 0"#, "iio.kernel_buffers is 0: expected a count ≥ 1"),
        (#""full_scale_codes": -1"#, "iio.full_scale_codes is -1.0: expected ADC codes > 0"),
        (#""uri": """#, "iio.uri is \"\": expected a libiio URI such as local: or ip:HOST"),
        (#""scale": {"v1": 0}"#, "iio.scale.v1 is 0.0: expected a finite, non-zero value"),
    ])
    func outOfRangeValuesAreNamed(fragment: String, message: String) {
        #expect(decodingProblem("{\(currents), \(fragment)}") == message)
    }

    @Test func negativeFullScaleIsRefused() {
        #expect(
            decodingProblem(#"{"full_scale": {"i1": -0.1, "i2": 0.1, "i3": 0.1}}"#)
                == "iio.full_scale.i1 is -0.1: expected a value > 0"
        )
    }

    @Test func configKeysRoundTrip() {
        for channel in SampleChannel.allCases {
            #expect(SampleChannel(configKey: channel.configKey) == channel)
        }
        #expect(SampleChannel(configKey: "IN") == nil)
    }

    @Test func invalidConfigurationIsRefusedBeforeOpeningAnything() {
        let logger = Logger(label: "test")
        #expect(
            throws: SampleSourceError.unavailable(
                "invalid configuration: iio.channels.v2 is missing: name the IIO channel that measures V2 "
                    + "(for an ADE9000: voltage1)"
            )
        ) {
            _ = try IIOSampleSource(
                configuration: IIOSourceConfiguration(channels: [.v1: "voltage0"]),
                logger: logger
            )
        }
    }
}
