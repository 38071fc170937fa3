public import Foundation
public import Logging
import NIOCore
import NIOWebSocket
public import OCPP
public import OCPPProxy

/// Runs one ``SimulatedChargerCore`` over a real WebSocket until its task is cancelled: connects, feeds frames and
/// ticks into the core, sends what it returns, and reconnects with backoff (1 s doubling to 60 s, full jitter)
/// when the connection fails or drops; after a reconnect the charger boots again. Profiles, the car and queued
/// transaction messages survive a reconnect, as in a real charger.
public struct SimulatedChargerRunner: Sendable {
    public var configuration: SimulatedChargerConfiguration
    /// The CSMS (or LoadGuard) URL without the charger id: `ws://127.0.0.1:8180/ocpp`.
    public var endpoint: UpstreamEndpoint
    public var client: WebSocketClient
    /// How often time is fed into the core (cars react, schedules change, meter values fall due).
    public var tick: Duration
    public var backoff: Backoff.Configuration

    public init(
        configuration: SimulatedChargerConfiguration,
        endpoint: UpstreamEndpoint,
        client: WebSocketClient,
        tick: Duration = .milliseconds(250),
        backoff: Backoff.Configuration = Backoff.Configuration()
    ) {
        self.configuration = configuration
        self.endpoint = endpoint
        self.client = client
        self.tick = tick
        self.backoff = backoff
    }

    private enum Input: Sendable {
        case frame(WebSocketFrame)
        case tick
        case closed
    }

    /// Runs until cancelled.
    ///
    /// - Parameters:
    ///   - start: the simulation's start (the first car arrives its arrival delay later).
    ///   - logger: one line per event, with `charger.id` metadata.
    ///   - onState: called with the charger's state after every change (at most once a second while only time
    ///     passes).
    ///   - onEvent: called with every event, after it was logged.
    public func run(
        start: Date = Date(),
        logger: Logger,
        onState: @escaping @Sendable (SimulatedChargerState) async -> Void = { _ in },
        onEvent: @escaping @Sendable (SimulatorEvent) -> Void = { _ in }
    ) async {
        let logger = {
            var logger = logger
            logger[metadataKey: "charger.id"] = "\(configuration.id)"
            return logger
        }()
        var core = SimulatedChargerCore(configuration: configuration, start: start)
        var backoff = Backoff(configuration: backoff)
        var random = SystemRandomNumberGenerator()
        let authorization = configuration.password.map { password in
            "Basic " + Data("\(configuration.id):\(password)".utf8).base64EncodedString()
        }
        let log = { @Sendable (event: SimulatorEvent) in
            event.log(to: logger)
            onEvent(event)
        }
        await onState(core.state)
        while !Task.isCancelled {
            let delay: Double
            do {
                let (channel, subprotocol) = try await client.connect(
                    base: endpoint,
                    chargerID: configuration.id,
                    subprotocols: [configuration.version.rawValue],
                    authorization: authorization
                )
                backoff.connected(at: .now)
                let version = subprotocol.flatMap(OCPPVersion.init(rawValue:)) ?? configuration.version
                core = await session(channel: channel, version: version, core: core, log: log, onState: onState)
                for case .event(let event) in core.disconnected(at: Date()) { log(event) }
                await onState(core.state)
                delay = backoff.disconnected(at: .now, using: &random)
            } catch {
                delay = backoff.attemptFailed(using: &random)
                log(.connectionFailed(reason: error.description, retryInSeconds: delay))
            }
            // Time goes on while disconnected: the car keeps charging at its last limit.
            let until = ContinuousClock.now.advanced(by: .seconds(delay))
            while !Task.isCancelled, ContinuousClock.now < until {
                try? await Task.sleep(for: min(.seconds(1), ContinuousClock.now.duration(to: until)))
                for case .event(let event) in core.tick(at: Date()) { log(event) }
                await onState(core.state)
            }
        }
    }

