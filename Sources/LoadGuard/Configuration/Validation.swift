import Allocation
import Foundation
public import OCPPProxy
public import Yams

extension LoadGuardConfiguration {
    /// Reads, decodes and validates a config file.
    /// - Throws: ``ConfigurationError`` naming the file, line and key of the first problem.
    public static func load(path: String) throws(ConfigurationError) -> LoadGuardConfiguration {
        var (configuration, node) = try ConfigFile.load(LoadGuardConfiguration.self, path: path)
        try configuration.readLevels(from: node, file: path)
        try configuration.validate(file: path, root: node)
        return configuration
    }

    /// Parses and validates YAML text (`file` names it in errors).
    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> LoadGuardConfiguration {
        var (configuration, node) = try ConfigFile.decode(LoadGuardConfiguration.self, yaml: yaml, file: file)
        try configuration.readLevels(from: node, file: file)
        try configuration.validate(file: file, root: node)
        return configuration
    }

    /// Reads `inputs.levels` (pattern → level) straight from the YAML nodes.
    mutating func readLevels(from root: Node, file: String) throws(ConfigurationError) {
        guard let levelsNode = root["inputs"]?["levels"] else { return }
        let path: [any CodingKey] = [ConfigCodingKey(stringValue: "inputs"), ConfigCodingKey(stringValue: "levels")]
        guard case .mapping(let mapping) = levelsNode else {
            throw ConfigFile.error(
                at: path,
                in: root,
                file: file,
                "expected a mapping of patterns to levels, e.g. {\"00\": \"100%\", \"10\": \"60%\"}"
            )
        }
        var levels: [String: LimitLevel] = [:]
        for (key, value) in mapping {
            let pattern = key.string ?? ""
            let text = value.string ?? ""
            do {
                levels[pattern] = try LimitLevel(parsing: text)
            } catch {
                throw ConfigFile.error(
                    at: path + [ConfigCodingKey(stringValue: pattern)],
                    in: root,
                    file: file,
                    "expected a level such as \"60%\", \"32A\" or \"4.2kW\", found \"\(text)\": \(error)"
                )
            }
        }
        inputs.levels = levels
    }

    /// Checks what the types alone cannot: identities, URLs, files, ranges.
    func validate(file: String, root: Node) throws(ConfigurationError) {
        func fail(_ path: [any CodingKey], _ message: String) -> ConfigurationError {
            ConfigFile.error(at: path, in: root, file: file, message)
        }
        typealias K = ConfigCodingKey
        let baseDirectory = (file as NSString).deletingLastPathComponent

        if let upstream = ocpp.upstream, UpstreamEndpoint(url: upstream) == nil {
            throw fail(
                [K(stringValue: "ocpp"), K(stringValue: "upstream")],
                "expected a ws:// or wss:// URL, found \"\(upstream)\""
            )
        }
        if !ocpp.path.isEmpty && !ocpp.path.hasPrefix("/") {
            throw fail(
                [K(stringValue: "ocpp"), K(stringValue: "path")],
                "expected a path starting with /, found \"\(ocpp.path)\""
            )
        }
        if ocpp.maxMessageSize < 1 << 20 || ocpp.maxMessageSize > Int(UInt32.max) {
            throw fail(
                [K(stringValue: "ocpp"), K(stringValue: "max_message_size")],
                "expected at least 1048576 bytes (1 MiB; real OCPP frames exceed 16 KiB), found \(ocpp.maxMessageSize)"
            )
        }
        if ocpp.callTimeout.seconds <= 0 {
            throw fail([K(stringValue: "ocpp"), K(stringValue: "call_timeout")], "expected a duration above 0")
        }
        if let tls = ocpp.tls {
            for (key, value) in [("certificate", tls.certificate), ("key", tls.key), ("client_ca", tls.clientCA)] {
                guard let value else { continue }
                guard FileManager.default.isReadableFile(atPath: Self.resolve(value, relativeTo: baseDirectory)) else {
                    throw fail(
                        [K(stringValue: "ocpp"), K(stringValue: "tls"), K(stringValue: key)],
                        "cannot read the file \"\(value)\""
                    )
                }
            }
        }
        if let tls = ocpp.upstreamTLS {
            if (tls.certificate == nil) != (tls.key == nil) {
                throw fail(
                    [K(stringValue: "ocpp"), K(stringValue: "upstream_tls")],
                    "a client certificate needs both certificate and key"
                )
            }
            for (key, value) in [("ca_bundle", tls.caBundle), ("certificate", tls.certificate), ("key", tls.key)] {
                guard let value else { continue }
                guard FileManager.default.isReadableFile(atPath: Self.resolve(value, relativeTo: baseDirectory)) else {
                    throw fail(
                        [K(stringValue: "ocpp"), K(stringValue: "upstream_tls"), K(stringValue: key)],
                        "cannot read the file \"\(value)\""
                    )
                }
            }
        }
        var seen: [String: Int] = [:]
        for (index, charger) in chargers.enumerated() {
            let path: [any CodingKey] = [K(stringValue: "chargers"), K(intValue: index), K(stringValue: "id")]
            if charger.id.isEmpty || charger.id.count > 48 || charger.id.contains(":") {
                throw fail(
                    path,
                    "expected a charge point identity of 1 to 48 characters without ':', found \"\(charger.id)\""
                )
            }
            if let first = seen[charger.id] {
                throw fail(path, "charger id \"\(charger.id)\" is already used by chargers[\(first)]")
            }
            seen[charger.id] = index
            if let upstream = charger.upstream, UpstreamEndpoint(url: upstream) == nil {
                throw fail(
                    [K(stringValue: "chargers"), K(intValue: index), K(stringValue: "upstream")],
                    "expected a ws:// or wss:// URL, found \"\(upstream)\""
                )
            }
            if !(1...3).contains(charger.phases) {
                throw fail(
                    [K(stringValue: "chargers"), K(intValue: index), K(stringValue: "phases")],
                    "expected 1, 2 or 3, found \(charger.phases)"
                )
            }
            if charger.minCurrent < 0 || charger.maxCurrent < charger.minCurrent {
                throw fail(
                    [K(stringValue: "chargers"), K(intValue: index), K(stringValue: "max_current")],
                    "expected max_current (\(charger.maxCurrent) A) ≥ min_current (\(charger.minCurrent) A) ≥ 0"
                )
            }
            if (charger.upstreamUsername == nil) != (charger.upstreamPassword == nil) {
                throw fail(
                    [K(stringValue: "chargers"), K(intValue: index)],
                    "upstream_username and upstream_password go together"
                )
            }
        }
        if site.fuseCurrent <= 0 || site.margin < 0 || site.margin >= site.fuseCurrent {
            throw fail(
                [K(stringValue: "site"), K(stringValue: "fuse_current")],
                "expected fuse_current > margin ≥ 0, found fuse \(site.fuseCurrent) A and margin \(site.margin) A"
            )
        }
        if site.nominalVoltage < 50 || site.nominalVoltage > 500 {
            throw fail(
                [K(stringValue: "site"), K(stringValue: "nominal_voltage")],
                "expected a phase-to-neutral voltage between 50 and 500 V, found \(site.nominalVoltage)"
            )
        }
        if meter.building.count != 3 {
            throw fail(
                [K(stringValue: "meter"), K(stringValue: "building")],
                "expected three currents [l1, l2, l3] in A, found \(meter.building.count) values"
            )
        }
        if meter.source == .iio && meter.iio == nil {
            throw fail([K(stringValue: "meter"), K(stringValue: "source")], "source iio needs a meter.iio section")
        }
        if meter.source == .recording && meter.recording == nil {
            throw fail(
                [K(stringValue: "meter"), K(stringValue: "source")],
                "source recording needs meter.recording.file"
            )
        }
        if inputs.source == .gpiod && inputs.gpiod == nil {
            throw fail(
                [K(stringValue: "inputs"), K(stringValue: "source")],
                "source gpiod needs an inputs.gpiod section"
            )
        }
        for pattern in inputs.levels.keys where pattern.count != 2 || !pattern.allSatisfy({ $0 == "0" || $0 == "1" }) {
            throw fail(
                [K(stringValue: "inputs"), K(stringValue: "levels"), K(stringValue: pattern)],
                "expected a pattern of two inputs such as \"00\", \"10\", \"01\" or \"11\", found \"\(pattern)\""
            )
        }
        if inputs.normallyClosed.count != 2 {
            throw fail(
                [K(stringValue: "inputs"), K(stringValue: "normally_closed")],
                "expected two values [input1, input2], found \(inputs.normallyClosed.count)"
            )
        }
        if demo.chargers < 0 || demo.chargers > 1000 {
            throw fail(
                [K(stringValue: "demo"), K(stringValue: "chargers")],
                "expected 0 to 1000, found \(demo.chargers)"
            )
        }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        if !levels.contains(log.level) {
            throw fail(
                [K(stringValue: "log"), K(stringValue: "level")],
                "expected one of \(levels.joined(separator: ", ")), found \"\(log.level)\""
            )
        }
    }

