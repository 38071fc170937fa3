import OCPP
import Testing

@testable import OCPPProxy

@Suite("Charger handshake rules")
struct HandshakeTests {
    let rules = HandshakeRules(
        pathPrefix: "/ocpp",
        chargers: [
            "CP-1": ChargerPolicy(id: "CP-1"),
            "CP 2": ChargerPolicy(id: "CP 2", password: "s3cret"),
        ],
        acceptUnknownChargers: false
    )

    private func headers(_ protocols: String? = "ocpp1.6", auth: String? = nil) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        if let protocols { result.append(("Sec-WebSocket-Protocol", protocols)) }
        if let auth { result.append(("Authorization", auth)) }
        return result
    }

    @Test func acceptsAKnownChargerWithItsOfferedVersionsInOrder() {
        let decision = rules.evaluate(uri: "/ocpp/CP-1", headers: headers("ocpp2.0.1, ocpp1.6"))
        guard case .accept(let accepted) = decision else {
            Issue.record("expected accept, got \(decision)")
            return
        }
        #expect(accepted.chargerID == "CP-1")
        #expect(accepted.offered == [.v201, .v16])
    }

    @Test func refusesUnknownChargerWith404() {
        #expect(
            rules.evaluate(uri: "/ocpp/CP-9", headers: headers()) == .refuse(status: 404, reason: "unknown charger id")
        )
    }

    @Test func acceptsUnknownChargersWhenConfigured() {
        let open = HandshakeRules(pathPrefix: "/ocpp", chargers: [:], acceptUnknownChargers: true)
        guard case .accept(let accepted) = open.evaluate(uri: "/ocpp/ANY", headers: headers()) else {
            Issue.record("expected accept")
            return
        }
        #expect(accepted.chargerID == "ANY")
    }

    @Test(arguments: ["/other/CP-1", "/ocpp", "/ocpp/", "/ocpp/a/b", "/ocppX/CP-1"])
    func refusesPathsOutsideTheEndpointWith404(uri: String) {
        guard case .refuse(let status, _) = rules.evaluate(uri: uri, headers: headers()) else {
            Issue.record("expected a refusal for \(uri)")
            return
        }
        #expect(status == 404)
    }

    @Test(arguments: [
        "/ocpp/CP%3A1", "/ocpp/CP:1", "/ocpp/%ZZ", "/ocpp/%FF", "/ocpp/" + String(repeating: "x", count: 49),
    ])
    func refusesInvalidIdentitiesWith400(uri: String) {
        guard case .refuse(let status, _) = rules.evaluate(uri: uri, headers: headers()) else {
            Issue.record("expected a refusal for \(uri)")
            return
        }
        #expect(status == 400)
    }

    @Test func percentDecodesTheIdentityAndToleratesADoubleSlash() {
        guard case .accept(let a) = rules.evaluate(uri: "/ocpp/CP%2D1", headers: headers()) else {
            Issue.record("expected accept")
            return
        }
        #expect(a.chargerID == "CP-1")
        guard case .accept(let b) = rules.evaluate(uri: "/ocpp//CP-1?x=1", headers: headers()) else {
            Issue.record("expected accept")
            return
        }
        #expect(b.chargerID == "CP-1")
    }

    @Test func fortyEightCharacterIdentityIsAccepted() {
        let id = String(repeating: "A", count: 48)
        let open = HandshakeRules(pathPrefix: "", chargers: [:], acceptUnknownChargers: true)
        guard case .accept(let accepted) = open.evaluate(uri: "/" + id, headers: headers()) else {
            Issue.record("expected accept")
            return
        }
        #expect(accepted.chargerID == id)
    }

    @Test func checksBasicAuthWhenAPasswordIsConfigured() {
        let good = BasicAuth.encode(user: "CP 2", password: "s3cret")
        guard case .accept = rules.evaluate(uri: "/ocpp/CP%202", headers: headers(auth: good)) else {
            Issue.record("expected accept with the right password")
            return
        }
        let wrong = BasicAuth.encode(user: "CP 2", password: "s3creT")
        #expect(
            rules.evaluate(uri: "/ocpp/CP%202", headers: headers(auth: wrong))
                == .refuse(status: 401, reason: "wrong charger credentials")
        )
        let otherUser = BasicAuth.encode(user: "CP-1", password: "s3cret")
        #expect(
            rules.evaluate(uri: "/ocpp/CP%202", headers: headers(auth: otherUser))
                == .refuse(status: 401, reason: "wrong charger credentials")
        )
        guard case .refuse(401, _) = rules.evaluate(uri: "/ocpp/CP%202", headers: headers()) else {
            Issue.record("expected 401 without credentials")
            return
        }
    }

    @Test func passesTheAuthorizationThroughWhenNoPasswordIsConfigured() {
        let auth = BasicAuth.encode(user: "CP-1", password: "for-the-csms")
        guard case .accept(let accepted) = rules.evaluate(uri: "/ocpp/CP-1", headers: headers(auth: auth)) else {
            Issue.record("expected accept")
            return
        }
        #expect(accepted.authorization == auth)
    }

    @Test func noCommonSubprotocolCompletesWithoutOne() {
        #expect(
            rules.evaluate(uri: "/ocpp/CP-1", headers: headers("ocpp1.5, wamp"))
                == .acceptWithoutSubprotocol(chargerID: "CP-1")
        )
        #expect(
            rules.evaluate(uri: "/ocpp/CP-1", headers: headers(nil)) == .acceptWithoutSubprotocol(chargerID: "CP-1")
        )
    }

    @Test func base64RoundTripsAndRejectsGarbage() {
        for text in ["", "a", "ab", "abc", "abcd", "CP-1:pässwörd"] {
            #expect(Base64.decode(Base64.encode(Array(text.utf8))) == Array(text.utf8))
        }
        #expect(Base64.encode(Array("CP-1:secret".utf8)) == "Q1AtMTpzZWNyZXQ=")
        #expect(Base64.decode("not base64!") == nil)
    }

    @Test func constantTimeCompare() {
        #expect(BasicAuth.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!BasicAuth.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!BasicAuth.constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!BasicAuth.constantTimeEquals([], Array("a".utf8)))
    }

    @Test func upstreamEndpointParsesAndAppendsTheEncodedIdentity() throws {
        let endpoint = try #require(UpstreamEndpoint(url: "wss://csms.example/ocpp/"))
        #expect(endpoint.secure && endpoint.port == 443 && endpoint.host == "csms.example")
        #expect(endpoint.requestTarget(chargerID: "CP 1/a") == "/ocpp/CP%201%2Fa")
        #expect(UpstreamEndpoint(url: "http://x/ocpp") == nil)
        #expect(UpstreamEndpoint(url: "ws://127.0.0.1:9000")?.requestTarget(chargerID: "A") == "/A")
    }
}