    /// One connection, from the upgrade to the close: returns the core as the connection left it.
    private func session(
        channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>,
        version: OCPPVersion,
        core start: SimulatedChargerCore,
        log: @escaping @Sendable (SimulatorEvent) -> Void,
        onState: @escaping @Sendable (SimulatedChargerState) async -> Void
    ) async -> SimulatedChargerCore {
        let tick = self.tick
        var core = start
        do {
            core = try await channel.executeThenClose { inbound, outbound in
                var core = start
                let (inputs, continuation) = AsyncStream<Input>.makeStream()
                return await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for try await frame in inbound { continuation.yield(.frame(frame)) }
                        } catch {}
                        continuation.yield(.closed)
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: tick)
                            continuation.yield(.tick)
                        }
                    }
                    defer {
                        group.cancelAll()
                        continuation.finish()
                    }
                    var lastPublished = ContinuousClock.now
                    func perform(_ actions: [SimulatedChargerCore.Action]) async throws {
                        for action in actions {
                            switch action {
                            case .send(let frame): try await outbound.write(WebSocketClient.textFrame(bytes: frame))
                            case .event(let event): log(event)
                            }
                        }
                    }
                    do {
                        try await perform(core.connected(version: version, at: Date()))
                        await onState(core.state)
                        loop: for await input in inputs {
                            let now = Date()
                            var publish = true
                            switch input {
                            case .frame(let frame):
                                switch frame.opcode {
                                case .text:
                                    try await perform(core.received(Array(buffer: frame.unmaskedData), at: now))
                                case .ping:
                                    try await outbound.write(WebSocketClient.pong(for: frame))
                                case .connectionClose:
                                    break loop
                                default:
                                    break
                                }
                            case .tick:
                                try await perform(core.tick(at: now))
                                publish = ContinuousClock.now - lastPublished >= .seconds(1)
                            case .closed:
                                break loop
                            }
                            if publish {
                                lastPublished = .now
                                await onState(core.state)
                            }
                        }
                    } catch {
                        // A write failed: the connection is gone. The core keeps what happened up to here.
                    }
                    return core
                }
            }
        } catch {
            // Closing failed; the connection is gone all the same.
        }
        return core
    }
}

extension SimulatorEvent {
    /// Logs the event as one line: a constant message with the details as metadata.
    func log(to logger: Logger) {
        switch self {
        case .connected(let version):
            logger.info("charger connected", metadata: ["ocpp.version": "\(version.number)"])
        case .connectionFailed(let reason, let delay):
            logger.warning(
                "charger connection failed",
                metadata: ["reason": "\(reason)", "retry.seconds": "\(decimalText(delay, digits: 1))"]
            )
        case .disconnected:
            logger.info("charger disconnected")
        case .bootAnswered(let status, let interval):
            logger.log(
                level: status == "Accepted" ? .info : .warning,
                "boot answered",
                metadata: ["status": "\(status)", "interval": "\(interval)"]
            )
        case .limitChanged(let from, let to):
            logger.info(
                "limit changed",
                metadata: [
                    "from.A": "\(decimalText(from.amperes, digits: 1))",
                    "to.A": "\(decimalText(to.amperes, digits: 1))",
                    "phases": "\(to.numberPhases.map(String.init) ?? "any")",
                    "source": "\(to.source)",
                ]
            )
        case .sessionStarted(let id):
            logger.info("session started", metadata: id.map { ["transaction.id": "\($0)"] } ?? [:])
        case .sessionEnded(let reason, let energy):
            logger.info(
                "session ended",
                metadata: ["reason": "\(reason)", "energy.kWh": "\(decimalText(energy / 1000, digits: 3))"]
            )
        case .carArrived(let energy):
            logger.info("car arrived", metadata: ["needs.kWh": "\(decimalText(energy / 1000, digits: 1))"])
        case .carLeft(let reason):
            logger.info("car left", metadata: ["reason": "\(reason)"])
        case .callFailed, .callTimedOut, .unexpectedFrame, .authorizationRefused, .profileRejected:
            logger.warning("\(description)")
        case .profileInstalled, .profilesCleared, .transactionIDAssigned, .unsupportedCall, .configurationChanged,
            .resetRequested:
            logger.debug("\(description)")
        }
    }
}
