import Foundation

/// Turns one charger's traffic into ``ChargerEvent``s for the site controller.
///
/// Feed it every frame as it was delivered (after the proxy's routing), in both directions, with its parsed
/// envelope; frames that are not OCPP-J are not fed. It decodes only the payloads of the actions it reads, and
/// correlates calls with their responses by message id, per direction:
/// - charger calls answered towards the charger: 1.6 `StartTransaction` (the `transactionId` is in the
///   answer, from the CSMS or from LoadGuard in standalone mode);
/// - CSMS calls answered by the charger: `SetChargingProfile`, `ClearChargingProfile` (LoadGuard's own
///   injected calls are not reported as the CSMS's).
///
/// At most ``maximumPendingCalls`` calls per direction wait for their answer; older ones are forgotten (a
/// charger that never answers cannot make the observer grow).
///
/// Meter values: `Current.Import` (A), `Power.Active.Import` (W) and `Energy.Active.Import.Register` (Wh)
/// are read from MeterValues, and in 2.x also from TransactionEvent. Phases `L1`/`L1-N` count as L1 (and so
/// on); line-to-line phases (`L1-L2`) and `N` are ignored for current and power; a value without phase is the
/// `total`. Units `kW` and `kWh` (and 2.x multipliers) are converted; values with other units, signed data,
/// and values measured at the EV, body or cable are ignored.
public struct Observer: Sendable {
    /// The most calls per direction that wait for their answer.
    public static let maximumPendingCalls = 64

    /// The charger's identity, for the proxy's logs; events do not repeat it.
    public let chargerID: String
    public let version: OCPPVersion
    private var pendingStartTransactions = BoundedTable<OCPP16.StartTransactionRequest>()
    private var pendingCSMSCalls = BoundedTable<CSMSCall>()
    /// 1.6 transaction id → connector, 2.x transaction id → EVSE, from the starts seen.
    private var transactionOutlets = BoundedTable<Outlet>(capacity: 256)

    private enum CSMSCall: Sendable {
        case setProfile(ProfileSet)
        case clearProfile(ProfileCleared)
    }

    public init(chargerID: String, version: OCPPVersion) {
        self.chargerID = chargerID
        self.version = version
    }

    /// The charger connected.
    public mutating func connected() -> [ChargerEvent] {
        [.connected(version: version)]
    }

    /// The charger disconnected: calls waiting for answers are forgotten (transactions are kept).
    public mutating func disconnected() -> [ChargerEvent] {
        pendingStartTransactions = BoundedTable()
        pendingCSMSCalls = BoundedTable()
        return [.disconnected]
    }

    /// Observes one frame.
    public mutating func observe(
        _ frame: [UInt8],
        envelope: Envelope,
        direction: Direction,
        origin: Origin
    ) -> [ChargerEvent] {
        switch (direction, envelope.messageType) {
        case (.chargerToCSMS, .call):
            return observeChargerCall(frame, envelope)
        case (.toCharger, .call) where origin == .csms:
            return observeCSMSCall(frame, envelope)
        case (.toCharger, .callResult), (.toCharger, .callError):
            guard let request = pendingStartTransactions.remove(envelope.messageID) else { return [] }
            return observeStartTransactionAnswer(request, frame, envelope)
        case (.chargerToCSMS, .callResult), (.chargerToCSMS, .callError):
            guard let call = pendingCSMSCalls.remove(envelope.messageID) else { return [] }
            let accepted = envelope.messageType == .callResult && Self.status(in: frame, envelope) == "Accepted"
            switch call {
            case .setProfile(var set):
                set.accepted = accepted
                return [.chargingProfileSetByCSMS(set)]
            case .clearProfile(var cleared):
                cleared.accepted = accepted
                return [.chargingProfileClearedByCSMS(cleared)]
            }
        default:
            return []
        }
    }

    // MARK: Charger calls

