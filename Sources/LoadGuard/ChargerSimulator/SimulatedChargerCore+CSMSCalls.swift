import Foundation
import OCPP

/// The CSMS's calls to the charger: smart charging, configuration, remote start/stop, triggers.
extension SimulatedChargerCore {
    /// A call the charger does not implement.
    struct NotImplemented: Error {}

    mutating func handleCall(_ envelope: Envelope, frame: [UInt8], at now: Date) {
        // OCPP 1.6 §4.2.1 / 2.0.1 B02: while Rejected the charger does not answer the CSMS.
        guard !rejected else { return }
        let version = self.version ?? configuration.version
        let action = envelope.action ?? ""
        do {
            let payload = try answer(action: action, envelope: envelope, frame: frame, version: version, at: now)
            output.insert(.send(Frame.callResult(id: envelope.messageID, payload: payload)), at: 0)
        } catch is NotImplemented {
            emit(.unsupportedCall(action: action))
            output.insert(
                .send(
                    Frame.callError(
                        id: envelope.messageID,
                        code: .notImplemented,
                        description: "the simulated charger does not implement \(action)"
                    )
                ),
                at: 0
            )
        } catch let error as PayloadDecodingError {
            output.insert(
                .send(
                    Frame.callError(
                        id: envelope.messageID,
                        code: .formatViolation(for: version),
                        description: error.description
                    )
                ),
                at: 0
            )
        } catch {
            output.insert(
                .send(Frame.callError(id: envelope.messageID, code: .internalError, description: "\(error)")),
                at: 0
            )
        }
    }

