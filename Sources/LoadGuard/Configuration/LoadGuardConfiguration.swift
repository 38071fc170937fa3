public import Allocation

/// Everything one `loadguard run` needs, read from one YAML file.
///
/// Every section has defaults, so the smallest valid file is `chargers: []` (a standalone proxy
/// on port 8180 that accepts no charger). Keys are snake_case; unknown keys are errors.
public struct LoadGuardConfiguration: Sendable, Decodable {
    public var ocpp: OCPPSection
    public var chargers: [ChargerSection]
    public var api: APISection
    public var log: LogSection
    public var site: SiteSection
    public var meter: MeterSection
    public var inputs: InputsSection
    public var limits: LimitsSection
    public var demo: DemoSection
    public var store: StoreSection

    public init(
        ocpp: OCPPSection = .init(),
        chargers: [ChargerSection] = [],
        api: APISection = .init(),
        log: LogSection = .init()
    ) {
        self.ocpp = ocpp
        self.chargers = chargers
        self.api = api
        self.log = log
        self.site = .init()
        self.meter = .init()
        self.inputs = .init()
        self.limits = .init()
        self.demo = .init()
        self.store = .init()
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case ocpp, chargers, api, log, site, meter, inputs, limits, demo, store
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.ocpp = try c.decodeIfPresent(OCPPSection.self, forKey: .ocpp) ?? .init()
        self.chargers = try c.decodeIfPresent([ChargerSection].self, forKey: .chargers) ?? []
        self.api = try c.decodeIfPresent(APISection.self, forKey: .api) ?? .init()
        self.log = try c.decodeIfPresent(LogSection.self, forKey: .log) ?? .init()
        self.site = try c.decodeIfPresent(SiteSection.self, forKey: .site) ?? .init()
        self.meter = try c.decodeIfPresent(MeterSection.self, forKey: .meter) ?? .init()
        self.inputs = try c.decodeIfPresent(InputsSection.self, forKey: .inputs) ?? .init()
        self.limits = try c.decodeIfPresent(LimitsSection.self, forKey: .limits) ?? .init()
        self.demo = try c.decodeIfPresent(DemoSection.self, forKey: .demo) ?? .init()
        self.store = try c.decodeIfPresent(StoreSection.self, forKey: .store) ?? .init()
    }
}

/// A `HOST:PORT` address to listen on or connect to. IPv6 hosts are written in brackets.
public struct SocketAddressText: Sendable, Equatable, Decodable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = Self.parse(text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected \"HOST:PORT\" with a port 0–65535, found \"\(text)\""
            )
        }
        self = parsed
    }

    public static func parse(_ text: String) -> SocketAddressText? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port), !host.isEmpty else {
            return nil
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return SocketAddressText(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The `ocpp:` section: the charger-facing server and the CSMS-facing client.
public struct OCPPSection: Sendable, Decodable {
    /// Charger-facing listen address.
    public var listen = SocketAddressText(host: "0.0.0.0", port: 8180)
    /// Path prefix before the charger id: chargers connect to `ws://HOST:PORT<path>/<id>`.
    public var path = "/ocpp"
    /// The CSMS, as `ws://` or `wss://` URL; LoadGuard opens `<upstream>/<id>`. Absent: standalone.
    public var upstream: String?
    /// Accept chargers that are not listed under `chargers:`.
    public var acceptUnknownChargers = false
    /// File for the JSON-lines trace of every frame; absent: no trace.
    public var trace: String?
    /// `secrets` (default) redacts Basic auth, idTag and idToken values in the trace; `none` keeps them.
    public var traceRedaction = TraceRedactionSetting.secrets
    /// How long a call towards a charger may stay unanswered before its slot is freed.
    public var callTimeout = ConfigDuration(seconds: 30)
    /// WebSocket ping interval on each leg (0 disables pings).
    public var pingInterval = ConfigDuration(seconds: 30)
    /// How long to wait for the CSMS to complete its WebSocket upgrade.
    public var upstreamConnectTimeout = ConfigDuration(seconds: 10)
    /// Largest frame and message accepted from either side, in bytes (at least 1 MiB).
    public var maxMessageSize = 4 * 1024 * 1024
    /// Charger-facing TLS (`wss://`); absent: plain `ws://`.
    public var tls: ServerTLSSection?
    /// TLS settings for a `wss://` upstream.
    public var upstreamTLS: ClientTLSSection?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, path, upstream, trace, tls
        case acceptUnknownChargers = "accept_unknown_chargers"
        case traceRedaction = "trace_redaction"
        case callTimeout = "call_timeout"
        case pingInterval = "ping_interval"
        case upstreamConnectTimeout = "upstream_connect_timeout"
        case maxMessageSize = "max_message_size"
        case upstreamTLS = "upstream_tls"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        listen = try c.decodeIfPresent(SocketAddressText.self, forKey: .listen) ?? listen
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? path
        upstream = try c.decodeIfPresent(String.self, forKey: .upstream)
        acceptUnknownChargers = try c.decodeIfPresent(Bool.self, forKey: .acceptUnknownChargers) ?? false
        trace = try c.decodeIfPresent(String.self, forKey: .trace)
        traceRedaction = try c.decodeIfPresent(TraceRedactionSetting.self, forKey: .traceRedaction) ?? .secrets
        callTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .callTimeout) ?? callTimeout
        pingInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .pingInterval) ?? pingInterval
        upstreamConnectTimeout =
            try c.decodeIfPresent(ConfigDuration.self, forKey: .upstreamConnectTimeout) ?? upstreamConnectTimeout
        maxMessageSize = try c.decodeIfPresent(Int.self, forKey: .maxMessageSize) ?? maxMessageSize
        tls = try c.decodeIfPresent(ServerTLSSection.self, forKey: .tls)
        upstreamTLS = try c.decodeIfPresent(ClientTLSSection.self, forKey: .upstreamTLS)
    }
}

