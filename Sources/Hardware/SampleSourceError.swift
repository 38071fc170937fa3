/// Why a sample source could not deliver samples. Each case says what was expected and where.
public enum SampleSourceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No block arrived within the refill timeout: the meter is stale.
    case stale(seconds: Double)
    /// The source could not be opened (context URI, device or file).
    case unavailable(String)
    /// A channel named in the configuration does not exist on the device.
    case missingChannel(device: String, channel: String)
    /// The data is malformed (a WAV header, a sysfs attribute).
    case malformed(String)
    /// The source was cancelled (shutdown).
    case cancelled

    public var description: String {
        switch self {
        case .stale(let s): "no samples for \(s) s: the meter is stale"
        case .unavailable(let what): "sample source unavailable: \(what)"
        case .missingChannel(let device, let channel): "device '\(device)' has no channel '\(channel)'"
        case .malformed(let what): "malformed sample data: \(what)"
        case .cancelled: "sample source cancelled"
        }
    }
}