    private mutating func answer(
        action: String,
        envelope: Envelope,
        frame: [UInt8],
        version: OCPPVersion,
        at now: Date
    ) throws -> [UInt8] {
        func status(_ value: String) throws -> [UInt8] {
            try Frame.encodePayload(SimulatorMessages.Status(status: value))
        }
        switch (action, version.isTwoX) {
        case ("SetChargingProfile", false):
            let request = try envelope.decodePayload(OCPP16.SetChargingProfileRequest.self, from: frame)
            return try status(install { () throws(ProfileRejection) in try SimulatedProfile(request, receivedAt: now) })
        case ("SetChargingProfile", true):
            let request = try envelope.decodePayload(OCPP2.SetChargingProfileRequest.self, from: frame)
            return try status(install { () throws(ProfileRejection) in try SimulatedProfile(request, receivedAt: now) })
        case ("ClearChargingProfile", false):
            let request = try envelope.decodePayload(OCPP16.ClearChargingProfileRequest.self, from: frame)
            return try status(
                clear(
                    id: request.id,
                    outlet: request.connectorId,
                    purpose: request.chargingProfilePurpose,
                    stackLevel: request.stackLevel
                )
            )
        case ("ClearChargingProfile", true):
            let request = try envelope.decodePayload(OCPP2.ClearChargingProfileRequest.self, from: frame)
            let criteria = request.chargingProfileCriteria
            return try status(
                clear(
                    id: request.chargingProfileId,
                    outlet: criteria?.evseId,
                    purpose: criteria?.chargingProfilePurpose,
                    stackLevel: criteria?.stackLevel
                )
            )
        case ("GetConfiguration", false):
            let request = try envelope.decodePayload(OCPP16.GetConfigurationRequest.self, from: frame)
            return try Frame.encodePayload(configurationKeys(request.key ?? []))
        case ("ChangeConfiguration", false):
            let request = try envelope.decodePayload(SimulatorMessages.ChangeConfiguration16.self, from: frame)
            return try status(changeConfiguration(key: request.key, value: request.value, at: now))
        case ("GetVariables", true):
            let request = try envelope.decodePayload(OCPP2.GetVariablesRequest.self, from: frame)
            return try Frame.encodePayload(
                OCPP2.GetVariablesResponse(getVariableResult: request.getVariableData.map(getVariable))
            )
        case ("SetVariables", true):
            let request = try envelope.decodePayload(SimulatorMessages.SetVariables.self, from: frame)
            var results: [SimulatorMessages.SetVariableResult] = []
            for data in request.setVariableData {
                results.append(setVariable(data, at: now))
            }
            return try Frame.encodePayload(SimulatorMessages.SetVariablesResponse(setVariableResult: results))
        case ("RemoteStartTransaction", false):
            let request = try envelope.decodePayload(SimulatorMessages.RemoteStartTransaction16.self, from: frame)
            guard request.connectorId == nil || request.connectorId == Self.outlet, canStartRemotely else {
                return try status("Rejected")
            }
            startSession(idTag: request.idTag, at: now)
            if let profile = request.chargingProfile, profile.chargingProfilePurpose == ChargingProfilePurpose.tx {
                let set = OCPP16.SetChargingProfileRequest(connectorId: Self.outlet, csChargingProfiles: profile)
                _ = install { () throws(ProfileRejection) in try SimulatedProfile(set, receivedAt: now) }
            }
            return try status("Accepted")
        case ("RequestStartTransaction", true):
            let request = try envelope.decodePayload(SimulatorMessages.RequestStartTransaction2.self, from: frame)
            guard request.evseId == nil || request.evseId == Self.outlet, canStartRemotely else {
                return try Frame.encodePayload(SimulatorMessages.RequestStartTransactionResponse2(status: "Rejected"))
            }
            startSession(idTag: request.idToken.idToken, remoteStartID: request.remoteStartId, at: now)
            if var profile = request.chargingProfile, profile.chargingProfilePurpose == ChargingProfilePurpose.tx {
                profile.transactionId = session?.transactionID
                let set = OCPP2.SetChargingProfileRequest(evseId: Self.outlet, chargingProfile: profile)
                _ = install { () throws(ProfileRejection) in try SimulatedProfile(set, receivedAt: now) }
            }
            return try Frame.encodePayload(
                SimulatorMessages.RequestStartTransactionResponse2(
                    status: "Accepted",
                    transactionId: session?.transactionID
                )
            )
        case ("RemoteStopTransaction", false):
            let request = try envelope.decodePayload(SimulatorMessages.RemoteStopTransaction16.self, from: frame)
            guard let session, session.transactionID == String(request.transactionId) else {
                return try status("Rejected")
            }
            stopRemotely(at: now)
            return try status("Accepted")
        case ("RequestStopTransaction", true):
            let request = try envelope.decodePayload(SimulatorMessages.RequestStopTransaction2.self, from: frame)
            guard let session, session.transactionID == request.transactionId else { return try status("Rejected") }
            stopRemotely(at: now)
            return try status("Accepted")
        case ("TriggerMessage", false):
            let request = try envelope.decodePayload(SimulatorMessages.TriggerMessage16.self, from: frame)
            if let connector = request.connectorId, connector != 0, connector != Self.outlet {
                return try status("Rejected")
            }
            return try status(trigger(request.requestedMessage, at: now))
        case ("TriggerMessage", true):
            let request = try envelope.decodePayload(SimulatorMessages.TriggerMessage2.self, from: frame)
            if let evse = request.evse?.id, evse != 0, evse != Self.outlet { return try status("Rejected") }
            return try status(trigger(request.requestedMessage, at: now))
        case ("Reset", _):
            let request = try envelope.decodePayload(SimulatorMessages.Reset.self, from: frame)
            emit(.resetRequested(type: request.type))
            return try status("Accepted")
        default:
            throw NotImplemented()
        }
    }

    // MARK: Smart charging

    private mutating func install(_ make: () throws(ProfileRejection) -> SimulatedProfile) -> String {
        do throws(ProfileRejection) {
            let profile = try make()
            if profile.purpose == .tx {
                guard let session else { throw ProfileRejection("a TxProfile needs a running transaction") }
                if let id = profile.transactionID, id != session.transactionID {
                    throw ProfileRejection(
                        "TxProfile for transaction \(id), but the running one is \(session.transactionID ?? "not known yet")"
                    )
                }
            }
            profiles.install(profile)
            emit(
                .profileInstalled(
                    purpose: profile.purpose.wireName(for: version ?? configuration.version),
                    id: profile.id,
                    stackLevel: profile.stackLevel,
                    outlet: profile.outlet
                )
            )
            return "Accepted"
        } catch {
            emit(.profileRejected(reason: error.reason))
            return "Rejected"
        }
    }

