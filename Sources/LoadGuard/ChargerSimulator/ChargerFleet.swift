import Foundation
public import Logging
public import OCPP
public import OCPPProxy
public import ServiceLifecycle
import UnixSignals

/// How to make a fleet of simulated chargers: ids `<prefix><n>` (n from 1), versions and phases taken in turn from
/// the lists, start times spread so that they do not all connect at once, and cars drawn from a seeded random
/// generator (the same seed gives the same fleet).
public struct ChargerFleetConfiguration: Sendable, Hashable {
    public var count: Int
    public var prefix: String
    /// Taken in turn: charger n gets `versions[(n - 1) % versions.count]`.
    public var versions: [OCPPVersion]
    /// Taken in turn, as ``versions``.
    public var phases: [Int]
    public var maxCurrent: Double
    public var meterInterval: Duration
    public var password: String?
    /// Charger n connects `(n - 1) / count × startSpread` after the fleet started.
    public var startSpread: Duration
    /// Cars: energy needed (Wh) is drawn uniformly from this range.
    public var carEnergy: ClosedRange<Double>
    /// Cars: maximum current per phase, one of these.
    public var carMaxCurrents: [Double]
    /// The first car of each charger arrives within this time; later cars this long (drawn uniformly) after the
    /// previous one left.
    public var carArrivalDelay: ClosedRange<Double>
    public var seed: UInt64

    public init(
        count: Int,
        prefix: String = "SIM-",
        versions: [OCPPVersion] = [.v16],
        phases: [Int] = [3],
        maxCurrent: Double = 32,
        meterInterval: Duration = .seconds(10),
        password: String? = nil,
        startSpread: Duration = .seconds(5),
        carEnergy: ClosedRange<Double> = 5_000...30_000,
        carMaxCurrents: [Double] = [16, 32, 10],
        carArrivalDelay: ClosedRange<Double> = 0...60,
        seed: UInt64 = 1
    ) {
        self.count = count
        self.prefix = prefix
        self.versions = versions
        self.phases = phases
        self.maxCurrent = maxCurrent
        self.meterInterval = meterInterval
        self.password = password
        self.startSpread = startSpread
        self.carEnergy = carEnergy
        self.carMaxCurrents = carMaxCurrents
        self.carArrivalDelay = carArrivalDelay
        self.seed = seed
    }

    /// The chargers of this fleet, each with eight cars that come again and again.
    public func chargers() throws(ChargerFleetError) -> [SimulatedChargerConfiguration] {
        guard count >= 1, count <= 100_000 else { throw .invalid(["count must be 1 … 100000, found \(count)"]) }
        guard !versions.isEmpty, !phases.isEmpty, !carMaxCurrents.isEmpty else {
            throw .invalid(["versions, phases and car currents must not be empty"])
        }
        var random = SimulatorRandom(seed: seed)
        var chargers: [SimulatedChargerConfiguration] = []
        for index in 0..<count {
            let phases = self.phases[index % self.phases.count]
            var cars: [SimulatedCarConfiguration] = []
            for visit in 0..<8 {
                let delay = Double.random(in: carArrivalDelay, using: &random)
                cars.append(
                    SimulatedCarConfiguration(
                        arrivalDelay: .milliseconds(Int64(delay * 1000)),
                        energyNeeded: Double.random(in: carEnergy, using: &random).rounded(),
                        maxCurrent: carMaxCurrents.randomElement(using: &random) ?? 16,
                        phases: Int.random(in: 0..<4, using: &random) == 0 ? 1 : 3,
                        idTag: "CAR\(index + 1)V\(visit + 1)"
                    )
                )
            }
            chargers.append(
                SimulatedChargerConfiguration(
                    id: "\(prefix)\(index + 1)",
                    version: versions[index % versions.count],
                    phases: phases,
                    maxCurrent: maxCurrent,
                    meterInterval: meterInterval,
                    password: password,
                    initialEnergyRegister: Double(Int.random(in: 0..<1_000_000, using: &random)),
                    cars: cars,
                    repeatsCars: true
                )
            )
        }
        let problems = chargers.flatMap(\.problems)
        guard problems.isEmpty else { throw .invalid(problems) }
        return chargers
    }
}