    static func resolve(_ path: String, relativeTo base: String) -> String {
        path.hasPrefix("/") || base.isEmpty ? path : base + "/" + path
    }

    /// The proxy's view of this configuration; relative file paths resolve against the config file.
    public func proxyConfiguration(configFile: String) -> ProxyConfiguration {
        let base = (configFile as NSString).deletingLastPathComponent
        var policies: [String: ChargerPolicy] = [:]
        for charger in chargers {
            var authorization: String?
            if let user = charger.upstreamUsername, let password = charger.upstreamPassword {
                authorization = BasicAuth.encode(user: user, password: password)
            }
            policies[charger.id] = ChargerPolicy(
                id: charger.id,
                password: charger.password,
                upstream: charger.upstream.flatMap(UpstreamEndpoint.init(url:)),
                upstreamAuthorization: authorization
            )
        }
        return ProxyConfiguration(
            host: ocpp.listen.host,
            port: ocpp.listen.port,
            pathPrefix: ocpp.path,
            chargers: policies,
            acceptUnknownChargers: ocpp.acceptUnknownChargers,
            upstream: ocpp.upstream.flatMap(UpstreamEndpoint.init(url:)),
            serverTLS: ocpp.tls.map {
                ServerTLS(
                    certificateChainFile: Self.resolve($0.certificate, relativeTo: base),
                    privateKeyFile: Self.resolve($0.key, relativeTo: base),
                    clientCAFile: $0.clientCA.map { Self.resolve($0, relativeTo: base) }
                )
            },
            clientTLS: ClientTLS(
                caBundleFile: ocpp.upstreamTLS?.caBundle.map { Self.resolve($0, relativeTo: base) },
                certificateChainFile: ocpp.upstreamTLS?.certificate.map { Self.resolve($0, relativeTo: base) },
                privateKeyFile: ocpp.upstreamTLS?.key.map { Self.resolve($0, relativeTo: base) }
            ),
            callTimeout: ocpp.callTimeout.seconds,
            pingInterval: ocpp.pingInterval.seconds,
            upstreamConnectTimeout: ocpp.upstreamConnectTimeout.seconds,
            maxMessageSize: ocpp.maxMessageSize
        )
    }
}
