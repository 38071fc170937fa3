/// Where the `iio` sample source finds its ADC and how it turns ADC codes into values at the sensor.
///
/// Decoded from the `iio` section of the config file (snake_case keys). Every key has a default
/// except the calibration of the current channels, which depends on the board (burden resistor,
/// PGA gain, coil type) and so must be written down by the installer:
///
/// ```yaml
/// iio:
///   uri: "local:"             # or "ip:192.168.1.20" for a remote iiod
///   device: ade9000           # IIO device name, id (iio:device0) or label
///   sample_rate: 8000         # samples per second per channel, as the device is set up
///   buffer_size: 800          # samples per channel in one block (100 ms at 8 kS/s)
///   kernel_buffers: 4
///   refill_timeout: 1.0       # seconds without a block before the meter is stale
///   channels: {v1: voltage0, v2: voltage1, v3: voltage2, i1: current0, i2: current1, i3: current2}
///   full_scale_codes: 74770000
///   full_scale: {i1: 0.1, i2: 0.1, i3: 0.1}   # sensor value at full scale; V1–V3 default to 1.0 V
/// ```
///
/// A channel's sensor value is `(code + offset) × scale` when `scale` is given for it, and
/// `code ÷ full_scale_codes × full_scale` otherwise. The device's own IIO `scale` attribute is never
/// used: metering ICs such as the ADE9000 report it as a fraction of ADC full scale (1/74,770,000),
/// which sysfs rounds to 9 decimals (`0.000000013`, 2.8 % off). See docs/hardware.md.
public struct IIOSourceConfiguration: Sendable, Equatable {
    /// libiio context URI: `local:` for the ADC on this machine, `ip:HOST` for an `iiod` on the network.
    public var uri: String
    /// The IIO device: its name (`ade9000`), id (`iio:device0`) or label.
    public var device: String
    /// The IIO channel (id such as `voltage0`, or its name) that delivers each sample channel.
    /// The six phase channels are required, the neutral current is optional.
    public var channels: [SampleChannel: String]
    /// Samples per second per channel at which the device is set up. If the device has a
    /// `sampling_frequency` attribute, it must agree (within 0.1 %).
    public var sampleRate: Double
    /// Samples per channel in one block: one refill of the IIO buffer.
    public var bufferSize: Int
    /// Number of kernel buffers libiio asks for (the kernel's queue between the ADC and LoadGuard).
    public var kernelBuffers: Int
    /// Seconds to wait for one block before the source reports the meter stale.
    public var refillTimeout: Double
    /// ADC codes that correspond to `full_scale`: 74,770,000 for the ADE9000 waveform samples
    /// (the Linux driver's `ADE9000_PCF_FULL_SCALE_CODES`).
    public var fullScaleCodes: Double
    /// Sensor value at `fullScaleCodes`, per channel: volts at the ADC input for voltage channels,
    /// amperes at the CT secondary (ADC full-scale voltage ÷ burden resistance) for CT channels,
    /// volts for a Rogowski coil.
    public var fullScale: [SampleChannel: Double]
    /// Sensor units per ADC code, per channel; when given it replaces `fullScale` for that channel.
    public var scale: [SampleChannel: Double]
    /// Codes added before scaling, per channel (zero when absent).
    public var offset: [SampleChannel: Double]

    /// The ADE9000 channel names of the Linux driver: `currentN` and `voltageN` for phases A, B, C.
    public static let ade9000Channels: [SampleChannel: String] = [
        .v1: "voltage0", .v2: "voltage1", .v3: "voltage2",
        .i1: "current0", .i2: "current1", .i3: "current2",
    ]
    /// ADE9000 waveform-sample codes at ADC full scale (±1 V peak at the pins with PGA gain 1).
    public static let ade9000FullScaleCodes: Double = 74_770_000
    /// Default sensor value at full scale of the voltage channels: 1 V at the ADC input (ADE9000, PGA gain 1).
    public static let defaultVoltageFullScale: [SampleChannel: Double] = [.v1: 1.0, .v2: 1.0, .v3: 1.0]

    /// An ADE9000 on this machine at 8 kS/s in blocks of 100 ms, stale after 1 s without samples.
    ///
    /// The current channels have no calibration until `fullScale` or `scale` is set for them.
    public init(
        uri: String = "local:",
        device: String = "ade9000",
        channels: [SampleChannel: String] = IIOSourceConfiguration.ade9000Channels,
        sampleRate: Double = 8000,
        bufferSize: Int = 800,
        kernelBuffers: Int = 4,
        refillTimeout: Double = 1.0,
        fullScaleCodes: Double = IIOSourceConfiguration.ade9000FullScaleCodes,
        fullScale: [SampleChannel: Double] = IIOSourceConfiguration.defaultVoltageFullScale,
        scale: [SampleChannel: Double] = [:],
        offset: [SampleChannel: Double] = [:]
    ) {
        self.uri = uri
        self.device = device
        self.channels = channels
        self.sampleRate = sampleRate
        self.bufferSize = bufferSize
        self.kernelBuffers = kernelBuffers
        self.refillTimeout = refillTimeout
        self.fullScaleCodes = fullScaleCodes
        self.fullScale = fullScale
        self.scale = scale
        self.offset = offset
    }

