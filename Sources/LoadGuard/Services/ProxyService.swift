import Logging
public import OCPPProxy
public import ServiceLifecycle

/// The OCPP proxy as a service of the ServiceGroup: serves chargers until graceful shutdown.
public struct ProxyService: Service {
    public let proxy: OCPPProxy
    let trace: TraceSink?

    public init(proxy: OCPPProxy, trace: TraceSink?) {
        self.proxy = proxy
        self.trace = trace
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let trace {
                group.addTask { await trace.run() }
            }
            do {
                try await cancelWhenGracefulShutdown {
                    try await proxy.run()
                }
            } catch is CancellationError {
                // Graceful shutdown: the proxy closed its listener and every connection.
            }
            trace?.finish()
            try await group.waitForAll()
        }
    }
}
