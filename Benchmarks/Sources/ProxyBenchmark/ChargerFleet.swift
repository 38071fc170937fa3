import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A set of simulated OCPP 1.6J chargers connected to one endpoint (the CSMS itself, LoadGuard or
/// nginx), all on one event loop.
///
/// Each charger opens `ws://127.0.0.1:<port>/ocpp/<id>` offering `ocpp1.6`, sends a
/// `BootNotification` and waits for its result. During traffic each sends a `Heartbeat` and a
/// `MeterValues` every `period`, half a period apart, the chargers' first sends spread evenly over
/// one period. A round trip is timed from just before the CALL is written to the moment its
/// CALLRESULT is read, both on the event loop that owns the connection; calls are sent on time
/// whether or not the previous one was answered, so a slow path cannot hide its slowness by
/// delaying the load (no coordinated omission).
struct ChargerFleet: Sendable {
    let name: String
    let port: Int
    let loop: any EventLoop
    private let state: NIOLoopBound<FleetState>

    /// The fleet's counters and recorded round trips so far.
    struct Snapshot: Sendable {
        var connected: Int
        var open: Int
        /// Connections that closed without the fleet closing them.
        var droppedByPeer: Int
        /// Round trips of calls sent inside a measuring window, nanoseconds.
        var roundTrips: [UInt64]
        var sentInWindow: Int
        var answeredInWindow: Int
        var callErrors: Int
        /// CALLs the path sent to the chargers, by action (`SetChargingProfile`, `ClearChargingProfile`,
        /// `ChangeConfiguration` and `TriggerMessage` are accepted, the rest answered `NotImplemented`).
        var callsReceived: [String: Int]
        /// How late the sends were against their schedule, nanoseconds (the generator keeping up).
        var sendLateness: [UInt64]
    }

    static func make(name: String, port: Int, loop: any EventLoop) async throws -> ChargerFleet {
        let state = try await loop.submit { NIOLoopBound(FleetState(), eventLoop: loop) }.get()
        return ChargerFleet(name: name, port: port, loop: loop, state: state)
    }

    private init(name: String, port: Int, loop: any EventLoop, state: NIOLoopBound<FleetState>) {
        self.name = name
        self.port = port
        self.loop = loop
        self.state = state
    }

    /// Connects charger `index` and waits for its BootNotification result.
    /// - Throws: ``ChargerConnectError`` saying which step failed.
    func connect(index: Int, timeout: TimeAmount = .seconds(20)) async throws {
        let chargerID = "\(name)-\(index)"
        let state = self.state
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:\(port)")
        headers.add(name: "Sec-WebSocket-Protocol", value: "ocpp1.6")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ocpp/\(chargerID)", headers: headers)
        let upgrade: EventLoopFuture<ChargerUpgrade>
        do {
            upgrade = try await ClientBootstrap(group: loop)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let upgrader = NIOTypedWebSocketClientUpgrader<ChargerUpgrade>(
                            maxFrameSize: 1 << 20,
                            upgradePipelineHandler: { channel, response in
                                channel.eventLoop.makeCompletedFuture {
                                    let chosen = response.headers["Sec-WebSocket-Protocol"].first
                                    guard chosen == "ocpp1.6" else {
                                        channel.close(promise: nil)
                                        return .wrongSubprotocol(chosen)
                                    }
                                    let handler = ChargerHandler(chargerID: chargerID, fleet: state.value)
                                    try channel.pipeline.syncOperations.addHandler(
                                        NIOWebSocketFrameAggregator(
                                            minNonFinalFragmentSize: 0,
                                            maxAccumulatedFrameCount: 64,
                                            maxAccumulatedFrameSize: 1 << 20
                                        )
                                    )
                                    try channel.pipeline.syncOperations.addHandler(handler)
                                    return .upgraded(NIOLoopBound(handler, eventLoop: channel.eventLoop))
                                }
                            }
                        )
                        let configuration = NIOTypedHTTPClientUpgradeConfiguration<ChargerUpgrade>(
                            upgradeRequestHead: head,
                            upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in
                                channel.close(promise: nil)
                                return channel.eventLoop.makeSucceededFuture(.refused)
                            }
                        )
                        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                            configuration: .init(upgradeConfiguration: configuration)
                        )
                    }
                }
        } catch {
            throw ChargerConnectError.tcp(chargerID, "\(error)")
        }
        let outcome: ChargerUpgrade
        do {
            outcome = try await withTimeout(upgrade, timeout: timeout, on: loop)
        } catch {
            throw ChargerConnectError.upgrade(chargerID, "\(error)")
        }
        switch outcome {
        case .refused:
            throw ChargerConnectError.upgrade(chargerID, "the server answered the upgrade without switching protocols")
        case .wrongSubprotocol(let chosen):
            throw ChargerConnectError.upgrade(
                chargerID,
                "expected subprotocol ocpp1.6, the server chose \(chosen ?? "none")"
            )
        case .upgraded(let handler):
            // The BootNotification goes out once the upgrade completed and the HTTP handlers are gone.
            do {
                let boot = try await loop.submit { handler.value.sendBootNotification() }.get()
                try await withTimeout(boot, timeout: timeout, on: loop)
            } catch {
                throw ChargerConnectError.boot(chargerID, "\(error)")
            }
        }
    }

    /// Connects `count` chargers, at most `concurrency` handshakes at a time.
    /// - Returns: how many connected, and the first failure's description if any failed.
    func connect(count: Int, concurrency: Int) async -> (connected: Int, firstError: String?) {
        await withTaskGroup(of: String?.self) { group in
            var next = 0
            var connected = 0
            var firstError: String?
            func add() {
                let index = next
                next += 1
                group.addTask {
                    do {
                        try await self.connect(index: index)
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
            }
            while next < min(count, concurrency) { add() }
            while let result = await group.next() {
                if let result {
                    if firstError == nil { firstError = result }
                } else {
                    connected += 1
                }
                if next < count { add() }
            }
            return (connected, firstError)
        }
    }

    /// Starts traffic: every charger sends a Heartbeat and a MeterValues each `period` from
    /// `start` (spread over the first period) until `stop`; round trips of calls sent between
    /// `windowStart` and `windowEnd` are recorded.
    func startTraffic(
        start: NIODeadline,
        stop: NIODeadline,
        windowStart: NIODeadline,
        windowEnd: NIODeadline,
        period: TimeAmount = .seconds(1)
    ) async throws {
        let state = self.state
        try await loop.submit {
            let fleet = state.value
            fleet.window = windowStart..<windowEnd
            let chargers = fleet.chargers.filter(\.isOpen)
            for (index, charger) in chargers.enumerated() {
                let offset = TimeAmount.nanoseconds(period.nanoseconds * Int64(index) / Int64(max(1, chargers.count)))
                charger.startTraffic(first: start + offset, stop: stop, period: period, onlyOneHeartbeat: false)
            }
        }.get()
    }

    /// Every open charger sends one Heartbeat, spread evenly over `spread` from `start`; all of
    /// them are recorded (to check that every connection still carries calls).
    func heartbeatOnce(start: NIODeadline, spread: TimeAmount) async throws {
        let state = self.state
        try await loop.submit {
            let fleet = state.value
            fleet.window = start..<(start + spread + .seconds(1))
            let chargers = fleet.chargers.filter(\.isOpen)
            for (index, charger) in chargers.enumerated() {
                let offset = TimeAmount.nanoseconds(spread.nanoseconds * Int64(index) / Int64(max(1, chargers.count)))
                charger.startTraffic(
                    first: start + offset,
                    stop: start + spread + .seconds(1),
                    period: spread,
                    onlyOneHeartbeat: true
                )
            }
        }.get()
    }

    func snapshot() async throws -> Snapshot {
        let state = self.state
        return try await loop.submit { state.value.snapshot }.get()
    }

    /// Forgets the recorded round trips and window counters (the connections stay).
    func resetRecording() async throws {
        let state = self.state
        try await loop.submit { state.value.resetRecording() }.get()
    }

    /// Closes every connection of the fleet (with a WebSocket close frame, then TCP).
    func closeAll() async throws {
        let state = self.state
        try await loop.submit {
            for charger in state.value.chargers { charger.close() }
            state.value.chargers.removeAll()
        }.get()
    }
}

/// Why a charger could not connect.
enum ChargerConnectError: Error, CustomStringConvertible {
    case tcp(String, String)
    case upgrade(String, String)
    case boot(String, String)

    var description: String {
        switch self {
        case .tcp(let id, let reason): "charger \(id): TCP connect failed: \(reason)"
        case .upgrade(let id, let reason): "charger \(id): WebSocket upgrade failed: \(reason)"
        case .boot(let id, let reason): "charger \(id): BootNotification failed: \(reason)"
        }
    }
}

/// What a charger's upgrade led to.
enum ChargerUpgrade: Sendable {
    /// Upgraded with `ocpp1.6`; the charger's handler, on its event loop.
    case upgraded(NIOLoopBound<ChargerHandler>)
    case wrongSubprotocol(String?)
    case refused
}

/// Waits for `future`, failing after `timeout`.
func withTimeout<Value: Sendable>(
    _ future: EventLoopFuture<Value>,
    timeout: TimeAmount,
    on loop: any EventLoop
) async throws -> Value {
    let promise = loop.makePromise(of: Value.self)
    future.cascade(to: promise)
    let timer = loop.scheduleTask(in: timeout) {
        promise.fail(BenchmarkError.setup("no answer within \(timeout.nanoseconds / 1_000_000) ms"))
    }
    defer { timer.cancel() }
    return try await promise.futureResult.get()
}

/// A fleet's state, owned by its event loop.
final class FleetState {
    var chargers: [ChargerHandler] = []
    var window: Range<NIODeadline>?
    var roundTrips: [UInt64] = []
    var sendLateness: [UInt64] = []
    var sentInWindow = 0
    var answeredInWindow = 0
    var callErrors = 0
    var callsReceived: [String: Int] = [:]
    var connected = 0
    var open = 0
    var droppedByPeer = 0
    private var clock = SecondClock()

    /// `timestamp` for MeterValues (UTC, whole seconds).
    var timestamp: [UInt8] { clock.now }

    func inWindow(_ time: NIODeadline) -> Bool { window?.contains(time) ?? false }

    func resetRecording() {
        roundTrips.removeAll()
        sendLateness.removeAll()
        sentInWindow = 0
        answeredInWindow = 0
        callErrors = 0
        callsReceived = [:]
        window = nil
    }

    var snapshot: ChargerFleet.Snapshot {
        .init(
            connected: connected,
            open: open,
            droppedByPeer: droppedByPeer,
            roundTrips: roundTrips,
            sentInWindow: sentInWindow,
            answeredInWindow: answeredInWindow,
            callErrors: callErrors,
            callsReceived: callsReceived,
            sendLateness: sendLateness
        )
    }
}

/// One simulated charger: its WebSocket, its calls in flight, its send schedule.
final class ChargerHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let chargerID: String
    private unowned let fleet: FleetState
    private var context: ChannelHandlerContext?
    private var sequence: UInt32 = 0
    /// Calls in flight: message id → (sent at, inside the measuring window).
    private var inFlight: [UInt32: (sent: NIODeadline, recorded: Bool)] = [:]
    private var bootID: UInt32?
    private var bootPromise: EventLoopPromise<Void>?
    private var schedule: Scheduled<Void>?
    private var closing = false
    private var energyWh = 1_000_000

    var isOpen: Bool { context != nil && !closing }

    init(chargerID: String, fleet: FleetState) {
        self.chargerID = chargerID
        self.fleet = fleet
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        fleet.chargers.append(self)
        fleet.connected += 1
        fleet.open += 1
    }

    func channelInactive(context: ChannelHandlerContext) {
        fleet.open -= 1
        if !closing { fleet.droppedByPeer += 1 }
        bootPromise?.fail(BenchmarkError.setup("the connection closed before the BootNotification result"))
        bootPromise = nil
        schedule?.cancel()
        self.context = nil
        closing = true
        context.fireChannelInactive()
    }

    /// Sends the BootNotification; the future completes with its CALLRESULT.
    func sendBootNotification() -> EventLoopFuture<Void> {
        guard let context else { fatalError("sendBootNotification before the handler was added") }
        let promise = context.eventLoop.makePromise(of: Void.self)
        bootPromise = promise
        sequence += 1
        bootID = sequence
        send(
            "[2,\"\(sequence)\",\"BootNotification\",{\"chargePointVendor\":\"LoadGuard\","
                + "\"chargePointModel\":\"Bench\",\"chargePointSerialNumber\":\"\(chargerID)\","
                + "\"firmwareVersion\":\"1.0.0\"}]",
            record: false
        )
        return promise.futureResult
    }

    /// Schedules sends from `first` every half `period`, alternating Heartbeat and MeterValues.
    func startTraffic(first: NIODeadline, stop: NIODeadline, period: TimeAmount, onlyOneHeartbeat: Bool) {
        schedule?.cancel()
        scheduleSend(
            at: first,
            heartbeat: true,
            stop: stop,
            half: .nanoseconds(period.nanoseconds / 2),
            once: onlyOneHeartbeat
        )
    }

    private func scheduleSend(
        at deadline: NIODeadline,
        heartbeat: Bool,
        stop: NIODeadline,
        half: TimeAmount,
        once: Bool
    ) {
        guard deadline < stop, let context else { return }
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            guard self.isOpen else { return }
            let now = NIODeadline.now()
            if self.fleet.inWindow(now) {
                self.fleet.sendLateness.append(now > deadline ? UInt64((now - deadline).nanoseconds) : 0)
            }
            if heartbeat { self.sendHeartbeat() } else { self.sendMeterValues() }
            if !once {
                self.scheduleSend(at: deadline + half, heartbeat: !heartbeat, stop: stop, half: half, once: false)
            }
        }
        schedule = task
    }

    private func sendHeartbeat() {
        sequence += 1
        send("[2,\"\(sequence)\",\"Heartbeat\",{}]", record: true)
    }

    /// A three-phase MeterValues as a 22 A wallbox reports it: per-phase current, power, energy.
    private func sendMeterValues() {
        sequence += 1
        energyWh += 4
        let stamp = String(decoding: fleet.timestamp, as: UTF8.self)
        var text = "[2,\"\(sequence)\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"\(stamp)\","
        text += "\"sampledValue\":["
        for (phase, current) in [("L1", "15.9"), ("L2", "16.1"), ("L3", "16.0")] {
            text += "{\"value\":\"\(current)\",\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\","
            text += "\"phase\":\"\(phase)\",\"unit\":\"A\"},"
        }
        text +=
            "{\"value\":\"11040\",\"context\":\"Sample.Periodic\",\"measurand\":\"Power.Active.Import\",\"unit\":\"W\"},"
        text += "{\"value\":\"\(energyWh)\",\"context\":\"Sample.Periodic\","
        text += "\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"}]}]}]"
        send(text, record: true)
    }

    private func send(_ text: String, record: Bool) {
        guard let context else { return }
        let now = NIODeadline.now()
        let recorded = record && fleet.inWindow(now)
        if recorded { fleet.sentInWindow += 1 }
        inFlight[sequence] = (now, recorded)
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let received = NIODeadline.now()
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            let bytes = frame.unmaskedData
            guard let head = OCPPHead(bytes.readableBytesView) else { return }
            if head.messageType == 2 {
                // A CALL towards the charger: accepted where a wallbox accepts it, else NotImplemented.
                let action = head.action.map { String(decoding: $0, as: UTF8.self) } ?? "?"
                fleet.callsReceived[action, default: 0] += 1
                var reply = context.channel.allocator.buffer(capacity: 64)
                switch action {
                case "SetChargingProfile", "ClearChargingProfile", "ChangeConfiguration", "TriggerMessage":
                    reply.writeString("[3,\"")
                    reply.writeBytes(head.id)
                    reply.writeString("\",{\"status\":\"Accepted\"}]")
                default:
                    reply.writeString("[4,\"")
                    reply.writeBytes(head.id)
                    reply.writeString("\",\"NotImplemented\",\"\",{}]")
                }
                let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: reply)
                context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
                return
            }
            guard let id = UInt32(String(decoding: head.id, as: UTF8.self)), let call = inFlight.removeValue(forKey: id)
            else { return }
            if head.messageType == 4 { fleet.callErrors += 1 }
            if id == bootID {
                bootID = nil
                if head.messageType == 3 {
                    bootPromise?.succeed(())
                } else {
                    bootPromise?.fail(BenchmarkError.setup("the BootNotification was answered with a CALLERROR"))
                }
                bootPromise = nil
            } else if call.recorded, head.messageType == 3 {
                fleet.answeredInWindow += 1
                fleet.roundTrips.append(UInt64((received - call.sent).nanoseconds))
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Closes the connection on the fleet's behalf (not counted as dropped).
    func close() {
        guard let context, !closing else { return }
        closing = true
        schedule?.cancel()
        let frame = WebSocketFrame(
            fin: true,
            opcode: .connectionClose,
            maskKey: .random(),
            data: context.channel.allocator.buffer(bytes: [0x03, 0xE8])
        )
        context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
