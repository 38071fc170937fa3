import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// An open WebSocket to the CSMS for one charger.
struct UpstreamConnection: Sendable {
    var channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>
    /// The subprotocol the CSMS chose, or `nil` when it answered without one.
    var subprotocol: String?
}

/// Why the CSMS could not be reached. `refused` carries the CSMS's HTTP status, which the proxy
/// passes on to the charger during its handshake (401, 404 …) so that the CSMS's decision holds.
enum UpstreamConnectError: Error, Equatable, CustomStringConvertible {
    case refused(status: Int)
    case unreachable(String)
    case timeout(seconds: Double)
    case tls(String)

    var description: String {
        switch self {
        case .refused(let status): "the CSMS refused the WebSocket upgrade with HTTP \(status)"
        case .unreachable(let reason): "the CSMS is unreachable: \(reason)"
        case .timeout(let seconds): "the CSMS did not complete the WebSocket upgrade within \(seconds) s"
        case .tls(let reason): "TLS with the CSMS failed: \(reason)"
        }
    }

    /// A refusal the charger should see as well (the CSMS's answer on the charger's identity or
    /// credentials); everything else is a link problem that the proxy bridges.
    var isDefinitiveRefusal: Bool {
        if case .refused(let status) = self { return (400..<500).contains(status) && status != 408 && status != 429 }
        return false
    }
}

/// Opens WebSocket connections to the CSMS: TCP or TLS, the upgrade with the charger's
/// subprotocols and credentials, frames up to the configured size, fragments aggregated.
struct UpstreamConnector: Sendable {
    let group: any EventLoopGroup
    let sslContext: NIOSSLContext?
    let maxMessageSize: Int
    let connectTimeout: Double

    init(group: any EventLoopGroup, tls: ClientTLS, maxMessageSize: Int, connectTimeout: Double) throws {
        self.group = group
        self.maxMessageSize = maxMessageSize
        self.connectTimeout = connectTimeout
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let ca = tls.caBundleFile {
            configuration.trustRoots = .file(ca)
        }
        if let chain = tls.certificateChainFile, let key = tls.privateKeyFile {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(chain).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        self.sslContext = try NIOSSLContext(configuration: configuration)
    }

    private enum UpgradeResult: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, subprotocol: String?)
        case notUpgraded(status: Int)
    }

    /// Connects to `<endpoint>/<chargerID>` offering `subprotocols`.
    func connect(
        endpoint: UpstreamEndpoint,
        chargerID: String,
        subprotocols: [String],
        authorization: String?
    ) async throws(UpstreamConnectError) -> UpstreamConnection {
        let target = endpoint.requestTarget(chargerID: chargerID)
        var headers = HTTPHeaders()
        headers.add(
            name: "Host",
            value: endpoint.port == (endpoint.secure ? 443 : 80) ? endpoint.host : "\(endpoint.host):\(endpoint.port)"
        )
        if !subprotocols.isEmpty {
            headers.add(name: "Sec-WebSocket-Protocol", value: subprotocols.joined(separator: ","))
        }
        if let authorization {
            headers.add(name: "Authorization", value: authorization)
        }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
        let maxMessageSize = self.maxMessageSize
        let sslContext = endpoint.secure ? self.sslContext : nil
        let serverHostname = endpoint.host.isIPAddress ? nil : endpoint.host

        let upgrade: EventLoopFuture<UpgradeResult>
        do {
            upgrade = try await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(Int64(connectTimeout * 1000)))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                            try channel.pipeline.syncOperations.addHandler(handler)
                        }
                        let statusPromise = channel.eventLoop.makePromise(of: Int.self)
                        try channel.pipeline.syncOperations.addHandler(HTTPStatusSniffer(status: statusPromise))
                        let upgrader = NIOTypedWebSocketClientUpgrader<UpgradeResult>(
                            maxFrameSize: maxMessageSize,
                            upgradePipelineHandler: { channel, response in
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
                                    let chosen = response.headers["Sec-WebSocket-Protocol"].first
                                    return .websocket(asyncChannel, subprotocol: chosen)
                                }
                            }
                        )
                        let configuration = NIOTypedHTTPClientUpgradeConfiguration<UpgradeResult>(
                            upgradeRequestHead: head,
                            upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in
                                statusPromise.futureResult.map { status in
                                    channel.close(promise: nil)
                                    return .notUpgraded(status: status)
                                }
                            }
                        )
                        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                            configuration: .init(upgradeConfiguration: configuration)
                        )
                    }
                }
        } catch {
            throw .unreachable("\(error)")
        }

        let result: UpgradeResult
        do {
            result = try await withThrowingTaskGroup(of: UpgradeResult?.self) { group in
                group.addTask { try await upgrade.get() }
                group.addTask {
                    try await Task.sleep(for: .seconds(connectTimeout))
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                guard let first else { throw UpstreamConnectError.timeout(seconds: connectTimeout) }
                return first
            }
        } catch let error as UpstreamConnectError {
            upgrade.whenSuccess { if case .websocket(let channel, _) = $0 { channel.channel.close(promise: nil) } }
            throw error
        } catch let error as NIOSSLError {
            throw .tls("\(error)")
        } catch let error as BoringSSLError {
            throw .tls("\(error)")
        } catch {
            throw .unreachable("\(error)")
        }
        switch result {
        case .websocket(let channel, let subprotocol):
            return UpstreamConnection(channel: channel, subprotocol: subprotocol)
        case .notUpgraded(let status):
            throw .refused(status: status)
        }
    }
}

/// Reads the status code of the first HTTP response line on a connection, then steps aside.
/// The typed client upgrade handler consumes a refused response without telling its status.
final class HTTPStatusSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let status: EventLoopPromise<Int>
    private var seen: [UInt8] = []
    private var reported = false

    init(status: EventLoopPromise<Int>) { self.status = status }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        seen += buffer.readableBytesView.prefix(max(0, 64 - seen.count))
        if let line = seen.firstIndex(of: UInt8(ascii: "\r")) ?? (seen.count >= 64 ? seen.count : nil) {
            // "HTTP/1.1 401 Unauthorized"
            let words = String(decoding: seen[..<line], as: UTF8.self).split(separator: " ")
            report(words.count >= 2 ? Int(words[1]) ?? 0 : 0)
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        report(0)
    }

    func channelInactive(context: ChannelHandlerContext) {
        report(0)
        context.fireChannelInactive()
    }

    private func report(_ code: Int) {
        guard !reported else { return }
        reported = true
        status.succeed(code)
    }
}

extension String {
    /// Whether this is a literal IPv4 or IPv6 address (no SNI for those).
    var isIPAddress: Bool {
        if contains(":") { return true }
        let parts = split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}