    private mutating func observeChargerCall(_ frame: [UInt8], _ envelope: Envelope) -> [ChargerEvent] {
        guard let action = envelope.action else { return [] }
        do throws(PayloadDecodingError) {
            switch (version, action) {
            case (.v16, "BootNotification"):
                let request = try envelope.decodePayload(OCPP16.BootNotificationRequest.self, from: frame)
                return [
                    .boot(
                        BootInfo(
                            vendor: request.chargePointVendor,
                            model: request.chargePointModel,
                            serialNumber: request.chargePointSerialNumber ?? request.chargeBoxSerialNumber,
                            firmwareVersion: request.firmwareVersion
                        )
                    )
                ]
            case (_, "BootNotification"):
                let station = try envelope.decodePayload(OCPP2.BootNotificationRequest.self, from: frame)
                    .chargingStation
                return [
                    .boot(
                        BootInfo(
                            vendor: station.vendorName,
                            model: station.model,
                            serialNumber: station.serialNumber,
                            firmwareVersion: station.firmwareVersion
                        )
                    )
                ]
            case (.v16, "StatusNotification"):
                let request = try envelope.decodePayload(OCPP16.StatusNotificationRequest.self, from: frame)
                return [
                    .status(
                        StatusChange(
                            outlet: Outlet(id: request.connectorId),
                            status: request.status,
                            errorCode: request.errorCode,
                            timestamp: request.timestamp
                        )
                    )
                ]
            case (_, "StatusNotification"):
                let request = try envelope.decodePayload(OCPP2.StatusNotificationRequest.self, from: frame)
                return [
                    .status(
                        StatusChange(
                            outlet: Outlet(id: request.evseId, connectorID: request.connectorId),
                            status: request.connectorStatus,
                            timestamp: request.timestamp
                        )
                    )
                ]
            case (.v16, "MeterValues"):
                let request = try envelope.decodePayload(OCPP16.MeterValuesRequest.self, from: frame)
                return request.meterValue.compactMap { value in
                    Self.reading(
                        outlet: Outlet(id: request.connectorId),
                        transactionID: request.transactionId.map(String.init),
                        meterValue: value
                    ).map(ChargerEvent.meterValues)
                }
            case (_, "MeterValues"):
                let request = try envelope.decodePayload(OCPP2.MeterValuesRequest.self, from: frame)
                return request.meterValue.compactMap { value in
                    Self.reading(outlet: Outlet(id: request.evseId), transactionID: nil, meterValue: value)
                        .map(ChargerEvent.meterValues)
                }
            case (.v16, "StartTransaction"):
                let request = try envelope.decodePayload(OCPP16.StartTransactionRequest.self, from: frame)
                pendingStartTransactions.insert(request, for: envelope.messageID)
                return []
            case (.v16, "StopTransaction"):
                let request = try envelope.decodePayload(OCPP16.StopTransactionRequest.self, from: frame)
                let id = String(request.transactionId)
                return [
                    .transactionEnded(
                        TransactionEnd(
                            transactionID: id,
                            outlet: transactionOutlets.remove(id),
                            meterStop: Double(request.meterStop),
                            timestamp: request.timestamp,
                            reason: request.reason
                        )
                    )
                ]
            case (.v201, "TransactionEvent"), (.v21, "TransactionEvent"):
                let request = try envelope.decodePayload(OCPP2.TransactionEventRequest.self, from: frame)
                return observeTransactionEvent(request)
            default:
                return []
            }
        } catch {
            return [.undecodable(action: action, reason: error.description)]
        }
    }

    private mutating func observeTransactionEvent(_ request: OCPP2.TransactionEventRequest) -> [ChargerEvent] {
        let id = request.transactionInfo.transactionId
        let named = request.evse.map { Outlet(id: $0.id, connectorID: $0.connectorId) }
        if let named { transactionOutlets.insert(named, for: id) }
        let outlet = named ?? transactionOutlets[id]
        var events: [ChargerEvent] = []
        let readings = (request.meterValue ?? []).compactMap { value in
            Self.reading(outlet: outlet ?? Outlet(id: 0), transactionID: id, meterValue: value)
        }
        let energy = readings.compactMap(\.energyActiveImportRegister).last
        if request.eventType == "Started" {
            events.append(
                .transactionStarted(
                    TransactionStart(
                        transactionID: id,
                        outlet: outlet,
                        meterStart: energy,
                        timestamp: request.timestamp
                    )
                )
            )
        }
        events.append(contentsOf: readings.map(ChargerEvent.meterValues))
        if request.eventType == "Ended" {
            transactionOutlets.remove(id)
            events.append(
                .transactionEnded(
                    TransactionEnd(
                        transactionID: id,
                        outlet: outlet,
                        meterStop: energy,
                        timestamp: request.timestamp,
                        reason: request.transactionInfo.stoppedReason
                    )
                )
            )
        }
        return events
    }

