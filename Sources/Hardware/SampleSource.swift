/// The channels of one simultaneous sample, in the order every ``SampleBlock`` stores them.
///
/// Values are at the sensor, before Metering's calibration: volts at the voltage divider or
/// the ADC input, amperes at the current transformer's secondary, volts for a Rogowski coil.
public enum SampleChannel: Int, CaseIterable, Sendable, CustomStringConvertible {
    case v1, v2, v3, i1, i2, i3, neutral

    /// The three phase voltages and three phase currents every source delivers.
    public static let phaseChannels: [SampleChannel] = [.v1, .v2, .v3, .i1, .i2, .i3]

    public var description: String {
        switch self {
        case .v1: "V1"
        case .v2: "V2"
        case .v3: "V3"
        case .i1: "I1"
        case .i2: "I2"
        case .i3: "I3"
        case .neutral: "IN"
        }
    }
}

/// A block of simultaneous samples of six or seven channels.
///
/// Blocks from one source are contiguous: `firstSample` of a block is `firstSample + count`
/// of the block before it, unless the source reports an overrun (then it jumps ahead and
/// the engine starts a new measurement window).
public struct SampleBlock: Sendable, Equatable {
    /// Samples per second of every channel.
    public var sampleRate: Double
    /// Index of the first sample on the source's sample clock (samples since the source started).
    public var firstSample: UInt64
    /// One array per channel, in ``SampleChannel`` order; six (no neutral) or seven arrays of `count` values.
    public var channels: [[Float]]

    public init(sampleRate: Double, firstSample: UInt64, channels: [[Float]]) {
        precondition(channels.count == 6 || channels.count == 7, "a sample block has 6 or 7 channels")
        precondition(channels.allSatisfy { $0.count == channels[0].count }, "channels of a block have equal length")
        self.sampleRate = sampleRate
        self.firstSample = firstSample
        self.channels = channels
    }

    /// Number of samples per channel.
    public var count: Int { channels.first?.count ?? 0 }
    /// Whether the neutral current is sampled.
    public var hasNeutral: Bool { channels.count == 7 }
    /// Sample-clock time of the first sample, in seconds since the source started.
    public var startTime: Double { Double(firstSample) / sampleRate }

    public subscript(channel: SampleChannel) -> [Float] { channels[channel.rawValue] }
}

/// Something that delivers blocks of simultaneous samples: an ADC through libiio, the simulator,
/// or a recorded WAV file.
///
/// `nextBlock()` returns `nil` at the end of a finite source (a recording) and throws
/// ``SampleSourceError`` when the source fails (a refill timeout is reported as `.stale`).
public protocol SampleSource: Sendable {
    /// Samples per second of every channel.
    var sampleRate: Double { get }
    /// 6 or 7.
    var channelCount: Int { get }
    /// The next block, waiting for it if needed; `nil` at the end of a finite source.
    func nextBlock() async throws -> SampleBlock?
}
