/// A coding key for any string, used to see every key a YAML mapping holds.
struct ConfigCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

extension Decoder {
    /// Throws when the mapping holds a key that `Keys` does not know: a misspelt key in a config
    /// file must not be silently ignored (`max_curent: 16` would otherwise leave the default).
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        let container = try self.container(keyedBy: ConfigCodingKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        for key in container.allKeys where !known.contains(key.stringValue) {
            let expected = Keys.allCases.map(\.stringValue).sorted().joined(separator: ", ")
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: codingPath + [key],
                    debugDescription: "unknown key \"\(key.stringValue)\"; expected one of: \(expected)"
                )
            )
        }
    }
}
