import ArgumentParser
import LoadGuard
import Logging

/// `loadguard run --config FILE`: LoadGuard as a service, until SIGINT/SIGTERM.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run LoadGuard with a configuration file until SIGINT or SIGTERM."
    )

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let configuration: LoadGuardConfiguration
        do {
            configuration = try LoadGuardConfiguration.load(path: config)
        } catch {
            throw ValidationError(error.description)
        }
        let logger = logging.bootstrap(defaultLevel: configuration.log.level)
        logger.info("LoadGuard starting", metadata: ["config": "\(config)"])
        try await LoadGuardRuntime.run(configuration: configuration, configFile: config, logger: logger)
        logger.info("LoadGuard stopped")
    }
}

/// `loadguard check-config FILE`: validation only.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file; errors name the file, line and key."
    )

    @Argument(help: "The YAML configuration file.")
    var file: String

    func run() throws {
        do {
            _ = try LoadGuardConfiguration.load(path: file)
        } catch {
            throw ValidationError(error.description)
        }
        print("\(file): valid")
    }
}
