import Foundation
public import Logging
import NIOCore
import NIOPosix
import OCPP
import OCPPProxy
import ServiceLifecycle
import UnixSignals

/// Builds LoadGuard's services from a validated configuration and runs them until SIGINT/SIGTERM.
///
/// Order of the ServiceGroup (started in order, shut down in reverse): the OCPP proxy, then the
/// REST API, which depends on it.
public enum LoadGuardRuntime {
    public static func run(configuration: LoadGuardConfiguration, configFile: String, logger: Logger) async throws {
        let proxyConfiguration = configuration.proxyConfiguration(configFile: configFile)
        var trace: TraceSink?
        if let path = configuration.ocpp.trace {
            let resolved = LoadGuardConfiguration.resolve(
                path,
                relativeTo: (configFile as NSString).deletingLastPathComponent
            )
            trace = try TraceSink(
                path: resolved,
                redaction: configuration.ocpp.traceRedaction == .none ? .none : .secrets,
                logger: logger
            )
        }
        let proxy = try OCPPProxy(configuration: proxyConfiguration, trace: trace, logger: logger)
        var services: [any Service] = [ProxyService(proxy: proxy, trace: trace)]
        if let listen = configuration.api.listen {
            services.append(
                LoadGuardAPI.application(
                    listen: listen.host,
                    port: listen.port,
                    token: configuration.api.token,
                    publicRead: configuration.api.publicRead,
                    proxy: proxy,
                    logger: logger
                )
            )
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
