import Allocation
import Logging
import OCPP
import ServiceLifecycle

/// The `demo: {chargers: N}` simulated chargers: they connect over loopback through LoadGuard's
/// own WebSocket server like real chargers, with cars that arrive, follow their limits and leave.
///
/// They are added to the site's chargers (ids `SIM-1` … `SIM-N`, alternating OCPP 1.6 and 2.0.1,
/// every third one single-phase on a rotated grid phase) so the allocator knows their wiring.
enum DemoChargers {
    /// The fleet's chargers and the site configuration that knows them.
    static func prepare(_ configuration: inout LoadGuardConfiguration) throws -> [SimulatedChargerConfiguration] {
        let count = configuration.demo.chargers
        guard count > 0 else { return [] }
        let fleet = ChargerFleetConfiguration(
            count: count,
            prefix: "SIM-",
            versions: [.v16, .v201],
            phases: [3, 3, 1],
            maxCurrent: 32,
            meterInterval: .seconds(2),
            startSpread: .seconds(3),
            carArrivalDelay: 0...20
        )
        let chargers = try fleet.chargers()
        let rotations: [PhaseRotation] = [.l1l2l3, .l2l3l1, .l3l1l2]
        for (index, charger) in chargers.enumerated()
        where !configuration.chargers.contains(where: { $0.id == charger.id }) {
            var section = ChargerSection(id: charger.id)
            section.phases = charger.phases
            section.maxCurrent = charger.maxCurrent
            section.rotation = charger.phases == 1 ? rotations[(index / 3) % 3] : .l1l2l3
            configuration.chargers.append(section)
        }
        return chargers
    }

    /// The fleet as a service, connecting to LoadGuard's own charger port.
    static func service(
        chargers: [SimulatedChargerConfiguration],
        configuration: LoadGuardConfiguration,
        logger: Logger
    ) throws -> (any Service)? {
        guard !chargers.isEmpty else { return nil }
        let host = configuration.ocpp.listen.host == "0.0.0.0" ? "127.0.0.1" : configuration.ocpp.listen.host
        let scheme = configuration.ocpp.tls == nil ? "ws" : "wss"
        var demoLogger = logger
        demoLogger[metadataKey: "demo"] = "simulated charger"
        return try ChargerFleet(
            chargers: chargers,
            url: "\(scheme)://\(host):\(configuration.ocpp.listen.port)\(configuration.ocpp.path)",
            startSpread: .seconds(3),
            logger: demoLogger
        )
    }
}
