import ArgumentParser
import Glibc
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
        let files = FileLimit.raiseToHardLimit()
        logger.info(
            "LoadGuard starting",
            metadata: [
                "config": "\(config)", "open.files.limit": "\(files)", "chargers.max": "\(max(0, (files - 64) / 2))",
            ]
        )
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

/// The open-file limit: every charger holds two sockets (charger and CSMS), so the soft limit is
/// raised to the hard limit at start (a service unit should set `LimitNOFILE=65536` or more).
enum FileLimit {
    static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(clamping: limit.rlim_cur)
    }
}
