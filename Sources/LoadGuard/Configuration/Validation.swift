import Foundation
public import OCPPProxy
public import Yams

extension LoadGuardConfiguration {
    /// Reads, decodes and validates a config file.
    /// - Throws: ``ConfigurationError`` naming the file, line and key of the first problem.
    public static func load(path: String) throws(ConfigurationError) -> LoadGuardConfiguration {
        let (configuration, node) = try ConfigFile.load(LoadGuardConfiguration.self, path: path)
        try configuration.validate(file: path, root: node)
        return configuration
    }

    /// Parses and validates YAML text (`file` names it in errors).
    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> LoadGuardConfiguration {
        let (configuration, node) = try ConfigFile.decode(LoadGuardConfiguration.self, yaml: yaml, file: file)
        try configuration.validate(file: file, root: node)
        return configuration
    }

    /// Checks what the types alone cannot: identities, URLs, files, ranges.
    func validate(file: String, root: Node) throws(ConfigurationError) {
        func fail(_ path: [any CodingKey], _ message: String) -> ConfigurationError {
            ConfigFile.error(at: path, in: root, file: file, message)
        }
        typealias K = ConfigCodingKey
        let baseDirectory = (file as NSString).deletingLastPathComponent

        if let upstream = ocpp.upstream, UpstreamEndpoint(url: upstream) == nil {
            throw fail([K(stringValue: "ocpp"), K(stringValue: "upstream")], "expected a ws:// or wss:// URL, found \"\(upstream)\"")
        }
        if !ocpp.path.isEmpty && !ocpp.path.hasPrefix("/") {
            throw fail([K(stringValue: "ocpp"), K(stringValue: "path")], "expected a path starting with /, found \"\(ocpp.path)\"")
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
                    throw fail([K(stringValue: "ocpp"), K(stringValue: "tls"), K(stringValue: key)], "cannot read the file \"\(value)\"")
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
                throw fail(path, "expected a charge point identity of 1 to 48 characters without ':', found \"\(charger.id)\"")
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
            if (charger.upstreamUsername == nil) != (charger.upstreamPassword == nil) {
                throw fail(
                    [K(stringValue: "chargers"), K(intValue: index)],
                    "upstream_username and upstream_password go together"
                )
            }
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