    private mutating func clear(id: Int?, outlet: Int?, purpose: String?, stackLevel: Int?) -> String {
        var purposeFilter: SimulatedProfile.Purpose?
        if let purpose {
            guard let known = SimulatedProfile.Purpose(wire: purpose) else { return "Unknown" }
            purposeFilter = known
        }
        let count = profiles.clear(id: id, outlet: outlet, purpose: purposeFilter, stackLevel: stackLevel)
        emit(.profilesCleared(count: count))
        return count > 0 ? "Accepted" : "Unknown"
    }

    // MARK: Remote control

    private var canStartRemotely: Bool { car != nil && session == nil && !carDone }

    private mutating func stopRemotely(at now: Date) {
        endSession(
            reason16: "Remote",
            trigger2: "RemoteStop",
            stoppedReason2: "Remote",
            description: "remote stop",
            at: now
        )
        carLeaves(reason: "remote stop", at: now)
    }

    /// Queues the requested message; returns the TriggerMessage status.
    private mutating func trigger(_ message: String, at now: Date) -> String {
        switch message {
        case "BootNotification":
            registration = .bootDue(at: now, reason: "Triggered")
        case "Heartbeat":
            enqueue(.heartbeat)
        case "StatusNotification":
            reportedStatus = nil
        case "MeterValues":
            if isTwoX {
                enqueue(.meterValues(sessionID: nil, sample: meterSample(at: now, context: "Trigger")))
            } else {
                enqueue(.meterValues(sessionID: session?.localID, sample: meterSample(at: now, context: "Trigger")))
            }
        case "TransactionEvent" where isTwoX:
            guard session != nil else { return "Rejected" }
            enqueueMeterValues(context: "Trigger", trigger: "Trigger", at: now)
        default:
            return "NotImplemented"
        }
        return "Accepted"
    }

    // MARK: Configuration (1.6)

    /// 1.6 configuration keys: name, read-only, current value.
    private var configurationTable: [(key: String, readonly: Bool, value: String)] {
        [
            ("AuthorizeRemoteTxRequests", true, "false"),
            ("ChargeProfileMaxStackLevel", true, String(SimulatedProfile.maximumStackLevel)),
            ("ChargingScheduleAllowedChargingRateUnit", true, "Current,Power"),
            ("ChargingScheduleMaxPeriods", true, String(SimulatedProfile.maximumPeriods)),
            ("HeartbeatInterval", false, String(Int(heartbeatInterval))),
            ("MaxChargingProfilesInstalled", true, "24"),
            ("MeterValueSampleInterval", false, String(Int(meterInterval))),
            ("MeterValuesSampledData", false, Measurand.text(measurands)),
            ("NumberOfConnectors", true, "1"),
            ("SupportedFeatureProfiles", true, "Core,SmartCharging,RemoteTrigger"),
        ]
    }

    private func configurationKeys(_ keys: [String]) -> OCPP16.GetConfigurationConfirmation {
        let table = configurationTable
        if keys.isEmpty {
            return OCPP16.GetConfigurationConfirmation(
                configurationKey: table.map { OCPP16.KeyValue(key: $0.key, readonly: $0.readonly, value: $0.value) }
            )
        }
        var known: [OCPP16.KeyValue] = []
        var unknown: [String] = []
        for key in keys {
            if let entry = table.first(where: { $0.key == key }) {
                known.append(OCPP16.KeyValue(key: entry.key, readonly: entry.readonly, value: entry.value))
            } else {
                unknown.append(key)
            }
        }
        return OCPP16.GetConfigurationConfirmation(
            configurationKey: known.isEmpty ? nil : known,
            unknownKey: unknown.isEmpty ? nil : unknown
        )
    }

    private mutating func changeConfiguration(key: String, value: String, at now: Date) -> String {
        guard let entry = configurationTable.first(where: { $0.key == key }) else { return "NotSupported" }
        guard !entry.readonly else { return "Rejected" }
        guard applySetting(key, value: value, at: now) else { return "Rejected" }
        emit(.configurationChanged(key: key, value: value))
        return "Accepted"
    }

