import Foundation
import Testing

@testable import OCPP

@Suite struct MessageTests {
    static func decode<T: Decodable>(_ type: T.Type, _ frameText: String) throws -> T {
        let frame = [UInt8](frameText)
        return try Envelope(parsing: frame).decodePayload(type, from: frame)
    }

    @Test func realWallboxFramesDecode() throws {
        let frames = try Fixtures.allFrames()
        let boot = try #require(frames.first { $0.frame.text.contains("BootNotification") })
        let request = try Envelope(parsing: boot.frame).decodePayload(
            OCPP16.BootNotificationRequest.self,
            from: boot.frame
        )
        #expect(request.chargePointVendor == "AcTEC")
        #expect(request.chargePointModel == "EV-AC22K")
        #expect(request.firmwareVersion == "V1.17.9")

        let meter = try #require(frames.first { $0.frame.text.contains("\"907\"") })
        let values = try Envelope(parsing: meter.frame).decodePayload(OCPP16.MeterValuesRequest.self, from: meter.frame)
        #expect(values.transactionId == 1_766_163_205)
        #expect(values.meterValue[0].sampledValue.contains { $0.measurand == "Current.Import" && $0.phase == "L1" })

        let stop = try #require(frames.first { $0.frame.text.contains("StopTransaction") })
        let stopRequest = try Envelope(parsing: stop.frame).decodePayload(
            OCPP16.StopTransactionRequest.self,
            from: stop.frame
        )
        #expect(stopRequest.reason == "Remote")
        #expect(stopRequest.meterStop == 0)
    }