    private mutating func observeStartTransactionAnswer(
        _ request: OCPP16.StartTransactionRequest,
        _ frame: [UInt8],
        _ envelope: Envelope
    ) -> [ChargerEvent] {
        guard envelope.messageType == .callResult else { return [] }
        do throws(PayloadDecodingError) {
            let answer = try envelope.decodePayload(OCPP16.StartTransactionConfirmation.self, from: frame)
            let id = String(answer.transactionId)
            let outlet = Outlet(id: request.connectorId)
            transactionOutlets.insert(outlet, for: id)
            return [
                .transactionStarted(
                    TransactionStart(
                        transactionID: id,
                        outlet: outlet,
                        meterStart: Double(request.meterStart),
                        timestamp: request.timestamp,
                        authorizationStatus: answer.idTagInfo.status
                    )
                )
            ]
        } catch {
            return [.undecodable(action: "StartTransaction (answer)", reason: error.description)]
        }
    }

    // MARK: CSMS calls

    private mutating func observeCSMSCall(_ frame: [UInt8], _ envelope: Envelope) -> [ChargerEvent] {
        guard let action = envelope.action else { return [] }
        do throws(PayloadDecodingError) {
            switch (version, action) {
            case (.v16, "SetChargingProfile"):
                let request = try envelope.decodePayload(OCPP16.SetChargingProfileRequest.self, from: frame)
                let profile = request.csChargingProfiles
                let set = ProfileSet(
                    outlet: Outlet(id: request.connectorId),
                    profileID: profile.chargingProfileId,
                    purpose: profile.chargingProfilePurpose,
                    stackLevel: profile.stackLevel,
                    firstLimit: profile.chargingSchedule.chargingSchedulePeriod.first?.limit,
                    unit: profile.chargingSchedule.chargingRateUnit,
                    accepted: false
                )
                pendingCSMSCalls.insert(.setProfile(set), for: envelope.messageID)
            case (_, "SetChargingProfile"):
                let request = try envelope.decodePayload(OCPP2.SetChargingProfileRequest.self, from: frame)
                let profile = request.chargingProfile
                let schedule = profile.chargingSchedule.first
                let set = ProfileSet(
                    outlet: Outlet(id: request.evseId),
                    profileID: profile.id,
                    purpose: profile.chargingProfilePurpose,
                    stackLevel: profile.stackLevel,
                    firstLimit: schedule?.chargingSchedulePeriod.first?.limit,
                    unit: schedule?.chargingRateUnit,
                    accepted: false
                )
                pendingCSMSCalls.insert(.setProfile(set), for: envelope.messageID)
            case (.v16, "ClearChargingProfile"):
                let request = try envelope.decodePayload(OCPP16.ClearChargingProfileRequest.self, from: frame)
                let cleared = ProfileCleared(
                    profileID: request.id,
                    outlet: request.connectorId.map { Outlet(id: $0) },
                    purpose: request.chargingProfilePurpose,
                    stackLevel: request.stackLevel,
                    accepted: false
                )
                pendingCSMSCalls.insert(.clearProfile(cleared), for: envelope.messageID)
            case (_, "ClearChargingProfile"):
                let request = try envelope.decodePayload(OCPP2.ClearChargingProfileRequest.self, from: frame)
                let criteria = request.chargingProfileCriteria
                let cleared = ProfileCleared(
                    profileID: request.chargingProfileId,
                    outlet: criteria?.evseId.map { Outlet(id: $0) },
                    purpose: criteria?.chargingProfilePurpose,
                    stackLevel: criteria?.stackLevel,
                    accepted: false
                )
                pendingCSMSCalls.insert(.clearProfile(cleared), for: envelope.messageID)
            default:
                break
            }
            return []
        } catch {
            return [.undecodable(action: action, reason: error.description)]
        }
    }

    // MARK: Meter values

    private struct StatusProbe: Decodable {
        var status: String?
    }

    private static func status(in frame: [UInt8], _ envelope: Envelope) -> String? {
        (try? envelope.decodePayload(StatusProbe.self, from: frame))?.status
    }

    /// One normalized sample: measurand, phase slot, value in A / W / Wh.
    enum PhaseSlot {
        case l1, l2, l3, total
    }

    static func phaseSlot(_ phase: String?) -> PhaseSlot? {
        switch phase {
        case nil: .total
        case "L1", "L1-N": .l1
        case "L2", "L2-N": .l2
        case "L3", "L3-N": .l3
        default: nil
        }
    }

