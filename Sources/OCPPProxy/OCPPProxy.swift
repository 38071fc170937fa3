public import Logging
public import NIOCore
public import NIOPosix
import NIOWebSocket
public import OCPP

/// The transparent OCPP proxy: chargers connect to it, it opens one CSMS connection per charger,
/// forwards every frame byte-exact, and lets LoadGuard send its own calls to the chargers.
///
/// - ``run()`` binds the charger-facing server and serves until the task is cancelled (graceful
///   shutdown closes every charger and upstream connection).
/// - ``events`` yields what LoadGuard observes in the traffic (boot, status, meter values, …).
/// - ``call(chargerID:action:payload:)`` sends an injected call and awaits its result; the result
///   never reaches the CSMS.
///
/// See `docs/ocpp-proxy.md` for every behaviour as a use case.
public final class OCPPProxy: Sendable {
    public let configuration: ProxyConfiguration
    let logger: Logger
    let group: any EventLoopGroup
    let connector: UpstreamConnector
    let handshakeRules: HandshakeRules
    let registry = SessionRegistry()
    let trace: TraceSink?
    let processToken: String
    let eventContinuation: AsyncStream<ObservedEvent>.Continuation

    /// What LoadGuard observes in the traffic, in order per charger. Buffered (newest 65,536 kept)
    /// so that a slow consumer never stalls forwarding.
    public let events: AsyncStream<ObservedEvent>

    /// - Parameters:
    ///   - configuration: where to listen, which chargers, which CSMS.
    ///   - trace: where every frame is written as a JSON line; `nil`: no trace.
    ///   - logger: the proxy adds `charger.id` metadata per connection.
    public init(
        configuration: ProxyConfiguration,
        trace: TraceSink? = nil,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.trace = trace
        self.connector = try UpstreamConnector(
            group: group,
            tls: configuration.clientTLS,
            maxMessageSize: configuration.maxMessageSize,
            connectTimeout: configuration.upstreamConnectTimeout
        )
        self.handshakeRules = HandshakeRules(
            pathPrefix: configuration.pathPrefix,
            chargers: configuration.chargers,
            acceptUnknownChargers: configuration.acceptUnknownChargers
        )
        var generator = SystemRandomNumberGenerator()
        self.processToken = InjectedCallIDs.randomToken(using: &generator)
        (self.events, self.eventContinuation) = AsyncStream.makeStream(
            of: ObservedEvent.self,
            bufferingPolicy: .bufferingNewest(65_536)
        )
    }

    /// Serves chargers until the calling task is cancelled. Each connection runs in its own child
    /// task; an error on one connection never stops the server.
    public func run() async throws {
        let server = try await bindChargerListener()
        if let address = server.channel.localAddress {
            await registry.setLocalPort(address.port)
            logger.info(
                "OCPP proxy listening",
                metadata: [
                    "address":
                        "\(configuration.serverTLS == nil ? "ws" : "wss")://\(configuration.host):\(address.port ?? 0)\(configuration.pathPrefix)/<chargePointId>",
                    "upstream": "\(configuration.upstream?.description ?? "none (standalone)")",
                ]
            )
        }
        defer { eventContinuation.finish() }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.runTicker() }
            try await withTaskCancellationHandler {
                try await server.executeThenClose { inbound in
                    for try await upgrade in inbound {
                        group.addTask { await self.handle(upgrade) }
                    }
                }
            } onCancel: {
                server.channel.close(promise: nil)
            }
            group.cancelAll()
        }
    }

    /// The port the charger-facing server is bound to, once ``run()`` has bound it.
    public func localPort() async -> Int? { await registry.localPort }

    /// The chargers connected right now.
    public func connectedChargers() async -> [ConnectedCharger] { await registry.connected() }

    /// Sends `action` with `payload` (JSON object bytes) to a connected charger through its call
    /// queue and waits for the answer.
    ///
    /// - Returns: the charger's result payload or CALLERROR, a timeout, or a disconnect.
    /// - Throws: ``InjectedCallError`` when the charger is not connected or its queue is full.
    ///   - timeout: seconds to wait for the answer; `nil`: the configured call timeout.
    public func call(
        chargerID: String,
        action: String,
        payload: [UInt8],
        timeout: Double? = nil
    ) async throws(InjectedCallError) -> InjectedCallOutcome {
        guard let session = await registry.session(for: chargerID) else { throw .notConnected(chargerID) }
        return try await session.inject(action: action, payload: payload, timeout: timeout)
    }

    /// One timer for every session: call timeouts and pings, twice a second.
    private func runTicker() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(500)) } catch { return }
            let now = ContinuousClock.now
            for session in await registry.all() {
                await session.tick(now: now)
            }
        }
    }

    private func handle(_ upgrade: EventLoopFuture<ChargerUpgradeResult>) async {
        do {
            switch try await upgrade.get() {
            case .refused:
                return
            case .noCommonSubprotocol(let channel, let id):
                try await channel.executeThenClose { _, outbound in
                    var data = channel.channel.allocator.buffer(capacity: 2)
                    data.write(webSocketErrorCode: .protocolError)
                    try await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
                }
                logger.notice("Charger closed: no common OCPP version", metadata: ["charger.id": "\(id)"])
            case .charger(let channel, let outcome):
                let session = ChargerSession(proxy: self, outcome: outcome)
                try await session.run(channel: channel)
            }
        } catch {
            logger.debug("Charger connection ended with an error", metadata: ["error": "\(error)"])
        }
    }
}

/// An event observed in one charger's traffic.
public struct ObservedEvent: Sendable, Hashable {
    public var chargerID: String
    public var event: ChargerEvent

    public init(chargerID: String, event: ChargerEvent) {
        self.chargerID = chargerID
        self.event = event
    }
}

/// A charger connected right now.
public struct ConnectedCharger: Sendable, Equatable {
    public var id: String
    public var version: OCPPVersion
    public var remoteAddress: String
    public var upstreamConnected: Bool
}

/// Why an injected call could not be sent.
public enum InjectedCallError: Error, Equatable, CustomStringConvertible {
    case notConnected(String)
    case rejected(String)

    public var description: String {
        switch self {
        case .notConnected(let id): "charger \(id) is not connected"
        case .rejected(let reason): reason
        }
    }
}

/// The sessions by charger id, and what outlives a session (the version last negotiated).
actor SessionRegistry {
    private var sessions: [String: ChargerSession] = [:]
    private var lastVersions: [String: OCPPVersion] = [:]
    private(set) var localPort: Int?

    func setLocalPort(_ port: Int?) { localPort = port }

    /// Registers a new session; returns the session it replaces (a charger that reconnected
    /// before its old connection was seen closing).
    func register(_ session: ChargerSession) -> ChargerSession? {
        lastVersions[session.chargerID] = session.version
        let previous = sessions[session.chargerID]
        sessions[session.chargerID] = session
        return previous
    }

    func unregister(_ session: ChargerSession) {
        if sessions[session.chargerID] === session { sessions[session.chargerID] = nil }
    }

    func session(for id: String) -> ChargerSession? { sessions[id] }

    func all() -> [ChargerSession] { Array(sessions.values) }

    func lastVersion(of id: String) -> OCPPVersion? { lastVersions[id] }

    func connected() async -> [ConnectedCharger] {
        var result: [ConnectedCharger] = []
        for session in sessions.values.sorted(by: { $0.chargerID < $1.chargerID }) {
            result.append(await session.snapshot())
        }
        return result
    }
}
