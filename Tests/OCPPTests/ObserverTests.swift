import Testing

@testable import OCPP

@Suite struct ObserverTests {
    static func observe(
        _ observer: inout Observer,
        _ text: String,
        _ direction: Direction,
        _ origin: Origin
    ) throws -> [ChargerEvent] {
        let frame = [UInt8](text)
        return observer.observe(frame, envelope: try Envelope(parsing: frame), direction: direction, origin: origin)
    }

    @Test func aWholeOCPP16Session() throws {
        var observer = Observer(chargerID: "CP-1", version: .v16)
        #expect(observer.connected() == [.connected(version: .v16)])
        #expect(
            try Self.observe(
                &observer,
                #"[2,"1","BootNotification",{"chargePointVendor":"AcTEC","chargePointModel":"EV-AC22K","chargeBoxSerialNumber":"Actec","firmwareVersion":"V1.17.9"}]"#,
                .chargerToCSMS,
                .charger
            ) == [
                .boot(BootInfo(vendor: "AcTEC", model: "EV-AC22K", serialNumber: "Actec", firmwareVersion: "V1.17.9"))
            ]
        )
        #expect(
            try Self.observe(
                &observer,
                #"[2,"2","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Preparing"}]"#,
                .chargerToCSMS,
                .charger
            ) == [.status(StatusChange(outlet: Outlet(id: 1), status: "Preparing", errorCode: "NoError"))]
        )
        let start =
            #"[2,"3","StartTransaction",{"connectorId":1,"idTag":"X","meterStart":1200,"timestamp":"2025-01-01T00:00:00Z"}]"#
        #expect(try Self.observe(&observer, start, .chargerToCSMS, .charger) == [])
        // An answer to another id does not complete it.
        #expect(try Self.observe(&observer, #"[3,"99",{"transactionId":5}]"#, .toCharger, .csms) == [])
        #expect(
            try Self.observe(
                &observer,
                #"[3,"3",{"idTagInfo":{"status":"Accepted"},"transactionId":77}]"#,
                .toCharger,
                .csms
            )
                == [
                    .transactionStarted(
                        TransactionStart(
                            transactionID: "77",
                            outlet: Outlet(id: 1),
                            meterStart: 1200,
                            timestamp: "2025-01-01T00:00:00Z",
                            authorizationStatus: "Accepted"
                        )
                    )
                ]
        )
        let stop =
            #"[2,"4","StopTransaction",{"meterStop":5200,"timestamp":"0000-00-00T00:00:00.000Z","transactionId":77,"reason":"Remote","idTag":"X"}]"#
        #expect(
            try Self.observe(&observer, stop, .chargerToCSMS, .charger) == [
                .transactionEnded(
                    TransactionEnd(
                        transactionID: "77",
                        outlet: Outlet(id: 1),
                        meterStop: 5200,
                        timestamp: "0000-00-00T00:00:00.000Z",
                        reason: "Remote"
                    )
                )
            ]
        )
        #expect(observer.disconnected() == [.disconnected])
    }

    @Test func theRealWallboxsPerPhaseMeterValues() throws {
        var observer = Observer(chargerID: "CP-1", version: .v16)
        let frames = try Fixtures.frames(of: "actec-ev-ac22k_1.6_setchargingprofile_rewrite_nonconformant_conf.jsonl")
        let meter = try #require(frames.first { $0.frame.text.contains("\"907\"") }).frame
        let events = observer.observe(
            meter,
            envelope: try Envelope(parsing: meter),
            direction: .chargerToCSMS,
            origin: .charger
        )
        guard case .meterValues(let reading) = try #require(events.first) else {
            Issue.record("expected meter values, got \(events)")
            return
        }
        #expect(reading.outlet == Outlet(id: 1))
        #expect(reading.transactionID == "1766163205")
        #expect(reading.timestamp == "2025-12-19T14:32:15.000Z")
        #expect(reading.powerActiveImport.l1 == 1370 && reading.powerActiveImport.l2 == 1365)
        #expect(reading.currentImport.l1 == 5.91 && reading.currentImport.l2 == 5.86)
        #expect(reading.currentImport.l3 != nil)
        #expect(reading.powerActiveImport.totalOrSum == 4105.0)
    }

    @Test func phasesAndUnitsAreNormalized() throws {
        var observer = Observer(chargerID: "CP-1", version: .v16)
        let frame = #"""
            [2,"m","MeterValues",{"connectorId":2,"meterValue":[{"timestamp":"t","sampledValue":[
            {"value":"10.5","measurand":"Current.Import","phase":"L1-N","unit":"A"},
            {"value":"11","measurand":"Current.Import","phase":"L2"},
            {"value":"99","measurand":"Current.Import","phase":"L1-L2","unit":"A"},
            {"value":"1","measurand":"Current.Import","phase":"N","unit":"A"},
            {"value":"50","measurand":"Current.Import","phase":"L3","unit":"A","location":"EV"},
            {"value":"7.2","measurand":"Power.Active.Import","unit":"kW","context":"Sample.Periodic"},
            {"value":"2.4","measurand":"Power.Active.Import","phase":"L3-N","unit":"kW"},
            {"value":"12.345","measurand":"Energy.Active.Import.Register","unit":"kWh"},
            {"value":"3","measurand":"Energy.Active.Import.Register","phase":"L1","unit":"kWh"},
            {"value":"230","measurand":"Voltage","phase":"L1-N","unit":"V"},
            {"value":"abc","measurand":"Current.Import","phase":"L3","unit":"A"},
            {"value":"5","measurand":"Current.Import","phase":"L3","unit":"mA"},
            {"value":"A1B2","format":"SignedData","measurand":"Current.Import","phase":"L3"}]},
            {"timestamp":"t2","sampledValue":[{"value":"12400"}]}]}]
            """#
        let events = try Self.observe(&observer, frame, .chargerToCSMS, .charger)
        #expect(
            events == [
                .meterValues(
                    MeterReading(
                        outlet: Outlet(id: 2),
                        timestamp: "t",
                        currentImport: PhaseValues(l1: 10.5, l2: 11),
                        powerActiveImport: PhaseValues(l3: 2400, total: 7200),
                        energyActiveImportRegister: 12_345,
                        context: "Sample.Periodic"
                    )
                ),
                .meterValues(MeterReading(outlet: Outlet(id: 2), timestamp: "t2", energyActiveImportRegister: 12_400)),
            ]
        )
    }

    @Test func ocpp2TransactionsAndMeterValues() throws {
        var observer = Observer(chargerID: "CP-1", version: .v201)
        let started =
            #"[2,"1","TransactionEvent",{"eventType":"Started","timestamp":"t0","triggerReason":"CablePluggedIn","seqNo":0,"transactionInfo":{"transactionId":"tx-9"},"evse":{"id":2,"connectorId":1},"meterValue":[{"timestamp":"t0","sampledValue":[{"value":1000,"context":"Transaction.Begin"}]}]}]"#
        #expect(
            try Self.observe(&observer, started, .chargerToCSMS, .charger) == [
                .transactionStarted(
                    TransactionStart(
                        transactionID: "tx-9",
                        outlet: Outlet(id: 2, connectorID: 1),
                        meterStart: 1000,
                        timestamp: "t0"
                    )
                ),
                .meterValues(
                    MeterReading(
                        outlet: Outlet(id: 2, connectorID: 1),
                        transactionID: "tx-9",
                        timestamp: "t0",
                        energyActiveImportRegister: 1000,
                        context: "Transaction.Begin"
                    )
                ),
            ]
        )
        let updated =
            #"[2,"2","TransactionEvent",{"eventType":"Updated","timestamp":"t1","triggerReason":"MeterValuePeriodic","seqNo":1,"transactionInfo":{"transactionId":"tx-9","chargingState":"Charging"},"meterValue":[{"timestamp":"t1","sampledValue":[{"value":16,"measurand":"Current.Import","phase":"L1","unitOfMeasure":{"unit":"A"}},{"value":3.68,"measurand":"Power.Active.Import","unitOfMeasure":{"unit":"W","multiplier":3}}]}]}]"#
        #expect(
            try Self.observe(&observer, updated, .chargerToCSMS, .charger) == [
                .meterValues(
                    MeterReading(
                        outlet: Outlet(id: 2, connectorID: 1),
                        transactionID: "tx-9",
                        timestamp: "t1",
                        currentImport: PhaseValues(l1: 16),
                        powerActiveImport: PhaseValues(total: 3680)
                    )
                )
            ]
        )
        let ended =
            #"[2,"3","TransactionEvent",{"eventType":"Ended","timestamp":"t2","triggerReason":"EVCommunicationLost","seqNo":2,"transactionInfo":{"transactionId":"tx-9","stoppedReason":"EVDisconnected"}}]"#
        #expect(
            try Self.observe(&observer, ended, .chargerToCSMS, .charger) == [
                .transactionEnded(
                    TransactionEnd(
                        transactionID: "tx-9",
                        outlet: Outlet(id: 2, connectorID: 1),
                        timestamp: "t2",
                        reason: "EVDisconnected"
                    )
                )
            ]
        )
        let status =
            #"[2,"4","StatusNotification",{"timestamp":"t3","connectorStatus":"Available","evseId":2,"connectorId":1}]"#
        #expect(
            try Self.observe(&observer, status, .chargerToCSMS, .charger) == [
                .status(StatusChange(outlet: Outlet(id: 2, connectorID: 1), status: "Available", timestamp: "t3"))
            ]
        )
        let boot =
            #"[2,"5","BootNotification",{"chargingStation":{"model":"M","vendorName":"V","serialNumber":"S"},"reason":"PowerUp"}]"#
        #expect(
            try Self.observe(&observer, boot, .chargerToCSMS, .charger) == [
                .boot(BootInfo(vendor: "V", model: "M", serialNumber: "S"))
            ]
        )
    }

    @Test func profilesSetByTheCSMSAreReportedWithTheChargersAnswer() throws {
        var observer = Observer(chargerID: "CP-1", version: .v16)
        let frames = try Fixtures.frames(of: "actec-ev-ac22k_1.6_setchargingprofile_rewrite_nonconformant_conf.jsonl")
        let call = frames[0].frame  // CSMS's SetChargingProfile, 6 A
        let answer = frames[2].frame  // the wallbox's non-conformant CALLRESULT
        #expect(
            observer.observe(call, envelope: try Envelope(parsing: call), direction: .toCharger, origin: .csms) == []
        )
        #expect(
            observer.observe(
                answer,
                envelope: try Envelope(parsing: answer),
                direction: .chargerToCSMS,
                origin: .charger
            )
                == [
                    .chargingProfileSetByCSMS(
                        ProfileSet(
                            outlet: Outlet(id: 1),
                            profileID: 1,
                            purpose: "TxDefaultProfile",
                            stackLevel: 0,
                            firstLimit: 6,
                            unit: "A",
                            accepted: true
                        )
                    )
                ]
        )
    }

    @Test func clearsAndRejectionsByTheCSMSAreReported() throws {
        var observer = Observer(chargerID: "CP-1", version: .v201)
        _ = try Self.observe(
            &observer,
            #"[2,"c","ClearChargingProfile",{"chargingProfileCriteria":{"evseId":0,"chargingProfilePurpose":"ChargingStationMaxProfile"}}]"#,
            .toCharger,
            .csms
        )
        #expect(
            try Self.observe(&observer, #"[3,"c",{"status":"Unknown"}]"#, .chargerToCSMS, .charger) == [
                .chargingProfileClearedByCSMS(
                    ProfileCleared(
                        profileID: nil,
                        outlet: Outlet(id: 0),
                        purpose: "ChargingStationMaxProfile",
                        stackLevel: nil,
                        accepted: false
                    )
                )
            ]
        )
        _ = try Self.observe(
            &observer,
            #"[2,"s","SetChargingProfile",{"evseId":1,"chargingProfile":{"id":5,"stackLevel":2,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Relative","chargingSchedule":[{"id":1,"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":7400}]}]}}]"#,
            .toCharger,
            .csms
        )
        #expect(
            try Self.observe(&observer, #"[4,"s","NotSupported","no",{}]"#, .chargerToCSMS, .charger) == [
                .chargingProfileSetByCSMS(
                    ProfileSet(
                        outlet: Outlet(id: 1),
                        profileID: 5,
                        purpose: "TxDefaultProfile",
                        stackLevel: 2,
                        firstLimit: 7400,
                        unit: "W",
                        accepted: false
                    )
                )
            ]
        )
    }

    @Test func injectedProfilesAreNotReportedAsTheCSMSs() throws {
        var observer = Observer(chargerID: "CP-1", version: .v16)
        let request = OCPP16.SetChargingProfileRequest.chargePointMaxProfile(
            limit: .amperes(10),
            profileID: 1000,
            stackLevel: 1,
            startSchedule: nil
        )
        let frame = try Frame.call(id: "lg-abcdefgh2345-1", action: "SetChargingProfile", encoding: request)
        #expect(
            observer.observe(frame, envelope: try Envelope(parsing: frame), direction: .toCharger, origin: .loadguard)
                == []
        )
        #expect(
            try Self.observe(&observer, #"[3,"lg-abcdefgh2345-1",{"status":"Accepted"}]"#, .chargerToCSMS, .charger)
                == []
        )
    }

    @Test func unansweredCallsAreForgottenBeyondTheBound() throws {
        var observer = Observer(chargerID: "CP-1", version: .v16)
        let count = Observer.maximumPendingCalls + 36
        for index in 0..<count {
            _ = try Self.observe(
                &observer,
                "[2,\"c\(index)\",\"ClearChargingProfile\",{\"id\":\(index)}]",
                .toCharger,
                .csms
            )
        }
        #expect(try Self.observe(&observer, #"[3,"c0",{"status":"Accepted"}]"#, .chargerToCSMS, .charger) == [])
        let last = count - 1
        #expect(
            try Self.observe(&observer, "[3,\"c\(last)\",{\"status\":\"Accepted\"}]", .chargerToCSMS, .charger).count
                == 1
        )
    }

    @Test func undecodablePayloadsAreReportedNotFatal() throws {
        var observer = Observer(chargerID: "CP-1", version: .v16)
        let events = try Self.observe(
            &observer,
            #"[2,"1","StatusNotification",{"status":"Charging"}]"#,
            .chargerToCSMS,
            .charger
        )
        guard case .undecodable(let action, let reason) = try #require(events.first) else {
            Issue.record("expected undecodable, got \(events)")
            return
        }
        #expect(action == "StatusNotification")
        #expect(reason.contains("connectorId"))
        // Unknown actions and DataTransfer are not read at all.
        #expect(
            try Self.observe(&observer, #"[2,"2","DataTransfer",{"vendorId":"x"}]"#, .chargerToCSMS, .charger) == []
        )
    }

    @Test func boundedTableKeepsTheNewestEntries() {
        var table = BoundedTable<Int>(capacity: 3)
        for index in 0..<10 { table.insert(index, for: "k\(index % 5)") }
        #expect(table.count == 3)
        #expect(table["k4"] == 9 && table["k3"] == 8 && table["k2"] == 7)
        table.insert(100, for: "k2")
        #expect(table["k2"] == 100)
        table.insert(1, for: "new")
        #expect(table["k3"] == nil && table["k2"] == 100)
        for index in 0..<10_000 {
            table.insert(index, for: "x\(index)")
            table.remove("x\(index)")
        }
        #expect(table.count <= 3)
    }
}
