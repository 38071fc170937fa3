import OCPPProxy
import Testing

@testable import LoadGuard

@Suite("Configuration file")
struct ConfigurationTests {
    @Test func smallestFileGivesTheDefaults() throws {
        let configuration = try LoadGuardConfiguration.parse(yaml: "chargers: []\n", file: "lg.yaml")
        #expect(configuration.ocpp.listen == SocketAddressText(host: "0.0.0.0", port: 8180))
        #expect(configuration.ocpp.path == "/ocpp")
        #expect(configuration.ocpp.upstream == nil)
        #expect(configuration.ocpp.callTimeout.seconds == 30)
        #expect(configuration.ocpp.maxMessageSize >= 1 << 20)
    }

    @Test func theIssueExampleIsValid() throws {
        let yaml = """
            ocpp:
              listen: "0.0.0.0:8180"
              path: /ocpp
              upstream: ws://127.0.0.1:9000/ocpp
              accept_unknown_chargers: false
              trace: traces/ocpp.jsonl
            chargers:
              - id: CP-1
            """
        let configuration = try LoadGuardConfiguration.parse(yaml: yaml, file: "lg.yaml")
        #expect(configuration.chargers.map(\.id) == ["CP-1"])
        let proxy = configuration.proxyConfiguration(configFile: "/etc/loadguard/lg.yaml")
        #expect(proxy.upstream?.description == "ws://127.0.0.1:9000/ocpp")
        #expect(proxy.chargers["CP-1"] != nil)
    }

    private func error(_ yaml: String) -> ConfigurationError? {
        do {
            _ = try LoadGuardConfiguration.parse(yaml: yaml, file: "site.yaml")
            return nil
        } catch {
            return error
        }
    }

    @Test func wrongTypeNamesFileLineKeyAndWhatWasExpected() throws {
        let e = try #require(error("ocpp:\n  listen: \"0.0.0.0:8180\"\n  accept_unknown_chargers: maybe\n"))
        #expect(e.file == "site.yaml")
        #expect(e.line == 3)
        #expect(e.key == "ocpp.accept_unknown_chargers")
        #expect(e.description.hasPrefix("site.yaml:3: ocpp.accept_unknown_chargers:"))
        #expect(e.message.contains("true or false"))
        #expect(e.message.contains("maybe"))
    }

    @Test func misspeltKeyIsAnErrorThatListsTheKnownKeys() throws {
        let e = try #require(error("ocpp:\n  upstram: ws://x/ocpp\n"))
        #expect(e.line == 2)
        #expect(e.key == "ocpp.upstram")
        #expect(e.message.contains("unknown key"))
        #expect(e.message.contains("upstream"))
    }

    @Test func badListenAddress() throws {
        let e = try #require(error("ocpp:\n  listen: \"8180\"\n"))
        #expect(e.line == 2)
        #expect(e.message.contains("HOST:PORT"))
    }

    @Test func missingRequiredKeyInAList() throws {
        let e = try #require(error("chargers:\n  - id: A\n  - password: x\n"))
        #expect(e.key == "chargers[1].id")
        #expect(e.line == 3)
        #expect(e.message.contains("missing"))
    }

    @Test func duplicateAndInvalidChargerIDs() throws {
        let duplicate = try #require(error("chargers:\n  - id: A\n  - id: B\n  - id: A\n"))
        #expect(duplicate.line == 4)
        #expect(duplicate.message.contains("chargers[0]"))
        let colon = try #require(error("chargers:\n  - id: \"A:1\"\n"))
        #expect(colon.key == "chargers[0].id")
        let long = try #require(error("chargers:\n  - id: \(String(repeating: "x", count: 49))\n"))
        #expect(long.message.contains("48"))
    }

    @Test func upstreamMustBeAWebSocketURL() throws {
        let e = try #require(error("ocpp:\n  upstream: http://csms/ocpp\n"))
        #expect(e.key == "ocpp.upstream")
        #expect(e.line == 2)
    }

    @Test func tooSmallMessageLimitIsRefused() throws {
        let e = try #require(error("ocpp:\n  max_message_size: 16384\n"))
        #expect(e.message.contains("1 MiB"))
    }

    @Test func brokenYAMLPointsAtTheLine() throws {
        let e = try #require(error("ocpp:\n  listen: \"0.0.0.0:8180\n  path: /x\n"))
        #expect(e.line != nil)
        #expect(e.message.contains("YAML"))
    }

    @Test(arguments: [("90s", 90.0), ("15m", 900.0), ("2h", 7200.0), ("500ms", 0.5), ("30", 30.0)])
    func durations(text: String, seconds: Double) {
        #expect(ConfigDuration.parse(text)?.seconds == seconds)
    }

    @Test func badDurationIsExplained() throws {
        let e = try #require(error("ocpp:\n  call_timeout: soon\n"))
        #expect(e.key == "ocpp.call_timeout")
        #expect(e.message.contains("90s"))
    }

    @Test func credentialsGoUpstreamAsBasicAuth() throws {
        let configuration = try LoadGuardConfiguration.parse(
            yaml: "chargers:\n  - id: CP-1\n    upstream_username: CP-1\n    upstream_password: pw\n",
            file: "x.yaml"
        )
        let policy = try #require(configuration.proxyConfiguration(configFile: "x.yaml").chargers["CP-1"])
        #expect(policy.upstreamAuthorization == "Basic Q1AtMTpwdw==")
    }
}
