import OCPP

/// Messages the simulated charger answers beyond those of the `OCPP` module (which holds what LoadGuard itself
/// reads and writes). Decoding is lenient in the same way: unknown fields are ignored.
enum SimulatorMessages {
    /// `{"status": …}`: the answer to most CSMS calls.
    struct Status: Codable, Hashable {
        var status: String
    }

    // MARK: OCPP 1.6

    struct RemoteStartTransaction16: Codable, Hashable {
        @Lenient var connectorId: Int?
        var idTag: String
        var chargingProfile: OCPP16.ChargingProfile?
    }

    struct RemoteStopTransaction16: Codable, Hashable {
        @Lenient var transactionId: Int
    }

    struct TriggerMessage16: Codable, Hashable {
        var requestedMessage: String
        @Lenient var connectorId: Int?
    }

    struct ChangeConfiguration16: Codable, Hashable {
        var key: String
        var value: String
    }

    struct Reset: Codable, Hashable {
        var type: String
    }

    // MARK: OCPP 2.0.1 / 2.1

    struct RequestStartTransaction2: Codable, Hashable {
        @Lenient var evseId: Int?
        @Lenient var remoteStartId: Int
        var idToken: OCPP2.IdToken
        var chargingProfile: OCPP2.ChargingProfile?
    }

    struct RequestStartTransactionResponse2: Codable, Hashable {
        var status: String
        var transactionId: String?
    }

    struct RequestStopTransaction2: Codable, Hashable {
        var transactionId: String
    }

    struct TriggerMessage2: Codable, Hashable {
        var requestedMessage: String
        var evse: OCPP2.EVSE?
    }

    struct SetVariableData: Codable, Hashable {
        var attributeType: String?
        var attributeValue: String
        var component: OCPP2.Component
        var variable: OCPP2.Variable
    }

    struct SetVariables: Codable, Hashable {
        var setVariableData: [SetVariableData]
    }

    struct SetVariableResult: Codable, Hashable {
        var attributeType: String?
        /// `Accepted`, `Rejected`, `UnknownComponent`, `UnknownVariable`, `NotSupportedAttributeType`,
        /// `RebootRequired`.
        var attributeStatus: String
        var component: OCPP2.Component
        var variable: OCPP2.Variable
    }

    struct SetVariablesResponse: Codable, Hashable {
        var setVariableResult: [SetVariableResult]
    }
}
