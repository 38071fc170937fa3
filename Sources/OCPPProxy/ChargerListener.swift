import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import OCPP

/// What the charger-facing upgrade produced for one TCP connection.
enum ChargerUpgradeResult: Sendable {
    /// A charger session: its WebSocket, the version agreed, and the upstream opened for it (if any).
    case charger(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, ChargerHandshakeOutcome)
    /// Upgraded without a subprotocol because none was common: to be closed at once.
    case noCommonSubprotocol(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, chargerID: String)
    /// Answered with an HTTP error status.
    case refused
}

/// The handshake's result for an accepted charger.
struct ChargerHandshakeOutcome: Sendable {
    var accepted: AcceptedHandshake
    var version: OCPPVersion
    var upstream: UpstreamConnection?
    /// Why no upstream is open (link down during the handshake), for the log.
    var upstreamError: UpstreamConnectError?
    var remoteAddress: String
}

/// State of one TCP connection during its upgrade, confined to the channel's event loop.
private struct PendingUpgrade {
    var refusal: (status: Int, reason: String)?
    var outcome: ChargerHandshakeOutcome?
    var noSubprotocolID: String?
}

extension OCPPProxy {
    /// Binds the charger-facing server. The returned channel yields one upgrade future per connection.
    func bindChargerListener() async throws -> NIOAsyncChannel<EventLoopFuture<ChargerUpgradeResult>, Never> {
        let sslContext: NIOSSLContext?
        if let tls = configuration.serverTLS {
            var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificateChainFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.privateKeyFile, format: .pem))
            )
            if let ca = tls.clientCAFile {
                tlsConfiguration.certificateVerification = .noHostnameVerification
                tlsConfiguration.trustRoots = .file(ca)
            }
            sslContext = try NIOSSLContext(configuration: tlsConfiguration)
        } else {
            sslContext = nil
        }
        let maxMessageSize = configuration.maxMessageSize
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    let pending = NIOLoopBoundBox(PendingUpgrade(), eventLoop: channel.eventLoop)
                    let upgrader = NIOTypedWebSocketServerUpgrader<ChargerUpgradeResult>(
                        maxFrameSize: maxMessageSize,
                        enableAutomaticErrorHandling: true,
                        shouldUpgrade: { channel, head in
                            self.shouldUpgrade(channel: channel, head: head, pending: pending)
                        },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(
                                    NIOWebSocketFrameAggregator(
                                        minNonFinalFragmentSize: 0,
                                        maxAccumulatedFrameCount: 4096,
                                        maxAccumulatedFrameSize: maxMessageSize
                                    )
                                )
                                let asyncChannel = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                                    wrappingChannelSynchronously: channel
                                )
                                if let outcome = pending.value.outcome {
                                    return .charger(asyncChannel, outcome)
                                }
                                return .noCommonSubprotocol(
                                    asyncChannel,
                                    chargerID: pending.value.noSubprotocolID ?? ""
                                )
                            }
                        }
                    )
                    let configuration = NIOTypedHTTPServerUpgradeConfiguration<ChargerUpgradeResult>(
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                let refusal = pending.value.refusal ?? (400, "not a WebSocket upgrade request")
                                try channel.pipeline.syncOperations.addHandler(
                                    HTTPRefusalHandler(status: refusal.status, reason: refusal.reason)
                                )
                                return .refused
                            }
                        }
                    )
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                        configuration: .init(upgradeConfiguration: configuration)
                    )
                }
            }
    }

    /// The upgrade decision: the pure rules first, then the upstream connection (opened before the
    /// charger's upgrade completes, so the charger gets the subprotocol the CSMS chose).
    private func shouldUpgrade(
        channel: any Channel,
        head: HTTPRequestHead,
        pending: NIOLoopBoundBox<PendingUpgrade>
    ) -> EventLoopFuture<HTTPHeaders?> {
        let remote = channel.remoteAddress?.description ?? "unknown"
        let decision = handshakeRules.evaluate(uri: head.uri, headers: head.headers.map { ($0.name, $0.value) })
        switch decision {
        case .refuse(let status, let reason):
            logger.notice(
                "Charger connection refused",
                metadata: ["remote": "\(remote)", "path": "\(head.uri)", "status": "\(status)", "reason": "\(reason)"]
            )
            pending.value.refusal = (status, reason)
            return channel.eventLoop.makeSucceededFuture(nil)
        case .acceptWithoutSubprotocol(let id):
            logger.notice(
                "Charger offered no OCPP version LoadGuard speaks; closing after the handshake",
                metadata: ["charger.id": "\(id)", "remote": "\(remote)"]
            )
            pending.value.noSubprotocolID = id
            return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
        case .accept(let accepted):
            let eventLoop = channel.eventLoop
            let future = eventLoop.makeFutureWithTask { () -> (ChargerHandshakeOutcome?, Int?) in
                await self.openUpstream(for: accepted, remote: remote)
            }
            return future.map { outcome, refusal -> HTTPHeaders? in
                guard let outcome else {
                    pending.value.refusal = (refusal ?? 502, "refused by the CSMS")
                    return nil
                }
                pending.value.outcome = outcome
                var headers = HTTPHeaders()
                headers.add(name: "Sec-WebSocket-Protocol", value: outcome.version.rawValue)
                return headers
            }
        }
    }

    /// Opens the charger's upstream connection during its handshake and picks the version.
    ///
    /// - CSMS reachable and agrees on a version: that version.
    /// - CSMS refuses the charger (HTTP 4xx): the charger is refused with the same status.
    /// - CSMS unreachable, or standalone: the version last negotiated for this charger if it still
    ///   offers it, else the charger's most preferred one; the upstream is retried in the background.
    private func openUpstream(for accepted: AcceptedHandshake, remote: String) async -> (ChargerHandshakeOutcome?, Int?)
    {
        let id = accepted.chargerID
        let last = await registry.lastVersion(of: id)
        let fallback = last.flatMap { accepted.offered.contains($0) ? $0 : nil } ?? accepted.offered[0]
        var outcome = ChargerHandshakeOutcome(
            accepted: accepted,
            version: fallback,
            upstream: nil,
            upstreamError: nil,
            remoteAddress: remote
        )
        guard let endpoint = accepted.policy.upstream ?? configuration.upstream else { return (outcome, nil) }
        do {
            let connection = try await connector.connect(
                endpoint: endpoint,
                chargerID: id,
                subprotocols: accepted.offered.map(\.rawValue),
                authorization: accepted.policy.upstreamAuthorization ?? accepted.authorization
            )
            if let chosen = connection.subprotocol.flatMap(OCPPVersion.init(rawValue:)),
                accepted.offered.contains(chosen)
            {
                outcome.version = chosen
                outcome.upstream = connection
            } else {
                // The CSMS agreed on no version the charger offered: it will close; keep the
                // charger on the fallback version and let the link retry.
                connection.channel.channel.close(promise: nil)
                outcome.upstreamError = .unreachable(
                    "the CSMS chose subprotocol \(connection.subprotocol ?? "none") of \(accepted.offered.map(\.rawValue))"
                )
            }
        } catch {
            if error.isDefinitiveRefusal, case .refused(let status) = error {
                logger.notice(
                    "Charger connection refused by the CSMS",
                    metadata: ["charger.id": "\(id)", "remote": "\(remote)", "status": "\(status)"]
                )
                return (nil, status)
            }
            outcome.upstreamError = error
        }
        return (outcome, nil)
    }
}

/// Answers a request that was not upgraded with an HTTP status and closes the connection.
final class HTTPRefusalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let status: Int
    private let reason: String
    private var answered = false

    init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data), !answered else { return }
        answered = true
        let body = ByteBuffer(string: reason + "\n")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        headers.add(name: "Connection", value: "close")
        if status == 401 {
            headers.add(name: "WWW-Authenticate", value: "Basic realm=\"OCPP\"")
        }
        let head = HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: status),
            headers: headers
        )
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