    @Test func aConfirmationWithExtraFieldsDecodes() throws {
        // The AcTEC wallbox answers SetChargingProfile with connectorId and a chargingSchedule besides status.
        let frames = try Fixtures.frames(of: "actec-ev-ac22k_1.6_setchargingprofile_rewrite_nonconformant_conf.jsonl")
        let answer = try #require(
            frames.first {
                $0.record.from == "charger" && $0.frame.first == UInt8(ascii: "[") && $0.frame[1] == UInt8(ascii: "3")
            }
        )
        let confirmation = try Envelope(parsing: answer.frame).decodePayload(
            OCPP16.SetChargingProfileConfirmation.self,
            from: answer.frame
        )
        #expect(confirmation.status == "Accepted")
    }

    @Test func badTimestampsAreKeptRaw() throws {
        let stop = try Self.decode(
            OCPP16.StopTransactionRequest.self,
            #"[2,"1","StopTransaction",{"meterStop":10,"timestamp":"0000-00-00T00:00:00.000Z","transactionId":5}]"#
        )
        #expect(stop.timestamp == "0000-00-00T00:00:00.000Z")
        #expect(OCPPTimestamp.parse(stop.timestamp) == nil)
    }

    @Test func numbersSentAsStringsOrFloatsAreAccepted() throws {
        let status = try Self.decode(
            OCPP16.StatusNotificationRequest.self,
            #"[2,"1","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Charging","extra":[1]}]"#
        )
        #expect(status.connectorId == 1)
        let profile = try Self.decode(
            OCPP16.SetChargingProfileRequest.self,
            #"[2,"1","SetChargingProfile",{"connectorId":1.0,"csChargingProfiles":{"chargingProfileId":"7","stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":" 6.5","numberPhases":"x"}]}}}]"#
        )
        #expect(profile.connectorId == 1)
        #expect(profile.csChargingProfiles.chargingProfileId == 7)
        #expect(profile.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit == 6.5)
        // An optional number that is not one is dropped, not fatal.
        #expect(profile.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].numberPhases == nil)
        let sampled = try Self.decode(
            OCPP2.MeterValuesRequest.self,
            #"[2,"1","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"t","sampledValue":[{"value":"230.5"},{"value":7}]}]}]"#
        )
        #expect(sampled.meterValue[0].sampledValue.map(\.value) == [230.5, 7])
        let value16 = try Self.decode(
            OCPP16.MeterValuesRequest.self,
            #"[2,"1","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"t","sampledValue":[{"value":16.5}]}]}]"#
        )
        #expect(value16.meterValue[0].sampledValue[0].value == "16.5")
    }

    @Test func requiredFieldsThatAreMissingOrWrongAreErrorsNamingTheField() throws {
        #expect {
            try Self.decode(
                OCPP16.StatusNotificationRequest.self,
                #"[2,"9","StatusNotification",{"errorCode":"NoError","status":"Charging"}]"#
            )
        } throws: { error in
            "\(error)"
                == "cannot read StatusNotification (id 9) as StatusNotificationRequest: field 'connectorId': required field is missing"
        }
        #expect {
            try Self.decode(
                OCPP16.StartTransactionRequest.self,
                #"[2,"9","StartTransaction",{"connectorId":"one","idTag":"x","meterStart":0,"timestamp":"t"}]"#
            )
        } throws: { error in
            guard let error = error as? PayloadDecodingError else { return false }
            return error.field == "connectorId" && error.reason.contains("found \"one\"")
        }
        #expect {
            try Self.decode(
                OCPP2.MeterValuesRequest.self,
                #"[3,"9",{"evseId":1,"meterValue":[{"timestamp":"t","sampledValue":[{}]}]}]"#
            )
        } throws: { error in
            "\(error)".contains("response to id 9")
                && "\(error)".contains("field 'meterValue.[0].sampledValue.[0].value'")
        }
    }

    @Test func encodingLeavesOutNilAndWritesNumbers() throws {
        let request = OCPP16.MeterValuesRequest(
            connectorId: 1,
            meterValue: [
                OCPP16.MeterValue(timestamp: "t", sampledValue: [OCPP16.SampledValue(value: "1.5", unit: "A")])
            ]
        )
        #expect(
            try Frame.encodePayload(request).text
                == #"{"connectorId":1,"meterValue":[{"sampledValue":[{"unit":"A","value":"1.5"}],"timestamp":"t"}]}"#
        )
        let decoded = try JSONDecoder().decode(
            OCPP16.MeterValuesRequest.self,
            from: Data(try Frame.encodePayload(request))
        )
        #expect(decoded == request)
    }

    @Test func twoXMessagesRoundTrip() throws {
        let event = OCPP2.TransactionEventRequest(
            eventType: "Started",
            timestamp: "2025-01-01T00:00:00.000Z",
            triggerReason: "CablePluggedIn",
            seqNo: 0,
            transactionInfo: OCPP2.Transaction(transactionId: "tx-1", chargingState: "EVConnected"),
            idToken: OCPP2.IdToken(idToken: "X", type: "ISO14443"),
            evse: OCPP2.EVSE(id: 1, connectorId: 1)
        )
        let bytes = try Frame.encodePayload(event)
        #expect(try JSONDecoder().decode(OCPP2.TransactionEventRequest.self, from: Data(bytes)) == event)
        let variables = try Self.decode(
            OCPP2.GetVariablesResponse.self,
            #"[3,"1",{"getVariableResult":[{"attributeStatus":"Accepted","attributeValue":"3","component":{"name":"SmartChargingCtrlr"},"variable":{"name":"ProfileStackLevel"}}]}]"#
        )
        #expect(variables.getVariableResult[0].attributeValue == "3")
        let notify = try Self.decode(
            OCPP2.NotifyEventRequest.self,
            #"[2,"1","NotifyEvent",{"generatedAt":"t","seqNo":0,"eventData":[{"eventId":1,"timestamp":"t","trigger":"Delta","actualValue":"Occupied","eventNotificationType":"HardWiredNotification","component":{"name":"Connector","evse":{"id":1,"connectorId":1}},"variable":{"name":"AvailabilityState"}}]}]"#
        )
        #expect(notify.eventData[0].component.evse?.connectorId == 1)
    }
}

@Suite struct ChargingProfileBuilderTests {
    static let start = Date(timeIntervalSince1970: 1_766_102_400)

