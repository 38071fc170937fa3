import Foundation
import Logging
import NIOCore
import NIOWebSocket
import OCPP

/// One connected charger: its WebSocket, its upstream link to the CSMS, its call queue.
///
/// The actor owns the protocol state (the call queue, the frames held for the CSMS, the observer);
/// its methods never suspend while they change that state. Frames leave through one outbox per
/// leg, drained by a writer task, so frames go out in the order the actor decided them.
///
/// Tasks of a session (children of ``run(channel:)``):
/// - the charger reader: each frame to ``fromCharger(_:)``; its end ends the session;
/// - the charger writer: drains the charger outbox;
/// - the upstream link (when a CSMS is configured): runs a connection (reader + writer) and
///   reconnects with backoff while the charger stays;
/// The proxy's ticker calls ``tick(now:)`` twice a second for call timeouts and pings.
actor ChargerSession {
    nonisolated let chargerID: String
    nonisolated let version: OCPPVersion
    private let proxy: OCPPProxy
    private let outcome: ChargerHandshakeOutcome
    private var logger: Logger
    private let endpoint: UpstreamEndpoint?
    private let upstreamAuthorization: String?

    private var callQueue: ChargerCallQueue
    private var ids: InjectedCallIDs
    private var timers: [String: ContinuousClock.Instant] = [:]
    private var heldTimers: [String: ContinuousClock.Instant] = [:]
    private var waiters: [String: CheckedContinuation<InjectedCallOutcome, Never>] = [:]
    /// Timeouts asked for by injected calls, overriding the configured call timeout.
    private var callTimeouts: [String: Double] = [:]
    /// Charger calls forwarded while the link was up whose answer has not come yet: if the link
    /// drops, they are handled as if they had arrived while it was down (answered locally where
    /// that is true, held for the CSMS), so none is lost.
    private var awaitingCSMS: [(id: String, frame: [UInt8], envelope: Envelope)] = []
    private var observer: Observer
    private var responder: LocalResponder
    private var held: HeldCallQueue<InMemoryHeldCallStore>

    private let chargerOutbox: AsyncStream<WebSocketFrame>.Continuation
    private let chargerOutboxStream: AsyncStream<WebSocketFrame>
    private var upstream: UpstreamLeg?
    private var chargerPing = PingState()
    private var closed = false
    /// Set until the connection opened during the handshake is running, so that the charger's
    /// first frames are not mistaken for frames sent while the CSMS is down.
    private var initialUpstreamPending = false
    private var initialUpstreamWaiters: [CheckedContinuation<Void, Never>] = []

    /// The live upstream connection.
    private struct UpstreamLeg {
        var generation: Int
        var outbox: AsyncStream<WebSocketFrame>.Continuation
        var channel: any Channel
        var ping = PingState()
    }

    /// Liveness of one leg: a ping is sent every interval; no pong within the next interval means
    /// the peer is gone.
    private struct PingState {
        var lastSent: ContinuousClock.Instant?
        var awaitingPong = false
    }

    init(proxy: OCPPProxy, outcome: ChargerHandshakeOutcome) {
        self.proxy = proxy
        self.outcome = outcome
        self.chargerID = outcome.accepted.chargerID
        self.version = outcome.version
        var logger = proxy.logger
        logger[metadataKey: "charger.id"] = "\(outcome.accepted.chargerID)"
        self.logger = logger
        self.endpoint = outcome.accepted.policy.upstream ?? proxy.configuration.upstream
        self.upstreamAuthorization = outcome.accepted.policy.upstreamAuthorization ?? outcome.accepted.authorization
        self.callQueue = ChargerCallQueue(
            configuration: .init(callTimeout: proxy.configuration.callTimeout)
        )
        self.ids = InjectedCallIDs(token: proxy.processToken)
        self.observer = Observer(chargerID: outcome.accepted.chargerID, version: outcome.version)
        self.responder = LocalResponder(
            configuration: .init(heartbeatInterval: proxy.configuration.heartbeatInterval)
        )
        self.held = HeldCallQueue(
            store: InMemoryHeldCallStore(),
            configuration: .init(responseTimeout: proxy.configuration.callTimeout)
        )
        (self.chargerOutboxStream, self.chargerOutbox) = AsyncStream.makeStream(of: WebSocketFrame.self)
    }

    // MARK: Running

    /// Runs the session until the charger leaves (or the proxy shuts down).
    func run(channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async throws {
        if let previous = await proxy.registry.register(self) {
            await previous.close(reason: "replaced by a new connection of the same charger")
        }
        logger.info(
            "Charger connected",
            metadata: [
                "ocpp.version": "\(version.number)",
                "remote": "\(outcome.remoteAddress)",
                "upstream": "\(upstreamDescription)",
            ]
        )
        emit(.connected(version: version))
        defer {
            emit(.disconnected)
        }
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let outboxStream = self.chargerOutboxStream
                group.addTask {
                    for await frame in outboxStream {
                        try await outbound.write(frame)
                    }
                }
                if self.endpoint != nil {
                    let initial = self.outcome.upstream
                    if initial != nil { await self.expectInitialUpstream() }
                    group.addTask {
                        await self.runUpstreamLink(initial: initial)
                    }
                    await self.waitForInitialUpstream()
                }
                do {
                    for try await frame in inbound {
                        if await self.fromCharger(frame) == .stop { break }
                    }
                } catch {
                    self.logger.info("Charger connection failed", metadata: ["error": "\(error)"])
                }
                group.cancelAll()
            }
        }
        await ended()
    }

    private var upstreamDescription: String {
        guard let endpoint else { return "none (standalone)" }
        if outcome.upstream != nil { return "\(endpoint)" }
        return "\(endpoint) unreachable: \(outcome.upstreamError?.description ?? "unknown")"
    }

    /// Called after the charger's socket closed.
    private func ended() async {
        closed = true
        chargerOutbox.finish()
        upstream?.channel.close(promise: nil)
        upstream?.outbox.finish()
        upstream = nil
        perform(callQueue.chargerDisconnected())
        await proxy.registry.unregister(self)
        logger.info("Charger disconnected")
    }

    /// Closes the session from outside (replaced, shutdown).
    func close(reason: String) {
        guard !closed else { return }
        logger.info("Closing charger connection", metadata: ["reason": "\(reason)"])
        sendClose(to: chargerOutbox, code: .goingAway, masked: false)
        chargerOutbox.finish()
    }

    func snapshot() -> ConnectedCharger {
        ConnectedCharger(
            id: chargerID,
            version: version,
            remoteAddress: outcome.remoteAddress,
            upstreamConnected: upstream != nil
        )
    }

    private func log(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata = [:]) {
        logger.log(level: level, message, metadata: metadata)
    }

    // MARK: Injected calls

    /// Queues a call of LoadGuard's own and waits for its outcome.
    func inject(action: String, payload: [UInt8], timeout: Double?) async throws(InjectedCallError)
        -> InjectedCallOutcome
    {
        guard !closed else { throw .notConnected(chargerID) }
        let id = ids.next()
        if let timeout { callTimeouts[id] = timeout }
        let frame = Frame.call(id: id, action: action, payload: payload)
        let actions: [ChargerCallQueue.Action]
        do {
            actions = try callQueue.enqueue(.controller(id: id, frame: frame))
        } catch {
            throw .rejected("\(error)")
        }
        return await withCheckedContinuation { continuation in
            waiters[id] = continuation
            perform(actions)
        }
    }

    // MARK: Frames from the charger

    enum Continuation { case go, stop }

    private func fromCharger(_ frame: WebSocketFrame) -> Continuation {
        switch frame.opcode {
        case .text, .binary:
            let bytes = Array(frame.unmaskedData.readableBytesView)
            handleChargerMessage(bytes, opcode: frame.opcode)
            return .go
        case .ping:
            chargerOutbox.yield(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
            return .go
        case .pong:
            chargerPing.awaitingPong = false
            return .go
        case .connectionClose:
            sendClose(to: chargerOutbox, code: .normalClosure, masked: false)
            chargerOutbox.finish()
            return .stop
        default:
            return .go
        }
    }

    private func handleChargerMessage(_ bytes: [UInt8], opcode: WebSocketOpcode) {
        let envelope: Envelope?
        do {
            envelope = try Envelope(parsing: bytes)
        } catch {
            envelope = nil
            log(.warning, "Charger sent a frame that is not OCPP-J; forwarded unchanged", ["error": "\(error)"])
        }
        record(bytes, envelope: envelope, direction: .chargerToCSMS, origin: .charger)
        if let envelope {
            observe(bytes, envelope: envelope, direction: .chargerToCSMS, origin: .charger)
        }
        guard let envelope else {
            // Not OCPP-J: forwarded as it is while the CSMS is connected; without a message id it
            // cannot be answered or held, so it is dropped (and logged) otherwise.
            if let upstream, !held.mustHoldNewCalls {
                upstream.outbox.yield(Self.maskedFrame(bytes, opcode: opcode))
            } else {
                log(.warning, "Frame that is not OCPP-J dropped: the CSMS is not connected")
            }
            return
        }
        switch envelope.messageType {
        case .call, .send:
            chargerCall(bytes, envelope: envelope, opcode: opcode)
        case .callResult, .callError, .callResultError:
            perform(callQueue.responseReceived(bytes, envelope: envelope), opcode: opcode)
        }
    }

    /// A call (or 2.1 SEND) from the charger: forwarded while the CSMS is connected, otherwise
    /// answered locally where the answer is true and held for the CSMS where the CSMS must see it.
    private func chargerCall(_ bytes: [UInt8], envelope: Envelope, opcode: WebSocketOpcode) {
        if let upstream, !held.mustHoldNewCalls {
            upstream.outbox.yield(Self.maskedFrame(bytes, opcode: opcode))
            if envelope.messageType == .call {
                awaitingCSMS.append((envelope.messageID, bytes, envelope))
                if awaitingCSMS.count > 64 { awaitingCSMS.removeFirst(awaitingCSMS.count - 64) }
            }
            return
        }
        decideLocally(bytes, envelope: envelope, opcode: opcode)
    }

    /// What to do with a charger call while the CSMS cannot take it (standalone, link down, or
    /// older calls still being delivered).
    private func decideLocally(_ bytes: [UInt8], envelope: Envelope, opcode: WebSocketOpcode) {
        let mode: LocalResponder.Mode =
            endpoint == nil ? .standalone : (upstream == nil ? .upstreamDown : .upstreamConnected)
        let decision = responder.decide(frame: bytes, envelope: envelope, version: version, mode: mode, now: Date())
        switch decision {
        case .answer(let answer, let hold):
            sendToCharger(answer, origin: .loadguard)
            if hold { holdForCSMS(bytes, envelope: envelope, answeredLocally: true) }
        case .hold, .forward:
            // `.forward` while older calls are still being delivered: keep the order.
            holdForCSMS(bytes, envelope: envelope, answeredLocally: false)
        case .discard:
            log(.info, "SEND discarded: no CSMS reachable", ["action": "\(envelope.action ?? "")"])
        }
    }

    /// Keeps a charger call for the CSMS, in order; it goes out when the link is up and older
    /// calls are answered.
    private func holdForCSMS(_ bytes: [UInt8], envelope: Envelope, answeredLocally: Bool) {
        guard endpoint != nil else { return }
        let call = HeldCall(
            id: envelope.messageID,
            action: envelope.action ?? "",
            frame: bytes,
            answeredLocally: answeredLocally,
            heldAt: Date()
        )
        do {
            performHeld(try held.hold(call))
            log(.debug, "Call held for the CSMS", ["action": "\(call.action)", "held": "\(held.count)"])
        } catch {
            log(.error, "Call for the CSMS cannot be held; the charger will send it again", ["error": "\(error)"])
        }
    }

    /// A response of the charger that goes to the CSMS: sent now, or dropped with a log when the
    /// link is down (the CSMS's call it answers is gone with the old connection).
    private func responseToCSMS(_ bytes: [UInt8], opcode: WebSocketOpcode) {
        if let upstream {
            upstream.outbox.yield(Self.maskedFrame(bytes, opcode: opcode))
        } else if endpoint != nil {
            log(.info, "Answer to a CSMS call dropped: the CSMS connection it belongs to is gone")
        }
    }

    // MARK: Frames from the CSMS

    private func fromUpstream(_ frame: WebSocketFrame, generation: Int) {
        guard let leg = upstream, leg.generation == generation else { return }
        switch frame.opcode {
        case .text, .binary:
            handleCSMSMessage(Array(frame.unmaskedData.readableBytesView), opcode: frame.opcode)
        case .ping:
            leg.outbox.yield(Self.maskedFrame(Array(frame.unmaskedData.readableBytesView), opcode: .pong))
        case .pong:
            upstream?.ping.awaitingPong = false
        case .connectionClose:
            sendClose(to: leg.outbox, code: .normalClosure, masked: true)
            leg.outbox.finish()
        default:
            break
        }
    }

    private func handleCSMSMessage(_ bytes: [UInt8], opcode: WebSocketOpcode) {
        let envelope: Envelope?
        do {
            envelope = try Envelope(parsing: bytes)
        } catch {
            envelope = nil
            log(.warning, "CSMS sent a frame that is not OCPP-J; forwarded unchanged", ["error": "\(error)"])
        }
        record(bytes, envelope: envelope, direction: .toCharger, origin: .csms)
        guard let envelope else {
            chargerOutbox.yield(WebSocketFrame(fin: true, opcode: opcode, data: ByteBuffer(bytes: bytes)))
            return
        }
        observe(bytes, envelope: envelope, direction: .toCharger, origin: .csms)
        switch envelope.messageType {
        case .call:
            do {
                perform(try callQueue.enqueue(.csms(id: envelope.messageID, frame: bytes)), opcode: opcode)
            } catch {
                // CSMS calls are never refused by the queue; forward rather than lose the frame.
                chargerOutbox.yield(WebSocketFrame(fin: true, opcode: opcode, data: ByteBuffer(bytes: bytes)))
            }
        case .send:
            chargerOutbox.yield(WebSocketFrame(fin: true, opcode: opcode, data: ByteBuffer(bytes: bytes)))
        case .callResult, .callError, .callResultError:
            let routed: [HeldCallQueue<InMemoryHeldCallStore>.Action]?
            do {
                routed = try held.responseReceived(bytes, envelope: envelope)
            } catch {
                log(.error, "Held calls cannot be updated", ["error": "\(error)"])
                routed = nil
            }
            if let routed {
                performHeld(routed, opcode: opcode)
            } else {
                awaitingCSMS.removeAll { $0.id == envelope.messageID }
                chargerOutbox.yield(WebSocketFrame(fin: true, opcode: opcode, data: ByteBuffer(bytes: bytes)))
            }
        }
    }

    // MARK: Actions

    private func perform(_ actions: [ChargerCallQueue.Action], opcode: WebSocketOpcode = .text) {
        for action in actions {
            switch action {
            case .sendToCharger(let id, let frame):
                if ids.isInjected(id), waiters[id] != nil {
                    let envelope = try? Envelope(parsing: frame)
                    record(frame, envelope: envelope, direction: .toCharger, origin: .loadguard)
                    if let envelope { observe(frame, envelope: envelope, direction: .toCharger, origin: .loadguard) }
                }
                chargerOutbox.yield(WebSocketFrame(fin: true, opcode: opcode, data: ByteBuffer(bytes: frame)))
            case .startTimer(let id, let seconds):
                timers[id] = .now + .seconds(callTimeouts.removeValue(forKey: id) ?? seconds)
            case .cancelTimer(let id):
                timers[id] = nil
            case .forwardToCSMS(let frame):
                responseToCSMS(frame, opcode: opcode)
            case .completeInjected(let id, let outcome):
                waiters.removeValue(forKey: id)?.resume(returning: outcome)
            case .reportTimeout(let id, let source):
                log(.warning, "Charger did not answer a call in time", ["call.id": "\(id)", "origin": "\(source)"])
            case .discardLateResponse(let id):
                log(.info, "Late answer to a timed-out LoadGuard call consumed", ["call.id": "\(id)"])
            case .abandonCSMSCalls(let ids):
                if !ids.isEmpty { log(.info, "CSMS calls left unanswered by the charger", ["calls": "\(ids)"]) }
            }
        }
    }

    private func performHeld(_ actions: [HeldCallQueue<InMemoryHeldCallStore>.Action], opcode: WebSocketOpcode = .text)
    {
        for action in actions {
            switch action {
            case .sendToCSMS(_, let frame):
                upstream?.outbox.yield(Self.maskedFrame(frame, opcode: .text))
            case .startTimer(let id, let seconds):
                heldTimers[id] = .now + .seconds(seconds)
            case .cancelTimer(let id):
                heldTimers[id] = nil
            case .forwardToCharger(let frame):
                chargerOutbox.yield(WebSocketFrame(fin: true, opcode: opcode, data: ByteBuffer(bytes: frame)))
            case .consumeResponse(let id):
                log(.debug, "CSMS answer to a call answered locally consumed", ["call.id": "\(id)"])
            case .gaveUp(let call, let attempts):
                log(
                    .error,
                    "CSMS never answered a held call; dropped so later calls can go",
                    ["action": "\(call.action)", "call.id": "\(call.id)", "attempts": "\(attempts)"]
                )
            }
        }
    }

    private func observe(_ bytes: [UInt8], envelope: Envelope, direction: Direction, origin: Origin) {
        for event in observer.observe(bytes, envelope: envelope, direction: direction, origin: origin) {
            emit(event)
        }
    }

    /// A frame LoadGuard itself sends to the charger (a local answer).
    private func sendToCharger(_ bytes: [UInt8], origin: Origin) {
        let envelope = try? Envelope(parsing: bytes)
        record(bytes, envelope: envelope, direction: .toCharger, origin: origin)
        if let envelope { observe(bytes, envelope: envelope, direction: .toCharger, origin: origin) }
        chargerOutbox.yield(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: bytes)))
    }

    private nonisolated func emit(_ event: ChargerEvent) {
        proxy.eventContinuation.yield(ObservedEvent(chargerID: chargerID, event: event))
    }

    private func record(_ bytes: [UInt8], envelope: Envelope?, direction: Direction, origin: Origin) {
        guard let trace = proxy.trace else { return }
        trace.record(
            chargerID: chargerID,
            version: version,
            direction: direction,
            origin: origin,
            envelope: envelope,
            frame: bytes
        )
    }

    private func sendClose(
        to outbox: AsyncStream<WebSocketFrame>.Continuation,
        code: WebSocketErrorCode,
        masked: Bool
    ) {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        outbox.yield(
            WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: masked ? .random() : nil, data: data)
        )
    }

    static func maskedFrame(_ bytes: [UInt8], opcode: WebSocketOpcode) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: ByteBuffer(bytes: bytes))
    }

    // MARK: Timers and pings

    /// Call timeouts and pings; called twice a second by the proxy's one ticker for all sessions
    /// (one timer for the whole proxy rather than one per charger).
    func tick(now: ContinuousClock.Instant) {
        guard !closed else { return }
        let expired = timers.filter { $0.value <= now }.map(\.key)
        for id in expired {
            timers[id] = nil
            perform(callQueue.timerFired(id: id))
        }
        for id in heldTimers.filter({ $0.value <= now }).map(\.key) {
            heldTimers[id] = nil
            do {
                performHeld(try held.timerFired(id: id))
            } catch {
                log(.error, "Held calls cannot be updated", ["error": "\(error)"])
            }
        }
        let interval = proxy.configuration.pingInterval
        guard interval > 0 else { return }
        let period = Duration.seconds(interval)
        if chargerPing.awaitingPong, let sent = chargerPing.lastSent, now - sent > period {
            log(.notice, "Charger did not answer a ping; closing its connection")
            sendClose(to: chargerOutbox, code: .goingAway, masked: false)
            chargerOutbox.finish()
        } else if chargerPing.lastSent.map({ now - $0 >= period }) ?? true {
            chargerPing = PingState(lastSent: now, awaitingPong: true)
            chargerOutbox.yield(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer()))
        }
        if var leg = upstream {
            if leg.ping.awaitingPong, let sent = leg.ping.lastSent, now - sent > period {
                log(.notice, "CSMS did not answer a ping; reconnecting")
                leg.channel.close(promise: nil)
            } else if leg.ping.lastSent.map({ now - $0 >= period }) ?? true {
                leg.ping = PingState(lastSent: now, awaitingPong: true)
                leg.outbox.yield(Self.maskedFrame([], opcode: .ping))
                upstream = leg
            }
        }
    }

    // MARK: Upstream link

    /// Keeps a connection to the CSMS while the charger is connected: runs it, and after it ends
    /// reconnects with exponential backoff and jitter (reset after a connection that lasted).
    private func runUpstreamLink(initial: UpstreamConnection?) async {
        guard let endpoint else { return }
        var backoff = Backoff(
            configuration: .init(
                initialDelay: proxy.configuration.reconnectInitialDelay,
                maximumDelay: proxy.configuration.reconnectMaxDelay
            )
        )
        var generator = SystemRandomNumberGenerator()
        var connection = initial
        var generation = 0
        var delay = connection == nil ? backoff.attemptFailed(using: &generator) : 0
        while !Task.isCancelled {
            if let current = connection {
                generation += 1
                backoff.connected(at: .now)
                await runUpstream(current, generation: generation)
                if Task.isCancelled { return }
                delay = backoff.disconnected(at: .now, using: &generator)
                log(.notice, "CSMS connection lost; the charger stays connected", ["retry.in": "\(delay)"])
            }
            do { try await Task.sleep(for: .seconds(delay)) } catch { return }
            do {
                let next = try await proxy.connector.connect(
                    endpoint: endpoint,
                    chargerID: chargerID,
                    subprotocols: [version.rawValue],
                    authorization: upstreamAuthorization
                )
                guard next.subprotocol == version.rawValue else {
                    log(.warning, "CSMS did not accept the charger's OCPP version", ["offered": "\(version.rawValue)"])
                    next.channel.channel.close(promise: nil)
                    connection = nil
                    delay = backoff.attemptFailed(using: &generator)
                    continue
                }
                connection = next
                log(.notice, "CSMS connection restored")
            } catch {
                delay = backoff.attemptFailed(using: &generator)
                log(.info, "CSMS still unreachable", ["error": "\(error)", "retry.in": "\(delay)"])
                connection = nil
            }
        }
    }

    private func runUpstream(_ connection: UpstreamConnection, generation: Int) async {
        do {
            try await connection.channel.executeThenClose { inbound, outbound in
                let (stream, outbox) = AsyncStream.makeStream(of: WebSocketFrame.self)
                await self.upstreamUp(
                    UpstreamLeg(generation: generation, outbox: outbox, channel: connection.channel.channel)
                )
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await frame in stream { try await outbound.write(frame) }
                    }
                    for try await frame in inbound {
                        await self.fromUpstream(frame, generation: generation)
                    }
                    outbox.finish()
                    group.cancelAll()
                }
            }
        } catch {
            log(.info, "CSMS connection failed", ["error": "\(error)"])
        }
        upstreamDown(generation: generation)
    }

    private func expectInitialUpstream() { initialUpstreamPending = true }

    private func waitForInitialUpstream() async {
        guard initialUpstreamPending else { return }
        await withCheckedContinuation { initialUpstreamWaiters.append($0) }
    }

    private func initialUpstreamSettled() {
        initialUpstreamPending = false
        for waiter in initialUpstreamWaiters { waiter.resume() }
        initialUpstreamWaiters.removeAll()
    }

    private func upstreamUp(_ leg: UpstreamLeg) {
        defer { initialUpstreamSettled() }
        upstream = leg
        do {
            performHeld(try held.linkUp())
        } catch {
            log(.error, "Held calls cannot be read", ["error": "\(error)"])
        }
    }

    private func upstreamDown(generation: Int) {
        initialUpstreamSettled()
        guard let leg = upstream, leg.generation == generation else { return }
        leg.outbox.finish()
        upstream = nil
        performHeld(held.linkDown())
        let unanswered = awaitingCSMS
        awaitingCSMS.removeAll()
        for call in unanswered {
            log(
                .info,
                "Call unanswered when the CSMS link dropped; handled as held",
                ["action": "\(call.envelope.action ?? "")"]
            )
            decideLocally(call.frame, envelope: call.envelope, opcode: .text)
        }
    }
}
