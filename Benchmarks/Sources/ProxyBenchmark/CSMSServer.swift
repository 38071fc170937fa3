import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The CSMS every path ends at: an OCPP 1.6J WebSocket server on loopback that answers the
/// chargers' `BootNotification`, `Heartbeat`, `MeterValues` and `StatusNotification` CALLs with
/// CALLRESULTs and everything else with a `NotImplemented` CALLERROR.
///
/// It runs on event-loop handlers (no hop into Swift concurrency per frame) so that its share of
/// every measured round trip is small and the same for the three paths. Upgrades are accepted on
/// `/ocpp/<chargePointId>` offering `ocpp1.6`; anything else is refused (the HTTP pipeline closes).
struct CSMSServer {
    let channel: any Channel
    let port: Int
    private let counters: NIOLoopBound<CSMSCounters>

    /// What the CSMS has seen so far.
    struct Snapshot: Sendable {
        /// WebSocket sessions upgraded, ever.
        var sessions: Int
        /// WebSocket sessions open now.
        var open: Int
        /// CALLs answered.
        var calls: Int
        /// Frames that were not an OCPP CALL/CALLRESULT/CALLERROR array.
        var malformed: Int
    }

    /// Binds on `127.0.0.1:0` on `loop` (a single event loop owns all sessions and the counters).
    static func start(on loop: any EventLoop) async throws -> CSMSServer {
        let counters = try await loop.submit { NIOLoopBound(CSMSCounters(), eventLoop: loop) }.get()
        let channel = try await ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 4096)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel: channel, counters: counters)
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = channel.localAddress?.port else {
            throw BenchmarkError.setup("the CSMS socket has no local port after binding to 127.0.0.1:0")
        }
        return CSMSServer(channel: channel, port: port, counters: counters)
    }

    private static func configure(channel: any Channel, counters: NIOLoopBound<CSMSCounters>) throws {
        let upgrader = NIOTypedWebSocketServerUpgrader<Bool>(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, head in
                let offered = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map(String.init)
                guard head.uri.hasPrefix("/ocpp/"), offered.contains("ocpp1.6") else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders([("Sec-WebSocket-Protocol", "ocpp1.6")]))
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0,
                            maxAccumulatedFrameCount: 64,
                            maxAccumulatedFrameSize: 1 << 20
                        )
                    )
                    try channel.pipeline.syncOperations.addHandler(CSMSSessionHandler(counters: counters.value))
                    return true
                }
            }
        )
        let configuration = NIOTypedHTTPServerUpgradeConfiguration<Bool>(
            upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in
                channel.close(promise: nil)
                return channel.eventLoop.makeSucceededFuture(false)
            }
        )
        _ = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
            configuration: .init(upgradeConfiguration: configuration)
        )
    }

    func snapshot() async throws -> Snapshot {
        let counters = self.counters
        return try await channel.eventLoop.submit { counters.value.snapshot }.get()
    }

    func stop() async {
        try? await channel.close()
    }
}

/// The CSMS's counters and the `currentTime` it answers with, owned by its event loop.
final class CSMSCounters {
    var sessions = 0
    var open = 0
    var calls = 0
    var malformed = 0
    private var clock = SecondClock()

    /// `currentTime` for Heartbeat and BootNotification results (UTC, whole seconds).
    var currentTime: [UInt8] { clock.now }

    var snapshot: CSMSServer.Snapshot {
        .init(sessions: sessions, open: open, calls: calls, malformed: malformed)
    }
}