    @Test func ocpp16ChargePointMaxProfile() throws {
        let request = OCPP16.SetChargingProfileRequest.chargePointMaxProfile(
            limit: .amperes(16.04, numberPhases: 3),
            profileID: 1_000,
            stackLevel: 5,
            startSchedule: Self.start
        )
        let frame = try Frame.call(
            id: "lg-abcdefgh2345-1",
            action: OCPP16.SetChargingProfileRequest.action,
            encoding: request
        )
        #expect(
            frame.text
                == #"[2,"lg-abcdefgh2345-1","SetChargingProfile",{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1000,"chargingProfileKind":"Absolute","chargingProfilePurpose":"ChargePointMaxProfile","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"limit":16,"numberPhases":3,"startPeriod":0}],"startSchedule":"2025-12-19T00:00:00.000Z"},"stackLevel":5}}]"#
        )
    }

    @Test func ocpp16TxDefaultProfileInWattsWithoutStart() throws {
        let request = OCPP16.SetChargingProfileRequest.txDefaultProfile(
            connectorID: 2,
            limit: .watts(4139.6),
            profileID: 1_002,
            stackLevel: 9,
            startSchedule: nil
        )
        #expect(
            try Frame.encodePayload(request).text
                == #"{"connectorId":2,"csChargingProfiles":{"chargingProfileId":1002,"chargingProfileKind":"Relative","chargingProfilePurpose":"TxDefaultProfile","chargingSchedule":{"chargingRateUnit":"W","chargingSchedulePeriod":[{"limit":4140,"startPeriod":0}]},"stackLevel":9}}"#
        )
    }

    @Test func ocpp2Profiles() throws {
        let max = OCPP2.SetChargingProfileRequest.chargingStationMaxProfile(
            limit: .amperes(10.26, numberPhases: 1),
            profileID: 1_000,
            stackLevel: 0,
            startSchedule: Self.start
        )
        #expect(
            try Frame.encodePayload(max).text
                == #"{"chargingProfile":{"chargingProfileKind":"Absolute","chargingProfilePurpose":"ChargingStationMaxProfile","chargingSchedule":[{"chargingRateUnit":"A","chargingSchedulePeriod":[{"limit":10.3,"numberPhases":1,"startPeriod":0}],"id":1,"startSchedule":"2025-12-19T00:00:00.000Z"}],"id":1000,"stackLevel":0},"evseId":0}"#
        )
        let external = OCPP2.SetChargingProfileRequest.externalConstraints(
            evseID: 0,
            limit: .watts(11_000),
            profileID: 1_001,
            stackLevel: 1,
            startSchedule: nil
        )
        #expect(external.chargingProfile.chargingProfilePurpose == "ChargingStationExternalConstraints")
        #expect(external.chargingProfile.chargingProfileKind == "Relative")
        let txDefault = OCPP2.SetChargingProfileRequest.txDefaultProfile(
            evseID: 2,
            limit: .amperes(6),
            profileID: 1_002,
            stackLevel: 3,
            startSchedule: nil
        )
        #expect(txDefault.evseId == 2)
        #expect(txDefault.chargingProfile.chargingSchedule[0].chargingSchedulePeriod[0].numberPhases == nil)
    }

    @Test func limitsAreNeverNegativeAndRounded() {
        #expect(ChargingLimit.amperes(-3).wireValue == 0)
        #expect(ChargingLimit.amperes(.nan).wireValue == 0)
        #expect(ChargingLimit.amperes(6.349).wireValue == 6.3)
        #expect(ChargingLimit.watts(1380.5).wireValue == 1381)
    }

    @Test func clearRequests() throws {
        #expect(try Frame.encodePayload(OCPP16.ClearChargingProfileRequest.profile(id: 1000)).text == #"{"id":1000}"#)
        #expect(
            try Frame.encodePayload(OCPP2.ClearChargingProfileRequest.profile(id: 1000)).text
                == #"{"chargingProfileId":1000}"#
        )
    }

    @Test func clearMatching16() {
        func clears(_ request: OCPP16.ClearChargingProfileRequest) -> Bool {
            request.matches(profileID: 1000, connectorID: 0, purpose: "ChargePointMaxProfile", stackLevel: 5)
        }
        #expect(clears(.init()) == true)
        #expect(clears(.init(id: 1000)) == true)
        #expect(clears(.init(id: 1, connectorId: 0)) == false)
        #expect(clears(.init(connectorId: 0, chargingProfilePurpose: "ChargePointMaxProfile")) == true)
        #expect(clears(.init(connectorId: 1)) == false)
        #expect(clears(.init(chargingProfilePurpose: "TxDefaultProfile")) == false)
        #expect(clears(.init(stackLevel: 4)) == false)
    }

    @Test func clearMatching2() {
        func clears(_ request: OCPP2.ClearChargingProfileRequest) -> Bool {
            request.matches(profileID: 1000, evseID: 0, purpose: "ChargingStationMaxProfile", stackLevel: 5)
        }
        #expect(clears(.init()) == true)
        #expect(clears(.init(chargingProfileId: 1000)) == true)
        #expect(clears(.init(chargingProfileId: 999)) == false)
        #expect(clears(.init(chargingProfileCriteria: .init(evseId: 0, stackLevel: 5))) == true)
        #expect(clears(.init(chargingProfileCriteria: .init(chargingProfilePurpose: "TxProfile"))) == false)
    }
}
