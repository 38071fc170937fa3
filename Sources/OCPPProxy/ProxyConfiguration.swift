public import Foundation

/// How the proxy runs: where chargers connect, which chargers it knows, where the CSMS is.
///
/// A value type built by the composition module from the YAML config; the proxy never reads files
/// other than the TLS material named here.
public struct ProxyConfiguration: Sendable {
    /// Charger-facing listen host and port (port 0 picks a free port, see ``OCPPProxy/localPort``).
    public var host: String
    public var port: Int
    /// Path prefix before the charger id (`/ocpp`); empty for chargers that connect to `/<id>`.
    public var pathPrefix: String
    /// Chargers by identity.
    public var chargers: [String: ChargerPolicy]
    /// Accept chargers that are not in ``chargers`` (they get the default policy).
    public var acceptUnknownChargers: Bool
    /// The site's CSMS; `nil`: standalone local controller.
    public var upstream: UpstreamEndpoint?
    /// Charger-facing TLS; `nil`: plain `ws://`.
    public var serverTLS: ServerTLS?
    /// TLS for `wss://` upstreams.
    public var clientTLS: ClientTLS
    /// Calls towards a charger that stay unanswered this long free the charger's call slot.
    public var callTimeout: Double
    /// WebSocket ping interval on each leg; 0 disables pings.
    public var pingInterval: Double
    /// How long the CSMS may take to complete its WebSocket upgrade.
    public var upstreamConnectTimeout: Double
    /// Largest frame and message accepted from either side, in bytes.
    public var maxMessageSize: Int
    /// Upstream reconnect backoff: first delay and cap, in seconds.
    public var reconnectInitialDelay: Double
    public var reconnectMaxDelay: Double
    /// Interval LoadGuard gives in its own BootNotification answers (standalone or `Pending`).
    public var heartbeatInterval: Int

    public init(
        host: String = "0.0.0.0",
        port: Int = 8180,
        pathPrefix: String = "/ocpp",
        chargers: [String: ChargerPolicy] = [:],
        acceptUnknownChargers: Bool = false,
        upstream: UpstreamEndpoint? = nil,
        serverTLS: ServerTLS? = nil,
        clientTLS: ClientTLS = .init(),
        callTimeout: Double = 30,
        pingInterval: Double = 30,
        upstreamConnectTimeout: Double = 10,
        maxMessageSize: Int = 4 * 1024 * 1024,
        reconnectInitialDelay: Double = 1,
        reconnectMaxDelay: Double = 60,
        heartbeatInterval: Int = 300
    ) {
        self.host = host
        self.port = port
        self.pathPrefix = pathPrefix
        self.chargers = chargers
        self.acceptUnknownChargers = acceptUnknownChargers
        self.upstream = upstream
        self.serverTLS = serverTLS
        self.clientTLS = clientTLS
        self.callTimeout = callTimeout
        self.pingInterval = pingInterval
        self.upstreamConnectTimeout = upstreamConnectTimeout
        self.maxMessageSize = maxMessageSize
        self.reconnectInitialDelay = reconnectInitialDelay
        self.reconnectMaxDelay = reconnectMaxDelay
        self.heartbeatInterval = heartbeatInterval
    }
}

/// What the proxy knows about one charger.
public struct ChargerPolicy: Sendable, Equatable {
    public var id: String
    /// When set, the charger must present this Basic-auth password (user name = its id).
    public var password: String?
    /// CSMS for this charger instead of the site's.
    public var upstream: UpstreamEndpoint?
    /// `Authorization` header value sent upstream instead of the charger's own.
    public var upstreamAuthorization: String?

    public init(
        id: String,
        password: String? = nil,
        upstream: UpstreamEndpoint? = nil,
        upstreamAuthorization: String? = nil
    ) {
        self.id = id
        self.password = password
        self.upstream = upstream
        self.upstreamAuthorization = upstreamAuthorization
    }
}

/// A CSMS base URL, `ws://host:port/path` or `wss://…`; the charger id is appended as last segment.
public struct UpstreamEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var secure: Bool
    public var host: String
    public var port: Int
    /// Path without trailing slash (may be empty).
    public var path: String

    public init(secure: Bool, host: String, port: Int, path: String) {
        self.secure = secure
        self.host = host
        self.port = port
        self.path = path
    }

    /// Parses `ws://` and `wss://` URLs; `nil` for anything else.
    public init?(url text: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "ws" || scheme == "wss", let host = components.host, !host.isEmpty
        else { return nil }
        self.secure = scheme == "wss"
        self.host = host
        self.port = components.port ?? (secure ? 443 : 80)
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        self.path = path
    }

    /// The request target for one charger: `<path>/<percent-encoded id>`.
    public func requestTarget(chargerID: String) -> String {
        let allowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
        return path + "/" + (chargerID.addingPercentEncoding(withAllowedCharacters: allowed) ?? chargerID)
    }

    public var description: String { "\(secure ? "wss" : "ws")://\(host):\(port)\(path)" }
}

/// Charger-facing TLS material (PEM files).
public struct ServerTLS: Sendable, Equatable {
    public var certificateChainFile: String
    public var privateKeyFile: String
    /// When set, chargers must present a client certificate signed by this CA (security profile 3).
    public var clientCAFile: String?

    public init(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
    }
}

/// TLS for upstream connections.
public struct ClientTLS: Sendable, Equatable {
    /// CA bundle to trust; `nil`: the system's trust store.
    public var caBundleFile: String?
    public var certificateChainFile: String?
    public var privateKeyFile: String?

    public init(caBundleFile: String? = nil, certificateChainFile: String? = nil, privateKeyFile: String? = nil) {
        self.caBundleFile = caBundleFile
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
    }
}
