import Foundation
import OCPP

/// A measurand the simulated charger can report.
enum Measurand: String, CaseIterable, Hashable, Sendable {
    case currentImport = "Current.Import"
    case powerActiveImport = "Power.Active.Import"
    case energyActiveImportRegister = "Energy.Active.Import.Register"

    /// Reads a comma-separated list such as `Current.Import,Energy.Active.Import.Register`; `nil` if it names a
    /// measurand the charger cannot measure.
    static func list(_ text: String) -> [Measurand]? {
        var result: [Measurand] = []
        for item in text.split(separator: ",") {
            let name = item.trimmingCharacters(in: .whitespaces)
            if name.isEmpty { continue }
            guard let measurand = Measurand(rawValue: name) else { return nil }
            if !result.contains(measurand) { result.append(measurand) }
        }
        return result
    }

    static func text(_ list: [Measurand]) -> String { list.map(\.rawValue).joined(separator: ",") }
}

/// One set of readings, taken when the message is queued (so a message sent late carries its own time).
struct MeterSample: Hashable, Sendable {
    var timestamp: Date
    var context: String
    /// Amperes on the charger's L1 (and L2, L3 for a 3-phase charger).
    var currents: [Double]
    /// Watts.
    var power: Double
    /// Wh.
    var energy: Double
    var measurands: [Measurand]

    func sampledValues16() -> [OCPP16.SampledValue] {
        var values: [OCPP16.SampledValue] = []
        func add(_ value: String, _ measurand: Measurand, phase: String?, unit: String) {
            var sampled = OCPP16.SampledValue(value: value, measurand: measurand.rawValue, phase: phase, unit: unit)
            sampled.context = context
            sampled.location = "Outlet"
            values.append(sampled)
        }
        for measurand in measurands {
            switch measurand {
            case .currentImport:
                for (index, current) in currents.enumerated() {
                    add(decimalText(current, digits: 2), measurand, phase: "L\(index + 1)", unit: "A")
                }
            case .powerActiveImport: add(decimalText(power, digits: 0), measurand, phase: nil, unit: "W")
            case .energyActiveImportRegister:
                add(decimalText(wholeWattHours(energy), digits: 0), measurand, phase: nil, unit: "Wh")
            }
        }
        return values
    }

    func sampledValues2() -> [OCPP2.SampledValue] {
        var values: [OCPP2.SampledValue] = []
        func add(_ value: Double, _ measurand: Measurand, phase: String?, unit: String) {
            var sampled = OCPP2.SampledValue(
                value: value,
                measurand: measurand.rawValue,
                phase: phase,
                unitOfMeasure: OCPP2.UnitOfMeasure(unit: unit)
            )
            sampled.context = context
            sampled.location = "Outlet"
            values.append(sampled)
        }
        for measurand in measurands {
            switch measurand {
            case .currentImport:
                for (index, current) in currents.enumerated() {
                    add((current * 100).rounded() / 100, measurand, phase: "L\(index + 1)", unit: "A")
                }
            case .powerActiveImport: add(power.rounded(), measurand, phase: nil, unit: "W")
            case .energyActiveImportRegister: add(wholeWattHours(energy), measurand, phase: nil, unit: "Wh")
            }
        }
        return values
    }
}

/// A 2.x TransactionEvent as queued.
struct TransactionEventCall: Hashable, Sendable {
    var eventType: String
    var triggerReason: String
    var seqNo: Int
    var transactionID: String
    var chargingState: String?
    var idToken: String?
    var remoteStartID: Int?
    var stoppedReason: String?
    var timestamp: Date
    var sample: MeterSample?
}

