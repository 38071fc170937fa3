import ArgumentParser
import Foundation
import LoadGuard
import Logging
import OCPP

/// `loadguard simulate-chargers`: simulated chargers with cars, over real WebSockets, until SIGINT or SIGTERM.
struct SimulateChargersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-chargers",
        abstract: "Run simulated OCPP chargers with cars that follow their limits, for load tests and demos.",
        discussion: """
            Charger n is called <prefix><n> and connects to <url>/<prefix><n>. Each charger sees one car after \
            another (5 to 30 kWh, 10, 16 or 32 A, mostly 3-phase), starts a session for it, follows the \
            charging profiles it is given and reports meter values. One log line per event: connected, limit \
            changed, session started and ended. See docs/charger-simulator.md.
            """
    )

    enum VersionChoice: String, ExpressibleByArgument, CaseIterable {
        case v16 = "1.6"
        case v201 = "2.0.1"
        case v21 = "2.1"
        case mixed

        var versions: [OCPPVersion] {
            switch self {
            case .v16: [.v16]
            case .v201: [.v201]
            case .v21: [.v21]
            case .mixed: [.v16, .v201]
            }
        }
    }

    enum PhaseChoice: String, ExpressibleByArgument, CaseIterable {
        case one = "1"
        case three = "3"
        case mixed

        var phases: [Int] {
            switch self {
            case .one: [1]
            case .three: [3]
            case .mixed: [3, 3, 1]
            }
        }
    }

    @Option(name: .long, help: "The OCPP URL without the charger id, e.g. ws://127.0.0.1:8180/ocpp.")
    var url: String

    @Option(name: .long, help: "How many chargers.")
    var count: Int = 1

    @Option(name: .long, help: "OCPP version: 1.6, 2.0.1, 2.1, or mixed (1.6 and 2.0.1 in turn).")
    var version: VersionChoice = .v16

    @Option(name: .long, help: "Phases per charger: 1, 3, or mixed (two 3-phase, one 1-phase in turn).")
    var phases: PhaseChoice = .three

    @Option(name: .long, help: "Charger ids are <prefix><n>.")
    var prefix: String = "SIM-"

    @Option(name: .long, help: "Maximum current of each charger, A per phase.")
    var maxCurrent: Double = 32

    @Option(name: .long, help: "Meter values interval during sessions (1s to 1h), e.g. 10s.")
    var meterInterval: String = "10s"

    @Option(name: .long, help: "The chargers connect one after the other within this time, e.g. 10s.")
    var spread: String = "5s"

    @Option(name: .long, help: "Basic-auth password of every charger.")
    var password: String?

    @Option(name: .long, help: "Seed of the cars' random arrivals, needs and currents.")
    var seed: UInt64 = 1

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        guard let meterInterval = ConfigDuration.parse(self.meterInterval) else {
            throw ValidationError(
                "--meter-interval: expected a duration such as 10s or 1m, found '\(self.meterInterval)'"
            )
        }
        guard let spread = ConfigDuration.parse(self.spread) else {
            throw ValidationError("--spread: expected a duration such as 10s, found '\(self.spread)'")
        }
        let fleetConfiguration = ChargerFleetConfiguration(
            count: count,
            prefix: prefix,
            versions: version.versions,
            phases: phases.phases,
            maxCurrent: maxCurrent,
            meterInterval: .milliseconds(Int64(meterInterval.seconds * 1000)),
            password: password,
            startSpread: .milliseconds(Int64(spread.seconds * 1000)),
            seed: seed
        )
        let logger = logging.bootstrap(defaultLevel: "info")
        let fleet: ChargerFleet
        do {
            fleet = try ChargerFleet(
                chargers: fleetConfiguration.chargers(),
                url: url,
                startSpread: fleetConfiguration.startSpread,
                logger: logger
            )
        } catch {
            throw ValidationError(error.description)
        }
        logger.info(
            "simulated chargers starting",
            metadata: ["count": "\(count)", "url": "\(fleet.endpoint)", "version": "\(version.rawValue)"]
        )
        try await fleet.runUntilSignalled()
        logger.info("simulated chargers stopped")
    }
}
