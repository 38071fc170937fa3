/// A configuration file that LoadGuard cannot use, with the place to fix it.
///
/// The message names the file, the line and the key, says what was expected and what was
/// found, e.g. `loadguard.yaml:12: ocpp.listen: expected "HOST:PORT", found "8180"`.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Path of the file as given on the command line.
    public var file: String
    /// 1-based line, when the key could be located in the file.
    public var line: Int?
    /// Dotted key path, e.g. `chargers[2].id`.
    public var key: String
    /// What was expected and what was found.
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(place): \(message)" : "\(place): \(key): \(message)"
    }
}
