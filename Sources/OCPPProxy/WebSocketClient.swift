public import NIOCore
public import NIOPosix
public import NIOWebSocket

/// A WebSocket client for LoadGuard's own tools (the charger simulator, `replay`, load
/// generators): the same connector the proxy uses towards the CSMS, with text frames in and out.
///
/// Frames sent are masked (client role); fragments are aggregated; pings are answered.
public struct WebSocketClient: Sendable {
    let connector: UpstreamConnector

    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tls: ClientTLS = .init(),
        maxMessageSize: Int = 4 * 1024 * 1024,
        connectTimeout: Double = 10
    ) throws {
        connector = try UpstreamConnector(
            group: group,
            tls: tls,
            maxMessageSize: maxMessageSize,
            connectTimeout: connectTimeout
        )
    }

    /// Opens `<base>/<chargerID>` offering `subprotocols`.
    /// - Returns: the connection and the subprotocol the server chose.
    /// - Throws: ``WebSocketClientError`` with the server's HTTP status when it refused the upgrade.
    public func connect(
        base: UpstreamEndpoint,
        chargerID: String,
        subprotocols: [String],
        authorization: String? = nil
    ) async throws(WebSocketClientError) -> (
        channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, subprotocol: String?
    ) {
        do {
            let connection = try await connector.connect(
                endpoint: base,
                chargerID: chargerID,
                subprotocols: subprotocols,
                authorization: authorization
            )
            return (connection.channel, connection.subprotocol)
        } catch {
            switch error {
            case .refused(let status): throw .refused(status: status)
            default: throw .failed(error.description)
            }
        }
    }

    /// A masked text frame, as a client must send it.
    public static func textFrame(_ text: String) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text))
    }

    /// A masked text frame from bytes.
    public static func textFrame(bytes: [UInt8]) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(bytes: bytes))
    }

    /// A masked pong answering `ping`.
    public static func pong(for ping: WebSocketFrame) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: ping.unmaskedData)
    }
}

/// Why a WebSocket client connection failed.
public enum WebSocketClientError: Error, Equatable, CustomStringConvertible {
    /// The server answered the upgrade with this HTTP status.
    case refused(status: Int)
    case failed(String)

    public var description: String {
        switch self {
        case .refused(let status): "the server refused the WebSocket upgrade with HTTP \(status)"
        case .failed(let reason): reason
        }
    }
}
