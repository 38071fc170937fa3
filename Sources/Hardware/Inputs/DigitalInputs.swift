/// The debounced levels of the two ripple-control inputs. `true` is *active* (the contact of the
/// grid operator's ripple-control receiver is closed), after any active-low inversion.
///
/// What a combination means (100 %, 60 %, 30 %, 0 % of the connection) is the site configuration's
/// business, not the hardware's.
public struct DigitalInputState: Sendable, Hashable, CustomStringConvertible {
    public var input1: Bool
    public var input2: Bool

    public init(input1: Bool, input2: Bool) {
        self.input1 = input1
        self.input2 = input2
    }

    /// Both inputs inactive.
    public static let inactive = DigitalInputState(input1: false, input2: false)

    /// Input 1 or 2 by index 0 or 1.
    subscript(index: Int) -> Bool {
        get { index == 0 ? input1 : input2 }
        set {
            if index == 0 { input1 = newValue } else { input2 = newValue }
        }
    }

    public var description: String {
        "input1=\(input1 ? "active" : "inactive") input2=\(input2 ? "active" : "inactive")"
    }
}

/// The two digital inputs of a ripple-control receiver: a GPIO chip through libgpiod, or a
/// simulation that the REST API sets.
///
/// Lifecycle: the backend reads the levels when it is created, watches them while ``run()`` runs
/// (as one service of the service group), and ends every stream from ``states()`` when `run()` ends.
public protocol DigitalInputs: Sendable {
    /// The debounced state now.
    var state: DigitalInputState { get async }
    /// The state now, then every debounced change, until ``run()`` ends.
    func states() async -> AsyncStream<DigitalInputState>
    /// Watches the inputs until the calling task is cancelled. Throws ``DigitalInputsError`` if the
    /// inputs fail while watched; the streams from ``states()`` end either way.
    func run() async throws
}

/// Why the digital inputs cannot be read. Each case names the chip and line involved.
public enum DigitalInputsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The GPIO chip does not exist or is not a GPIO chip.
    case chipNotFound(chip: String, reason: String)
    /// The chip has no line at this offset.
    case lineNotFound(chip: String, line: UInt32, lineCount: UInt32)
    /// The line exists but cannot be requested (used by another consumer, or not an input).
    case lineUnavailable(chip: String, line: UInt32, reason: String)
    /// Reading or watching the lines failed after they were opened.
    case failed(String)
    /// ``DigitalInputs/run()`` was called while it was already running.
    case alreadyRunning

    public var description: String {
        switch self {
        case .chipNotFound(let chip, let reason):
            "GPIO chip '\(chip)' cannot be opened: \(reason); expected a chip name (gpiochip0), path "
                + "(/dev/gpiochip0), label or number, as `gpiodetect` lists them"
        case .lineNotFound(let chip, let line, let count):
            "GPIO chip '\(chip)' has no line \(line): it has lines 0 to \(Int(count) - 1) (see `gpioinfo \(chip)`)"
        case .lineUnavailable(let chip, let line, let reason):
            "line \(line) of GPIO chip '\(chip)' cannot be watched: \(reason)"
        case .failed(let what):
            "digital inputs failed: \(what)"
        case .alreadyRunning:
            "the digital inputs are already being watched"
        }
    }
}
