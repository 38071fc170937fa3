import ArgumentParser
import Foundation
import Logging

/// Log options shared by the commands that run services.
struct LoggingOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument {
        case text, json
    }

    @Option(name: .long, help: "Log format: text (for people) or json (one object per line, for machines).")
    var logFormat: Format = .text

    @Option(
        name: .long,
        help: "Log level (overrides log.level of the config): trace, debug, info, notice, warning, error."
    )
    var logLevel: String?

    /// Installs the process-wide log handler (stderr) and returns the root logger.
    func bootstrap(defaultLevel: String) -> Logger {
        let level = Logger.Level(rawValue: logLevel ?? defaultLevel) ?? .info
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .text: StreamLogHandler.standardError(label: label)
                case .json: JSONLogHandler(label: label)
                }
            handler.logLevel = level
            return handler
        }
        return Logger(label: "loadguard")
    }
}

/// One JSON object per line on stderr: `ts`, `level`, `message`, `label`, then the metadata.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level,
        message: Logger.Message,
        metadata explicit: Logger.Metadata?,
        source: String,
        file: String,
        function: String,
        line: UInt
    ) {
        var object: [String: String] = [
            "ts": Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date()),
            "level": level.rawValue,
            "message": "\(message)",
            "label": label,
        ]
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = "\(value)"
        }
        guard
            var data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else { return }
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }
}