    /// The sample channels this configuration delivers, in ``SampleChannel`` order (6 or 7).
    public var sampleChannels: [SampleChannel] {
        SampleChannel.allCases.filter { channels[$0] != nil }
    }

    /// How codes of `channel` become sensor values.
    public func conversion(for channel: SampleChannel) -> SampleConversion {
        let offset = self.offset[channel] ?? 0
        if let scale = scale[channel] {
            return SampleConversion(scale: scale, offset: offset)
        }
        let fullScale = self.fullScale[channel] ?? .nan
        return SampleConversion(scale: fullScale / fullScaleCodes, offset: offset)
    }

    /// Checks what decoding cannot: every phase channel mapped, every mapped channel calibrated,
    /// numbers in range. Throws the first problem found.
    public func validate() throws(IIOConfigurationError) {
        for channel in SampleChannel.phaseChannels where channels[channel] == nil {
            throw .missingChannelMapping(channel)
        }
        var seen: [String: SampleChannel] = [:]
        for channel in sampleChannels {
            let name = channels[channel]!
            if name.isEmpty { throw .emptyChannelName(channel) }
            if let other = seen[name] { throw .duplicateChannel(name, first: other, second: channel) }
            seen[name] = channel
        }
        if uri.isEmpty { throw .invalid(key: "uri", value: "\"\"", expected: "a libiio URI such as local: or ip:HOST") }
        if device.isEmpty {
            throw .invalid(key: "device", value: "\"\"", expected: "an IIO device name, id or label such as ade9000")
        }
        if !(sampleRate.isFinite && sampleRate > 0) {
            throw .invalid(key: "sample_rate", value: "\(sampleRate)", expected: "samples per second > 0")
        }
        if bufferSize < 1 {
            throw .invalid(key: "buffer_size", value: "\(bufferSize)", expected: "samples per block ≥ 1")
        }
        if kernelBuffers < 1 {
            throw .invalid(key: "kernel_buffers", value: "\(kernelBuffers)", expected: "a count ≥ 1")
        }
        let blockSeconds = Double(bufferSize) / sampleRate
        if !(refillTimeout.isFinite && refillTimeout >= 2 * blockSeconds) {
            throw .invalid(
                key: "refill_timeout",
                value: "\(refillTimeout)",
                expected: "seconds ≥ twice the block duration (\(2 * blockSeconds) s for \(bufferSize) samples at "
                    + "\(sampleRate) S/s)"
            )
        }
        if !(fullScaleCodes.isFinite && fullScaleCodes > 0) {
            throw .invalid(key: "full_scale_codes", value: "\(fullScaleCodes)", expected: "ADC codes > 0")
        }
        for (key, table) in [("full_scale", fullScale), ("scale", scale), ("offset", offset)] {
            for channel in table.keys.sorted(by: { $0.rawValue < $1.rawValue }) where channels[channel] == nil {
                throw .calibrationForUnmappedChannel(key: key, channel: channel)
            }
        }
        for channel in sampleChannels {
            if let value = scale[channel] {
                if !(value.isFinite && value != 0) {
                    throw .invalid(
                        key: "scale.\(channel.configKey)",
                        value: "\(value)",
                        expected: "a finite, non-zero value"
                    )
                }
            } else if let value = fullScale[channel] {
                if !(value.isFinite && value > 0) {
                    throw .invalid(key: "full_scale.\(channel.configKey)", value: "\(value)", expected: "a value > 0")
                }
            } else {
                throw .missingCalibration(channel, iioChannel: channels[channel]!, fullScaleCodes: fullScaleCodes)
            }
            if let value = offset[channel], !value.isFinite {
                throw .invalid(
                    key: "offset.\(channel.configKey)",
                    value: "\(value)",
                    expected: "a finite number of codes"
                )
            }
        }
    }
}

/// The affine map from an ADC code to a sensor value: `(code + offset) × scale`.
public struct SampleConversion: Sendable, Equatable {
    /// Sensor units per code.
    public var scale: Double
    /// Codes added before scaling.
    public var offset: Double

    public init(scale: Double, offset: Double = 0) {
        self.scale = scale
        self.offset = offset
    }

    /// The sensor value of one code.
    @inlinable
    public func value(ofCode code: Int64) -> Float {
        Float((Double(code) + offset) * scale)
    }
}