    /// Applies a writable setting; `false` if the value is not allowed.
    private mutating func applySetting(_ key: String, value: String, at now: Date) -> Bool {
        switch key {
        case "HeartbeatInterval":
            guard let seconds = Int(value), seconds > 0 else { return false }
            heartbeatInterval = TimeInterval(seconds)
            if registration == .accepted { nextHeartbeat = now.addingTimeInterval(heartbeatInterval) }
        case "MeterValueSampleInterval", "TxUpdatedInterval":
            guard let seconds = Int(value), (1...3600).contains(seconds) else { return false }
            meterInterval = TimeInterval(seconds)
            if var session {
                session.nextMeter = now.addingTimeInterval(meterInterval)
                self.session = session
            }
        case "MeterValuesSampledData", "TxUpdatedMeasurands":
            guard let list = Measurand.list(value) else { return false }
            measurands = list
        default:
            return false
        }
        return true
    }

    // MARK: Device model (2.x)

    /// 2.x variables: component, variable, read-only, current value, the 1.6-style setting it maps to.
    private var variableTable: [(component: String, variable: String, readonly: Bool, value: String)] {
        [
            ("SmartChargingCtrlr", "Enabled", true, "true"),
            ("SmartChargingCtrlr", "Available", true, "true"),
            ("SmartChargingCtrlr", "ProfileStackLevel", true, String(SimulatedProfile.maximumStackLevel)),
            ("SmartChargingCtrlr", "RateUnit", true, "A,W"),
            ("SmartChargingCtrlr", "Entries", true, "24"),
            ("SmartChargingCtrlr", "PeriodsPerSchedule", true, String(SimulatedProfile.maximumPeriods)),
            ("SmartChargingCtrlr", "ExternalControlSignalsEnabled", true, "true"),
            ("OCPPCommCtrlr", "HeartbeatInterval", false, String(Int(heartbeatInterval))),
            ("SampledDataCtrlr", "TxUpdatedInterval", false, String(Int(meterInterval))),
            ("SampledDataCtrlr", "TxUpdatedMeasurands", false, Measurand.text(measurands)),
        ]
    }

    private func lookUp(_ component: OCPP2.Component, _ variable: OCPP2.Variable) -> (
        status: String, entry: (component: String, variable: String, readonly: Bool, value: String)?
    ) {
        let table = variableTable
        guard table.contains(where: { $0.component == component.name }) else { return ("UnknownComponent", nil) }
        guard let entry = table.first(where: { $0.component == component.name && $0.variable == variable.name }) else {
            return ("UnknownVariable", nil)
        }
        return ("Accepted", entry)
    }

    private func getVariable(_ data: OCPP2.GetVariableData) -> OCPP2.GetVariableResult {
        var result = OCPP2.GetVariableResult(
            attributeStatus: "Accepted",
            component: data.component,
            variable: data.variable
        )
        result.attributeType = data.attributeType
        if let type = data.attributeType, type != "Actual" {
            result.attributeStatus = "NotSupportedAttributeType"
            return result
        }
        let (status, entry) = lookUp(data.component, data.variable)
        result.attributeStatus = status
        result.attributeValue = entry?.value
        return result
    }

    private mutating func setVariable(
        _ data: SimulatorMessages.SetVariableData,
        at now: Date
    ) -> SimulatorMessages.SetVariableResult {
        var result = SimulatorMessages.SetVariableResult(
            attributeType: data.attributeType,
            attributeStatus: "Accepted",
            component: data.component,
            variable: data.variable
        )
        if let type = data.attributeType, type != "Actual" {
            result.attributeStatus = "NotSupportedAttributeType"
            return result
        }
        let (status, entry) = lookUp(data.component, data.variable)
        guard let entry else {
            result.attributeStatus = status
            return result
        }
        if entry.readonly || !applySetting(entry.variable, value: data.attributeValue, at: now) {
            result.attributeStatus = "Rejected"
        } else {
            emit(.configurationChanged(key: "\(entry.component).\(entry.variable)", value: data.attributeValue))
        }
        return result
    }
}