/// One charger's session at the CSMS: answers each CALL at once, on the event loop.
final class CSMSSessionHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let counters: CSMSCounters

    init(counters: CSMSCounters) {
        self.counters = counters
    }

    func handlerAdded(context: ChannelHandlerContext) {
        counters.sessions += 1
        counters.open += 1
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        counters.open -= 1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            let text = frame.unmaskedData
            guard let head = OCPPHead(text.readableBytesView) else {
                counters.malformed += 1
                return
            }
            guard head.messageType == 2 else { return }  // results of calls the CSMS never made
            counters.calls += 1
            var reply = context.channel.allocator.buffer(capacity: 96)
            if head.isAction("Heartbeat") {
                reply.writeString("[3,\"")
                reply.writeBytes(head.id)
                reply.writeString("\",{\"currentTime\":\"")
                reply.writeBytes(counters.currentTime)
                reply.writeString("\"}]")
            } else if head.isAction("BootNotification") {
                reply.writeString("[3,\"")
                reply.writeBytes(head.id)
                reply.writeString("\",{\"status\":\"Accepted\",\"currentTime\":\"")
                reply.writeBytes(counters.currentTime)
                reply.writeString("\",\"interval\":300}]")
            } else if head.isAction("MeterValues") || head.isAction("StatusNotification") {
                reply.writeString("[3,\"")
                reply.writeBytes(head.id)
                reply.writeString("\",{}]")
            } else {
                reply.writeString("[4,\"")
                reply.writeBytes(head.id)
                reply.writeString("\",\"NotImplemented\",\"\",{}]")
            }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: reply)), promise: nil)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readSlice(length: 2) ?? ByteBuffer()
            let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: code)
            context.writeAndFlush(wrapOutboundOut(close)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The head of an OCPP-J message, `[type, "id", "action"?, …]`, found by scanning the bytes.
///
/// Enough for the benchmark's own peers, whose ids and actions contain no escaped quotes; the
/// payload is not parsed.
struct OCPPHead {
    var messageType: UInt8
    var id: ByteBufferView.SubSequence
    var action: ByteBufferView.SubSequence?

    init?(_ bytes: ByteBufferView) {
        var index = bytes.startIndex
        func skipSpaces() {
            while index < bytes.endIndex, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D {
                index += 1
            }
        }
        func quoted() -> ByteBufferView.SubSequence? {
            guard let open = bytes[index...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            guard let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            index = close + 1
            return bytes[(open + 1)..<close]
        }
        skipSpaces()
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "[") else { return nil }
        index += 1
        skipSpaces()
        guard index < bytes.endIndex, (UInt8(ascii: "2")...UInt8(ascii: "4")).contains(bytes[index]) else {
            return nil
        }
        messageType = bytes[index] - UInt8(ascii: "0")
        index += 1
        guard let id = quoted() else { return nil }
        self.id = id
        action = messageType == 2 ? quoted() : nil
        if messageType == 2, action == nil { return nil }
    }

    func isAction(_ name: StaticString) -> Bool {
        guard let action else { return false }
        return name.withUTF8Buffer { action.elementsEqual($0) }
    }
}

/// The CSMS in a child process of its own (`ProxyBenchmark --serve-csms`), so that it and the
/// chargers each have a full open-file limit: 10,000 idle chargers need 10,000 sockets on each side.
struct CSMSProcess {
    static let flag = "--serve-csms"
    let process: ChildProcess
    let port: Int
    /// Descriptors the CSMS holds with no session open (listening socket, event loop, stdio).
    let baselineFiles: Int

    /// WebSocket sessions open at the CSMS now, from its descriptor count.
    var openSessions: Int { max(0, (ProcFS.openFileCount(pid: process.pid) ?? baselineFiles) - baselineFiles) }

    /// Starts this executable with ``flag`` and reads the port it reports.
    static func launch(directory: String) async throws -> CSMSProcess {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let process = try ChildProcess.launch(
            name: "CSMS",
            executable: executable,
            arguments: [flag],
            logPath: directory + "/csms.log"
        )
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(30) {
            guard process.isRunning else {
                throw BenchmarkError.setup("the CSMS exited at start; its log:\n\(process.logTail())")
            }
            let log = (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? ""
            if let line = log.split(separator: "\n").first(where: { $0.hasPrefix(listeningPrefix) }),
                let port = Int(line.dropFirst(listeningPrefix.count))
            {
                try await Task.sleep(for: .milliseconds(200))
                let files = ProcFS.openFileCount(pid: process.pid) ?? 0
                return CSMSProcess(process: process, port: port, baselineFiles: files)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchmarkError.setup("the CSMS did not report its port within 30 s; its log:\n\(process.logTail())")
    }

    private static let listeningPrefix = "CSMS listening on 127.0.0.1:"

    /// The child's side: serve until the parent is gone, then exit.
    static func serve() async throws -> Never {
        let parent = getppid()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await CSMSServer.start(on: group.next())
        FileHandle.standardOutput.write(Data("\(listeningPrefix)\(server.port)\n".utf8))
        while getppid() == parent {
            try await Task.sleep(for: .milliseconds(200))
        }
        exit(0)
    }
}