    /// The value converted to A, W or Wh, or `nil` if the unit does not fit the measurand.
    static func normalized(_ value: Double, measurand: String, unit: String?) -> Double? {
        switch (measurand, unit) {
        case ("Current.Import", nil), ("Current.Import", "A"): value
        case ("Power.Active.Import", nil), ("Power.Active.Import", "W"): value
        case ("Power.Active.Import", "kW"): value * 1000
        case ("Energy.Active.Import.Register", nil), ("Energy.Active.Import.Register", "Wh"): value
        case ("Energy.Active.Import.Register", "kWh"): value * 1000
        default: nil
        }
    }

    private static func isIgnoredLocation(_ location: String?) -> Bool {
        location == "EV" || location == "Body" || location == "Cable"
    }

    private static func add(_ value: Double, phase: String?, to values: inout PhaseValues) {
        switch phaseSlot(phase) {
        case .l1: values.l1 = value
        case .l2: values.l2 = value
        case .l3: values.l3 = value
        case .total: values.total = value
        case nil: break
        }
    }

    static func reading(outlet: Outlet, transactionID: String?, meterValue: OCPP16.MeterValue) -> MeterReading? {
        var reading = MeterReading(outlet: outlet, transactionID: transactionID, timestamp: meterValue.timestamp)
        for sample in meterValue.sampledValue where !isIgnoredLocation(sample.location) {
            guard let number = sample.numericValue else { continue }
            reading.context = reading.context ?? sample.context
            record(number, measurand: sample.measurand, phase: sample.phase, unit: sample.unit, into: &reading)
        }
        return reading.hasValues ? reading : nil
    }

    static func reading(outlet: Outlet, transactionID: String?, meterValue: OCPP2.MeterValue) -> MeterReading? {
        var reading = MeterReading(outlet: outlet, transactionID: transactionID, timestamp: meterValue.timestamp)
        for sample in meterValue.sampledValue where !isIgnoredLocation(sample.location) {
            let multiplier = sample.unitOfMeasure?.multiplier ?? 0
            let number = sample.value * pow(10, Double(multiplier))
            guard number.isFinite else { continue }
            reading.context = reading.context ?? sample.context
            record(
                number,
                measurand: sample.measurand,
                phase: sample.phase,
                unit: sample.unitOfMeasure?.unit,
                into: &reading
            )
        }
        return reading.hasValues ? reading : nil
    }

    private static func record(
        _ number: Double,
        measurand: String?,
        phase: String?,
        unit: String?,
        into reading: inout MeterReading
    ) {
        let measurand = measurand ?? "Energy.Active.Import.Register"
        guard let value = normalized(number, measurand: measurand, unit: unit) else { return }
        switch measurand {
        case "Current.Import": add(value, phase: phase, to: &reading.currentImport)
        case "Power.Active.Import": add(value, phase: phase, to: &reading.powerActiveImport)
        case "Energy.Active.Import.Register" where phase == nil: reading.energyActiveImportRegister = value
        default: break
        }
    }
}

extension MeterReading {
    fileprivate var hasValues: Bool {
        !currentImport.isEmpty || !powerActiveImport.isEmpty || energyActiveImportRegister != nil
    }
}

/// A dictionary that forgets its oldest entries beyond a capacity.
struct BoundedTable<Value: Sendable>: Sendable {
    private var values: [String: (sequence: UInt64, value: Value)] = [:]
    private var order = FIFO<(key: String, sequence: UInt64)>()
    private var nextSequence: UInt64 = 0
    let capacity: Int

    init(capacity: Int = Observer.maximumPendingCalls) {
        self.capacity = capacity
    }

    var count: Int { values.count }

    subscript(key: String) -> Value? { values[key]?.value }

    /// Inserts or replaces; a replaced entry counts as new.
    mutating func insert(_ value: Value, for key: String) {
        nextSequence += 1
        values[key] = (nextSequence, value)
        order.append((key, nextSequence))
        while values.count > capacity, let oldest = order.popFirst() {
            if values[oldest.key]?.sequence == oldest.sequence {
                values.removeValue(forKey: oldest.key)
            }
        }
        // Drop order entries of removed or replaced keys so the list stays proportional to the table.
        if order.count > capacity * 2 + 16 {
            var compacted = FIFO<(key: String, sequence: UInt64)>()
            for entry in order.elements where values[entry.key]?.sequence == entry.sequence {
                compacted.append(entry)
            }
            order = compacted
        }
    }

    @discardableResult
    mutating func remove(_ key: String) -> Value? {
        values.removeValue(forKey: key)?.value
    }
}