/// A call the charger makes, built into a frame only when it is sent (a 1.6 message then names the transaction
/// id the CSMS assigned in the meantime).
indirect enum OutgoingCall: Hashable, Sendable {
    case bootNotification(reason: String)
    case heartbeat
    case statusNotification(status: String, timestamp: Date)
    case authorize(idTag: String)
    case startTransaction(sessionID: Int, idTag: String, meterStart: Double, timestamp: Date)
    case stopTransaction(sessionID: Int, idTag: String, meterStop: Double, timestamp: Date, reason: String)
    case meterValues(sessionID: Int?, sample: MeterSample)
    case transactionEvent(TransactionEventCall)
    /// A transaction message sent again after a timeout.
    case retried(OutgoingCall, attempts: Int)

    /// Messages that carry billing data: kept across disconnects and sent again after a timeout.
    var isTransactionRelated: Bool {
        switch self {
        case .startTransaction, .stopTransaction, .transactionEvent: true
        case .meterValues(let session, _): session != nil
        case .retried(let call, _): call.isTransactionRelated
        default: false
        }
    }

    var attempts: Int {
        if case .retried(_, let attempts) = self { return attempts }
        return 0
    }

    func withAttempt() -> OutgoingCall {
        if case .retried(let call, let attempts) = self { return .retried(call, attempts: attempts + 1) }
        return .retried(self, attempts: 1)
    }

    var base: OutgoingCall {
        if case .retried(let call, _) = self { return call.base }
        return self
    }

    func action(_ version: OCPPVersion) -> String {
        switch self {
        case .bootNotification: "BootNotification"
        case .heartbeat: "Heartbeat"
        case .statusNotification: "StatusNotification"
        case .authorize: "Authorize"
        case .startTransaction: "StartTransaction"
        case .stopTransaction: "StopTransaction"
        case .meterValues: "MeterValues"
        case .transactionEvent: "TransactionEvent"
        case .retried(let call, _): call.action(version)
        }
    }

    /// The frame with message id `id`, or `nil` when it cannot be sent (a 1.6 StopTransaction without a
    /// transaction id).
    func frame(id: String, version: OCPPVersion, core: SimulatedChargerCore) -> [UInt8]? {
        let configuration = core.configuration
        let action = action(version)
        func call(_ payload: some Encodable) -> [UInt8]? {
            try? Frame.call(id: id, action: action, encoding: payload)
        }
        switch (self, version.isTwoX) {
        case (.retried(let call, _), _):
            return call.frame(id: id, version: version, core: core)
        case (.bootNotification, false):
            return call(
                OCPP16.BootNotificationRequest(
                    chargePointVendor: configuration.vendor,
                    chargePointModel: configuration.model,
                    chargePointSerialNumber: configuration.id,
                    firmwareVersion: "1.0.0"
                )
            )
        case (.bootNotification(let reason), true):
            return call(
                OCPP2.BootNotificationRequest(
                    chargingStation: OCPP2.ChargingStation(
                        model: configuration.model,
                        vendorName: configuration.vendor,
                        serialNumber: configuration.id,
                        firmwareVersion: "1.0.0"
                    ),
                    reason: reason
                )
            )
        case (.heartbeat, _):
            return Frame.call(id: id, action: action, payload: Frame.emptyObject)
        case (.statusNotification(let status, let timestamp), false):
            return call(
                OCPP16.StatusNotificationRequest(
                    connectorId: SimulatedChargerCore.outlet,
                    status: status,
                    timestamp: OCPPTimestamp.format(timestamp)
                )
            )
        case (.statusNotification(let status, let timestamp), true):
            return call(
                OCPP2.StatusNotificationRequest(
                    timestamp: OCPPTimestamp.format(timestamp),
                    connectorStatus: status,
                    evseId: SimulatedChargerCore.outlet,
                    connectorId: 1
                )
            )
        case (.authorize(let idTag), false):
            return call(OCPP16.AuthorizeRequest(idTag: idTag))
        case (.authorize(let idTag), true):
            return call(OCPP2.AuthorizeRequest(idToken: OCPP2.IdToken(idToken: idTag, type: "ISO14443")))
        case (.startTransaction(_, let idTag, let meterStart, let timestamp), _):
            return call(
                OCPP16.StartTransactionRequest(
                    connectorId: SimulatedChargerCore.outlet,
                    idTag: idTag,
                    meterStart: Int(wholeWattHours(meterStart)),
                    timestamp: OCPPTimestamp.format(timestamp)
                )
            )
        case (.stopTransaction(let sessionID, let idTag, let meterStop, let timestamp, let reason), _):
            guard let transactionID = core.transactionID16(ofSession: sessionID) else { return nil }
            var request = OCPP16.StopTransactionRequest(
                meterStop: Int(wholeWattHours(meterStop)),
                timestamp: OCPPTimestamp.format(timestamp),
                transactionId: transactionID,
                reason: reason
            )
            request.idTag = idTag
            return call(request)
        case (.meterValues(let sessionID, let sample), false):
            return call(
                OCPP16.MeterValuesRequest(
                    connectorId: SimulatedChargerCore.outlet,
                    transactionId: core.transactionID16(ofSession: sessionID),
                    meterValue: [
                        OCPP16.MeterValue(
                            timestamp: OCPPTimestamp.format(sample.timestamp),
                            sampledValue: sample.sampledValues16()
                        )
                    ]
                )
            )
        case (.meterValues(_, let sample), true):
            return call(
                OCPP2.MeterValuesRequest(
                    evseId: SimulatedChargerCore.outlet,
                    meterValue: [
                        OCPP2.MeterValue(
                            timestamp: OCPPTimestamp.format(sample.timestamp),
                            sampledValue: sample.sampledValues2()
                        )
                    ]
                )
            )
        case (.transactionEvent(let event), _):
            var transaction = OCPP2.Transaction(
                transactionId: event.transactionID,
                chargingState: event.chargingState,
                stoppedReason: event.stoppedReason
            )
            transaction.remoteStartId = event.remoteStartID
            var request = OCPP2.TransactionEventRequest(
                eventType: event.eventType,
                timestamp: OCPPTimestamp.format(event.timestamp),
                triggerReason: event.triggerReason,
                seqNo: event.seqNo,
                transactionInfo: transaction,
                idToken: event.idToken.map { OCPP2.IdToken(idToken: $0, type: "ISO14443") },
                evse: event.eventType == "Started" ? OCPP2.EVSE(id: SimulatedChargerCore.outlet, connectorId: 1) : nil,
                meterValue: event.sample.map {
                    [
                        OCPP2.MeterValue(
                            timestamp: OCPPTimestamp.format($0.timestamp),
                            sampledValue: $0.sampledValues2()
                        )
                    ]
                }
            )
            if event.eventType == "Started" {
                request.numberOfPhasesUsed = configuration.phases
            }
            return call(request)
        }
    }
}

/// The register in whole Wh as a meter shows it: rounded down, after removing the floating-point error of the
/// integration (so 1499.9999999 Wh reads 1500).
func wholeWattHours(_ energy: Double) -> Double {
    ((energy * 1000).rounded() / 1000).rounded(.down)
}
