import Testing

@testable import OCPP

@Suite struct OCPPVersionTests {
    @Test func rawValuesAreTheSubprotocolTokens() {
        #expect(OCPPVersion.v16.rawValue == "ocpp1.6")
        #expect(OCPPVersion.v201.rawValue == "ocpp2.0.1")
        #expect(OCPPVersion.v21.rawValue == "ocpp2.1")
        #expect(OCPPVersion.v201.number == "2.0.1")
    }

    @Test func preferenceOrder() {
        #expect(OCPPVersion.preferenceOrder == [.v21, .v201, .v16])
        #expect(OCPPVersion.v16 < .v201)
        #expect(OCPPVersion.v201 < .v21)
        #expect(OCPPVersion.allCases.sorted(by: >) == OCPPVersion.preferenceOrder)
    }

    @Test(arguments: [
        ("ocpp1.6", ["ocpp1.6"]),
        ("ocpp2.0.1, ocpp1.6", ["ocpp2.0.1", "ocpp1.6"]),
        ("  ocpp2.1 ,\tocpp2.0.1,,ocpp1.6 ,", ["ocpp2.1", "ocpp2.0.1", "ocpp1.6"]),
        ("", []),
        (" , ", []),
    ])
    func headerParsing(value: String, tokens: [String]) {
        #expect(OCPPVersion.subprotocols(inHeaderValue: value) == tokens)
    }

    @Test func negotiateKeepsTheChargersOrderAndDropsUnknownTokens() {
        #expect(OCPPVersion.negotiate(offered: ["ocpp1.6", "ocpp2.0.1"]) == [.v16, .v201])
        #expect(OCPPVersion.negotiate(offered: ["ocpp1.5", "ocpp2.0", "ocpp2.0.1", "ocpp2.0.1"]) == [.v201])
        #expect(OCPPVersion.negotiate(offered: ["OCPP1.6", "ocpp1.6j"]) == [])
        #expect(OCPPVersion.negotiate(offered: []) == [])
    }

    @Test func preferredPicksTheHighestVersionOffered() {
        #expect(OCPPVersion.preferred(offered: ["ocpp1.6", "ocpp2.0.1"]) == .v201)
        #expect(OCPPVersion.preferred(offered: ["ocpp1.6", "ocpp2.1", "ocpp2.0.1"]) == .v21)
        #expect(OCPPVersion.preferred(offered: ["ocpp1.2"]) == nil)
    }
}
