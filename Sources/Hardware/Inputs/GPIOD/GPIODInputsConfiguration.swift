/// Where the `gpiod` backend finds the two ripple-control inputs.
///
/// Decoded from the `gpiod` section of the config file (snake_case keys):
///
/// ```yaml
/// gpiod:
///   chip: gpiochip0       # name, path (/dev/gpiochip0), label or number, as gpiodetect lists them
///   input1: 17            # line offsets on that chip (gpioinfo lists them); required
///   input2: 27
///   active_low: true      # a closed contact pulls the line low (contact to ground, pull-up)
///   bias: pull_up         # as_is (default), disable, pull_up, pull_down
///   debounce: 0.05        # seconds a new level must hold
///   consumer: loadguard   # the name gpioinfo shows for the lines while LoadGuard holds them
/// ```
public struct GPIODInputsConfiguration: Sendable, Equatable {
    /// The chip: name, path, label or number.
    public var chip: String
    /// Line offset of input 1.
    public var input1: UInt32
    /// Line offset of input 2.
    public var input2: UInt32
    /// Whether a low line level means *active*.
    public var activeLow: Bool
    /// The line bias the kernel sets while LoadGuard holds the lines.
    public var bias: Bias
    /// Seconds a new level must hold before it counts.
    public var debounce: Double
    /// Consumer name shown by `gpioinfo`.
    public var consumer: String

    /// The bias of the input lines.
    public enum Bias: String, Sendable, Equatable, CaseIterable, Decodable {
        /// Leave the line as the board's device tree set it.
        case asIs = "as_is"
        /// No pull resistor.
        case disable
        /// Internal pull-up (for contacts to ground, with `active_low: true`).
        case pullUp = "pull_up"
        /// Internal pull-down.
        case pullDown = "pull_down"
    }

    /// Inputs on lines `input1` and `input2` of `chip`, active-high, bias as is, 50 ms debounce.
    public init(
        chip: String = "gpiochip0",
        input1: UInt32,
        input2: UInt32,
        activeLow: Bool = false,
        bias: Bias = .asIs,
        debounce: Double = 0.05,
        consumer: String = "loadguard"
    ) {
        self.chip = chip
        self.input1 = input1
        self.input2 = input2
        self.activeLow = activeLow
        self.bias = bias
        self.debounce = debounce
        self.consumer = consumer
    }

    /// Problems decoding cannot catch, as a sentence naming the key; `nil` when valid.
    public var problem: String? {
        if chip.isEmpty { return "gpiod.chip is empty: expected a chip name such as gpiochip0" }
        if input1 == input2 { return "gpiod.input1 and gpiod.input2 are both line \(input1): expected two lines" }
        if !(debounce.isFinite && debounce >= 0 && debounce <= 10) {
            return "gpiod.debounce is \(debounce): expected seconds from 0 to 10"
        }
        if consumer.isEmpty { return "gpiod.consumer is empty: expected a name such as loadguard" }
        return nil
    }
}

extension GPIODInputsConfiguration: Decodable {
    private enum CodingKeys: String, CodingKey {
        case chip, input1, input2
        case activeLow = "active_low"
        case bias, debounce, consumer
    }

    /// Decodes the `gpiod` section; `input1` and `input2` are required, the rest has defaults.
    /// Throws `DecodingError.dataCorrupted` for values ``problem`` rejects or an unknown bias.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        chip = try container.decodeIfPresent(String.self, forKey: .chip) ?? "gpiochip0"
        input1 = try container.decode(UInt32.self, forKey: .input1)
        input2 = try container.decode(UInt32.self, forKey: .input2)
        activeLow = try container.decodeIfPresent(Bool.self, forKey: .activeLow) ?? false
        if let name = try container.decodeIfPresent(String.self, forKey: .bias) {
            guard let bias = Bias(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .bias,
                    in: container,
                    debugDescription: "gpiod.bias is '\(name)': expected "
                        + Bias.allCases.map(\.rawValue).joined(separator: ", ")
                )
            }
            self.bias = bias
        } else {
            bias = .asIs
        }
        debounce = try container.decodeIfPresent(Double.self, forKey: .debounce) ?? 0.05
        consumer = try container.decodeIfPresent(String.self, forKey: .consumer) ?? "loadguard"
        if let problem {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: problem)
            )
        }
    }
}