/// A fleet configuration that cannot run.
public enum ChargerFleetError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Each problem names the charger and field, what is allowed and what was found.
    case invalid([String])
    /// The URL is not `ws://` or `wss://`.
    case invalidURL(String)
    /// The WebSocket client could not be set up (TLS material).
    case client(String)

    public var description: String {
        switch self {
        case .invalid(let problems): "invalid simulated chargers: " + problems.joined(separator: "; ")
        case .invalidURL(let url): "expected a ws:// or wss:// URL such as ws://127.0.0.1:8180/ocpp, found '\(url)'"
        case .client(let reason): "cannot set up the WebSocket client: \(reason)"
        }
    }
}

/// Simulated chargers with cars, each connected over its own WebSocket, run as one service: for
/// `loadguard simulate-chargers` and for the simulated chargers of a demo site, which connect to LoadGuard's own
/// server like real chargers.
///
/// ```swift
/// let fleet = try ChargerFleet(
///     chargers: ChargerFleetConfiguration(count: 4, versions: [.v16, .v201]).chargers(),
///     url: "ws://127.0.0.1:8180/ocpp",
///     logger: logger
/// )
/// // in a ServiceGroup, or: try await fleet.run()
/// let states = await fleet.states()   // limit, draw, energy per charger
/// ```
public final class ChargerFleet: Service, Sendable {
    public let chargers: [SimulatedChargerConfiguration]
    public let endpoint: UpstreamEndpoint
    let client: WebSocketClient
    let logger: Logger
    let startSpread: Duration
    let board = SimulatedChargerBoard()
    let eventHandler: @Sendable (String, SimulatorEvent) -> Void

    /// - Parameters:
    ///   - chargers: the chargers (see ``ChargerFleetConfiguration/chargers()``).
    ///   - url: the OCPP URL without the charger id, `ws://HOST:PORT/PATH`.
    ///   - startSpread: the chargers connect one after the other within this time.
    ///   - onEvent: called with every charger event (charger id, event), for tests and live pages.
    public init(
        chargers: [SimulatedChargerConfiguration],
        url: String,
        startSpread: Duration = .zero,
        logger: Logger,
        onEvent: @escaping @Sendable (String, SimulatorEvent) -> Void = { _, _ in }
    ) throws(ChargerFleetError) {
        let problems = chargers.flatMap(\.problems)
        guard problems.isEmpty else { throw .invalid(problems) }
        guard Set(chargers.map(\.id)).count == chargers.count else { throw .invalid(["charger ids must be unique"]) }
        guard let endpoint = UpstreamEndpoint(url: url) else { throw .invalidURL(url) }
        do {
            client = try WebSocketClient()
        } catch {
            throw .client("\(error)")
        }
        self.chargers = chargers
        self.endpoint = endpoint
        self.logger = logger
        self.startSpread = startSpread
        self.eventHandler = onEvent
    }

    /// Runs every charger until the task is cancelled or the service group shuts down.
    public func run() async throws {
        let start = Date()
        let count = chargers.count
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for (index, charger) in self.chargers.enumerated() {
                    let runner = SimulatedChargerRunner(
                        configuration: charger,
                        endpoint: self.endpoint,
                        client: self.client
                    )
                    let delay = self.startSpread * (Double(index) / Double(max(count, 1)))
                    let board = self.board
                    let handler = self.eventHandler
                    let logger = self.logger
                    group.addTask {
                        if delay > .zero { try? await Task.sleep(for: delay) }
                        guard !Task.isCancelled else { return }
                        await runner.run(
                            start: start,
                            logger: logger,
                            onState: { await board.update($0) },
                            onEvent: { handler(charger.id, $0) }
                        )
                    }
                }
            }
        }
    }

    /// Runs the fleet on its own until SIGINT or SIGTERM (for `loadguard simulate-chargers`); in LoadGuard, add the
    /// fleet to the service group instead.
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: self)],
                gracefulShutdownSignals: [.sigint, .sigterm],
                logger: logger
            )
        )
        try await group.run()
    }

    /// Every charger's state, in the order of ``chargers`` (a charger that has not started yet is left out).
    public func states() async -> [SimulatedChargerState] {
        let states = await board.states
        return chargers.compactMap { states[$0.id] }
    }

    /// One charger's state.
    public func state(of id: String) async -> SimulatedChargerState? {
        await board.states[id]
    }
}

/// The latest state of every simulated charger.
actor SimulatedChargerBoard {
    var states: [String: SimulatedChargerState] = [:]

    func update(_ state: SimulatedChargerState) {
        states[state.id] = state
    }
}

/// A small deterministic random number generator (SplitMix64), so a seed always gives the same fleet.
struct SimulatorRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