/// What is wrong with an `iio` section of the configuration. Keys are those of the config file.
public enum IIOConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// One of V1–V3, I1–I3 has no IIO channel.
    case missingChannelMapping(SampleChannel)
    /// A channel key other than v1, v2, v3, i1, i2, i3, in.
    case unknownChannelKey(key: String, section: String)
    /// A channel maps to the empty string.
    case emptyChannelName(SampleChannel)
    /// Two sample channels read the same IIO channel.
    case duplicateChannel(String, first: SampleChannel, second: SampleChannel)
    /// A mapped channel has neither `full_scale` nor `scale`.
    case missingCalibration(SampleChannel, iioChannel: String, fullScaleCodes: Double)
    /// `full_scale`, `scale` or `offset` names a channel that `channels` does not map.
    case calibrationForUnmappedChannel(key: String, channel: SampleChannel)
    /// A value out of range.
    case invalid(key: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .missingChannelMapping(let channel):
            "iio.channels.\(channel.configKey) is missing: name the IIO channel that measures \(channel) "
                + "(for an ADE9000: \(IIOSourceConfiguration.ade9000Channels[channel] ?? "?"))"
        case .unknownChannelKey(let key, let section):
            "iio.\(section) has an unknown channel '\(key)': expected v1, v2, v3, i1, i2, i3 or in"
        case .emptyChannelName(let channel):
            "iio.channels.\(channel.configKey) is empty: expected an IIO channel id such as voltage0"
        case .duplicateChannel(let name, let first, let second):
            "iio.channels.\(first.configKey) and iio.channels.\(second.configKey) both read '\(name)': "
                + "each sample channel needs its own IIO channel"
        case .missingCalibration(let channel, let iioChannel, let codes):
            "iio.full_scale.\(channel.configKey) is missing: give the value at the sensor of \(channel) "
                + "(\(iioChannel)) at \(Int64(codes)) codes, e.g. 0.1 A for a CT on a 10 Ω burden at 1 V "
                + "full scale, or iio.scale.\(channel.configKey) in sensor units per code"
        case .calibrationForUnmappedChannel(let key, let channel):
            "iio.\(key).\(channel.configKey) is set but iio.channels.\(channel.configKey) is not: "
                + "map the channel or remove the calibration"
        case .invalid(let key, let value, let expected):
            "iio.\(key) is \(value): expected \(expected)"
        }
    }
}

extension SampleChannel {
    /// The key of this channel in the config file: v1, v2, v3, i1, i2, i3, in.
    public var configKey: String {
        switch self {
        case .v1: "v1"
        case .v2: "v2"
        case .v3: "v3"
        case .i1: "i1"
        case .i2: "i2"
        case .i3: "i3"
        case .neutral: "in"
        }
    }

    /// The channel whose config key is `key`, if any.
    public init?(configKey key: String) {
        guard let channel = SampleChannel.allCases.first(where: { $0.configKey == key }) else { return nil }
        self = channel
    }
}

extension IIOSourceConfiguration: Decodable {
    private enum CodingKeys: String, CodingKey {
        case uri, device, channels
        case sampleRate = "sample_rate"
        case bufferSize = "buffer_size"
        case kernelBuffers = "kernel_buffers"
        case refillTimeout = "refill_timeout"
        case fullScaleCodes = "full_scale_codes"
        case fullScale = "full_scale"
        case scale, offset
    }

    /// Decodes the `iio` section; absent keys take the defaults of the memberwise initializer.
    /// A given `full_scale` map replaces the default voltage full scales only for the channels it names.
    /// Throws `DecodingError.dataCorrupted` (with the key path) for anything ``validate()`` rejects.
    public init(from decoder: any Decoder) throws {
        let defaults = IIOSourceConfiguration()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func channelMap<Value: Decodable>(_ key: CodingKeys, _: Value.Type) throws -> [SampleChannel: Value]? {
            guard let raw = try container.decodeIfPresent([String: Value].self, forKey: key) else { return nil }
            var map: [SampleChannel: Value] = [:]
            for (name, value) in raw {
                guard let channel = SampleChannel(configKey: name) else {
                    let error = IIOConfigurationError.unknownChannelKey(key: name, section: key.rawValue)
                    throw DecodingError.dataCorruptedError(
                        forKey: key,
                        in: container,
                        debugDescription: error.description
                    )
                }
                map[channel] = value
            }
            return map
        }
        uri = try container.decodeIfPresent(String.self, forKey: .uri) ?? defaults.uri
        device = try container.decodeIfPresent(String.self, forKey: .device) ?? defaults.device
        let channels = try channelMap(.channels, String.self) ?? defaults.channels
        self.channels = channels
        sampleRate = try container.decodeIfPresent(Double.self, forKey: .sampleRate) ?? defaults.sampleRate
        bufferSize = try container.decodeIfPresent(Int.self, forKey: .bufferSize) ?? defaults.bufferSize
        kernelBuffers = try container.decodeIfPresent(Int.self, forKey: .kernelBuffers) ?? defaults.kernelBuffers
        refillTimeout = try container.decodeIfPresent(Double.self, forKey: .refillTimeout) ?? defaults.refillTimeout
        fullScaleCodes = try container.decodeIfPresent(Double.self, forKey: .fullScaleCodes) ?? defaults.fullScaleCodes
        scale = try channelMap(.scale, Double.self) ?? [:]
        offset = try channelMap(.offset, Double.self) ?? [:]
        // Default voltage full scales apply to mapped voltage channels the file leaves out.
        var fullScale = defaults.fullScale.filter { channels[$0.key] != nil }
        for (channel, value) in try channelMap(.fullScale, Double.self) ?? [:] {
            fullScale[channel] = value
        }
        self.fullScale = fullScale
        do {
            try validate()
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description)
            )
        }
    }
}
