/// A duration as installers write it: a number of seconds (`30`, `0.5`) or a number with a unit
/// (`500ms`, `90s`, `15m`, `2h`).
public struct ConfigDuration: Sendable, Equatable, Hashable, Decodable, CustomStringConvertible {
    /// The duration in seconds.
    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            guard number >= 0 else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "expected a duration ≥ 0, found \(number)"
                )
            }
            self.seconds = number
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = Self.parse(text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected a duration such as 90s, 15m, 2h or 500ms, found \"\(text)\""
            )
        }
        self = parsed
    }

    /// Parses `500ms`, `90s`, `15m`, `2h`, `1d` or a bare number of seconds.
    public static func parse(_ text: String) -> ConfigDuration? {
        let trimmed = text.trimmingSpaces
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            if let value = Double(number), value >= 0 { return ConfigDuration(seconds: value * factor) }
        }
        if let value = Double(trimmed), value >= 0 { return ConfigDuration(seconds: value) }
        return nil
    }

    public var description: String {
        seconds.truncatingRemainder(dividingBy: 1) == 0 ? "\(Int(seconds))s" : "\(seconds)s"
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let first = s.first, first == " " || first == "\t" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
