/// A limit level as installers and operators write it: `"100%"`, `"60%"` (of the fuse), `"32A"`,
/// `"4.2kW"` or `"11000W"`.
///
/// Power levels are converted to a current per phase with the site's nominal voltage, assuming the
/// power is spread over three phases: `4.2kW` at 230 V is 4200 / (3 × 230) = 6.09 A per phase.
/// The ripple-control mapping, API commands and the site config all use this one parser.
public enum LimitLevel: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Percent of the fuse, 0...100.
    case percentOfFuse(Double)
    /// Amperes per phase.
    case amperes(Double)
    /// Watts over all three phases.
    case watts(Double)

    /// Parses one level; surrounding spaces and a space before the unit are allowed, units are
    /// case-insensitive (`%`, `A`, `W`, `kW`).
    public init(parsing text: String) throws(LimitLevelError) {
        let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        guard !trimmed.isEmpty else { throw .empty }
        let numberPart = String(trimmed.prefix(while: { $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }))
        let unit = String(trimmed.dropFirst(numberPart.count).drop(while: \.isWhitespace)).lowercased()
        guard !numberPart.isEmpty, let value = Double(numberPart), value.isFinite else {
            throw .invalidNumber(text)
        }
        guard value >= 0 else { throw .negative(text) }
        switch unit {
        case "%":
            guard value <= 100 else { throw .percentAbove100(text) }
            self = .percentOfFuse(value)
        case "a":
            self = .amperes(value)
        case "w":
            self = .watts(value)
        case "kw":
            self = .watts(value * 1000)
        case "":
            throw .missingUnit(text)
        default:
            throw .unknownUnit(text, unit: unit)
        }
    }

    /// The current per phase this level allows on a phase whose fuse is `fuse` amperes.
    public func current(fuse: Double, nominalVoltage: Double, phases: Int = 3) -> Double {
        switch self {
        case .percentOfFuse(let percent): fuse * percent / 100
        case .amperes(let amperes): amperes
        case .watts(let watts): watts / (nominalVoltage * Double(phases))
        }
    }

    /// The per-phase currents this level allows on `site`.
    public func currents(on site: Site) -> PhaseCurrents {
        site.fuse.map { current(fuse: $0, nominalVoltage: site.nominalVoltage) }
    }

    /// The canonical text: `60%`, `32A`, `4.2kW`, `11000W` parse back to the same level.
    public var description: String {
        func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        }
        switch self {
        case .percentOfFuse(let percent): return number(percent) + "%"
        case .amperes(let amperes): return number(amperes) + "A"
        case .watts(let watts):
            if watts >= 1000, (watts / 100).rounded() == watts / 100 { return number(watts / 1000) + "kW" }
            return number(watts) + "W"
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try LimitLevel(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A limit level that could not be parsed; the message quotes the text and shows valid forms.
public enum LimitLevelError: Error, Equatable, CustomStringConvertible {
    case empty
    case invalidNumber(String)
    case negative(String)
    case percentAbove100(String)
    case missingUnit(String)
    case unknownUnit(String, unit: String)

    static let forms = #"expected a limit like "100%", "60%", "32A", "4.2kW" or "11000W""#

    public var description: String {
        switch self {
        case .empty: "\(Self.forms), found an empty value"
        case .invalidNumber(let text): "\(Self.forms), found \"\(text)\" (no valid number)"
        case .negative(let text): "\(Self.forms), found \"\(text)\" (a limit cannot be negative)"
        case .percentAbove100(let text): "\(Self.forms), found \"\(text)\" (percent of the fuse is at most 100%)"
        case .missingUnit(let text): "\(Self.forms), found \"\(text)\" (no unit: add %, A, W or kW)"
        case .unknownUnit(let text, let unit): "\(Self.forms), found \"\(text)\" (unknown unit \"\(unit)\")"
        }
    }
}

/// Maps the state of the two ripple-control inputs to a limit level.
///
/// Patterns are written as the inputs read, first input first: `"00"`, `"10"`, `"01"`, `"11"`
/// (`1` = input active). A pattern without an entry means no ripple-control limit.
public struct RippleControlMapping: Sendable, Equatable, Codable {
    public var levels: [String: LimitLevel]

    public init(levels: [String: LimitLevel]) {
        self.levels = levels
    }

    /// The level for the inputs' pattern, or nil when the mapping has no entry for it.
    public func level(for pattern: String) -> LimitLevel? { levels[pattern] }

    /// The pattern for input states (true = active), first input first.
    public static func pattern(_ inputs: [Bool]) -> String {
        String(inputs.map { $0 ? "1" : "0" })
    }
}