public enum TraceRedactionSetting: String, Sendable, Decodable {
    case secrets, none
}

/// Charger-facing TLS: a PEM certificate chain and key, optionally a CA to verify client
/// certificates (OCPP security profile 3).
public struct ServerTLSSection: Sendable, Decodable {
    public var certificate: String
    public var key: String
    public var clientCA: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case certificate, key
        case clientCA = "client_ca"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificate = try c.decode(String.self, forKey: .certificate)
        key = try c.decode(String.self, forKey: .key)
        clientCA = try c.decodeIfPresent(String.self, forKey: .clientCA)
    }
}

/// CSMS-facing TLS: a CA bundle to trust (default: the system's), optionally a client certificate.
public struct ClientTLSSection: Sendable, Decodable {
    public var caBundle: String?
    public var certificate: String?
    public var key: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case certificate, key
        case caBundle = "ca_bundle"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        caBundle = try c.decodeIfPresent(String.self, forKey: .caBundle)
        certificate = try c.decodeIfPresent(String.self, forKey: .certificate)
        key = try c.decodeIfPresent(String.self, forKey: .key)
    }
}

/// One entry of `chargers:`.
public struct ChargerSection: Sendable, Decodable {
    /// The charge point identity: the last path segment of its OCPP URL.
    public var id: String
    /// Basic-auth password the charger must present; absent: its `Authorization` is passed to the CSMS.
    public var password: String?
    /// CSMS URL for this charger instead of `ocpp.upstream`.
    public var upstream: String?
    /// Credentials LoadGuard presents upstream instead of forwarding the charger's `Authorization`.
    public var upstreamUsername: String?
    public var upstreamPassword: String?
    /// Phases the charger is wired with (1, 2 or 3).
    public var phases = 3
    /// How its L1 L2 L3 are wired to the grid's phases (`L1L2L3`, `L2L3L1`, …, `unknown`).
    public var rotation = PhaseRotation.l1l2l3
    /// Smallest current a car accepts (IEC 61851: 6 A).
    public var minCurrent: Double = 6
    /// Rated current of the charger.
    public var maxCurrent: Double = 32
    /// Higher is served first when there is not enough for everyone.
    public var priority = 0
    /// How LoadGuard installs its limit.
    public var profile = ProfileStrategy.max
    /// `A` (default) or `W` for chargers that only take limits in watts.
    public var rateUnit = RateUnit.A

    public init(id: String) { self.id = id }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, password, upstream, phases, rotation, priority, profile
        case upstreamUsername = "upstream_username"
        case upstreamPassword = "upstream_password"
        case minCurrent = "min_current"
        case maxCurrent = "max_current"
        case rateUnit = "rate_unit"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        password = try c.decodeIfPresent(String.self, forKey: .password)
        upstream = try c.decodeIfPresent(String.self, forKey: .upstream)
        upstreamUsername = try c.decodeIfPresent(String.self, forKey: .upstreamUsername)
        upstreamPassword = try c.decodeIfPresent(String.self, forKey: .upstreamPassword)
        phases = try c.decodeIfPresent(Int.self, forKey: .phases) ?? phases
        if let text = try c.decodeIfPresent(String.self, forKey: .rotation) {
            guard let parsed = PhaseRotation(parsing: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .rotation,
                    in: c,
                    debugDescription: "expected a rotation such as L1L2L3, L2L3L1 or unknown, found \"\(text)\""
                )
            }
            rotation = parsed
        }
        minCurrent = try c.decodeIfPresent(Double.self, forKey: .minCurrent) ?? minCurrent
        maxCurrent = try c.decodeIfPresent(Double.self, forKey: .maxCurrent) ?? maxCurrent
        priority = try c.decodeIfPresent(Int.self, forKey: .priority) ?? priority
        profile = try c.decodeIfPresent(ProfileStrategy.self, forKey: .profile) ?? profile
        rateUnit = try c.decodeIfPresent(RateUnit.self, forKey: .rateUnit) ?? rateUnit
    }

    /// The allocator's model of this charger.
    public var model: Charger {
        Charger(
            id: id,
            phases: phases,
            rotation: rotation,
            minCurrent: minCurrent,
            maxCurrent: maxCurrent,
            priority: priority
        )
    }
}

/// The `api:` section: the REST API.
public struct APISection: Sendable, Decodable {
    /// Listen address; absent key: `127.0.0.1:8080`. `listen: null` disables the API.
    public var listen: SocketAddressText? = SocketAddressText(host: "127.0.0.1", port: 8080)
    /// Bearer token for every write (and reads unless `public_read`). Absent: writes are refused.
    public var token: String?
    /// Allow reads without the token.
    public var publicRead = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, token
        case publicRead = "public_read"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.listen) {
            listen = try c.decodeIfPresent(SocketAddressText.self, forKey: .listen)
        }
        token = try c.decodeIfPresent(String.self, forKey: .token)
        publicRead = try c.decodeIfPresent(Bool.self, forKey: .publicRead) ?? false
    }
}

/// The `log:` section.
public struct LogSection: Sendable, Decodable {
    /// `trace`, `debug`, `info` (default), `notice`, `warning`, `error`, `critical`.
    public var level = "info"

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case level }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        level = try c.decodeIfPresent(String.self, forKey: .level) ?? level
    }
}
