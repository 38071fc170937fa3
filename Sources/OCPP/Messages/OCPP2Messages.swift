/// OCPP 2.0.1 and 2.1 messages LoadGuard reads or writes (2.1 extends 2.0.1 compatibly for these fields).
///
/// Decoding is lenient as in ``OCPP16``: unknown fields ignored, numbers accepted as strings, timestamps
/// kept raw, enumerations as strings.
public enum OCPP2 {
    // MARK: Common types

    public struct EVSE: Codable, Hashable, Sendable {
        @Lenient public var id: Int
        @Lenient public var connectorId: Int?

        public init(id: Int, connectorId: Int? = nil) {
            self.id = id
            self.connectorId = connectorId
        }
    }

    public struct StatusInfo: Codable, Hashable, Sendable {
        public var reasonCode: String
        public var additionalInfo: String?

        public init(reasonCode: String, additionalInfo: String? = nil) {
            self.reasonCode = reasonCode
            self.additionalInfo = additionalInfo
        }
    }

    public struct IdToken: Codable, Hashable, Sendable {
        public var idToken: String
        /// `Central`, `eMAID`, `ISO14443`, `ISO15693`, `KeyCode`, `Local`, `MacAddress`, `NoAuthorization`, …
        public var type: String

        public init(idToken: String, type: String) {
            self.idToken = idToken
            self.type = type
        }
    }

    public struct IdTokenInfo: Codable, Hashable, Sendable {
        /// `Accepted`, `Blocked`, `ConcurrentTx`, `Expired`, `Invalid`, `NoCredit`, `NotAllowedTypeEVSE`,
        /// `NotAtThisLocation`, `NotAtThisTime`, `Unknown`.
        public var status: String
        public var cacheExpiryDateTime: String?

        public init(status: String) { self.status = status }
    }

    public struct Component: Codable, Hashable, Sendable {
        public var name: String
        public var instance: String?
        public var evse: EVSE?

        public init(name: String, instance: String? = nil, evse: EVSE? = nil) {
            self.name = name
            self.instance = instance
            self.evse = evse
        }
    }

    public struct Variable: Codable, Hashable, Sendable {
        public var name: String
        public var instance: String?

        public init(name: String, instance: String? = nil) {
            self.name = name
            self.instance = instance
        }
    }

    // MARK: BootNotification

    public struct ChargingStation: Codable, Hashable, Sendable {
        public var model: String
        public var vendorName: String
        public var serialNumber: String?
        public var firmwareVersion: String?

        public init(model: String, vendorName: String, serialNumber: String? = nil, firmwareVersion: String? = nil) {
            self.model = model
            self.vendorName = vendorName
            self.serialNumber = serialNumber
            self.firmwareVersion = firmwareVersion
        }
    }

    public struct BootNotificationRequest: Codable, Hashable, Sendable {
        public static let action = "BootNotification"
        public var chargingStation: ChargingStation
        /// `PowerUp`, `Triggered`, `FirmwareUpdate`, …
        public var reason: String

        public init(chargingStation: ChargingStation, reason: String) {
            self.chargingStation = chargingStation
            self.reason = reason
        }
    }

    public struct BootNotificationResponse: Codable, Hashable, Sendable {
        public var currentTime: String
        @Lenient public var interval: Int
        /// `Accepted`, `Pending`, `Rejected`.
        public var status: String
        public var statusInfo: StatusInfo?

        public init(currentTime: String, interval: Int, status: String) {
            self.currentTime = currentTime
            self.interval = interval
            self.status = status
        }
    }

    // MARK: Heartbeat

    public struct HeartbeatResponse: Codable, Hashable, Sendable {
        public var currentTime: String

        public init(currentTime: String) { self.currentTime = currentTime }
    }

    // MARK: StatusNotification

    public struct StatusNotificationRequest: Codable, Hashable, Sendable {
        public static let action = "StatusNotification"
        public var timestamp: String
        /// `Available`, `Occupied`, `Reserved`, `Unavailable`, `Faulted`.
        public var connectorStatus: String
        @Lenient public var evseId: Int
        @Lenient public var connectorId: Int

        public init(timestamp: String, connectorStatus: String, evseId: Int, connectorId: Int) {
            self.timestamp = timestamp
            self.connectorStatus = connectorStatus
            self.evseId = evseId
            self.connectorId = connectorId
        }
    }

    // MARK: MeterValues

    public struct UnitOfMeasure: Codable, Hashable, Sendable {
        /// Default `Wh`.
        public var unit: String?
        /// Power of ten; default 0.
        @Lenient public var multiplier: Int?

        public init(unit: String? = nil, multiplier: Int? = nil) {
            self.unit = unit
            self.multiplier = multiplier
        }
    }

    public struct SampledValue: Codable, Hashable, Sendable {
        @Lenient public var value: Double
        public var context: String?
        /// Default `Energy.Active.Import.Register`.
        public var measurand: String?
        public var phase: String?
        public var location: String?
        public var unitOfMeasure: UnitOfMeasure?

        public init(value: Double, measurand: String? = nil, phase: String? = nil, unitOfMeasure: UnitOfMeasure? = nil)
        {
            self.value = value
            self.measurand = measurand
            self.phase = phase
            self.unitOfMeasure = unitOfMeasure
        }
    }

    public struct MeterValue: Codable, Hashable, Sendable {
        public var timestamp: String
        public var sampledValue: [SampledValue]

        public init(timestamp: String, sampledValue: [SampledValue]) {
            self.timestamp = timestamp
            self.sampledValue = sampledValue
        }
    }

    public struct MeterValuesRequest: Codable, Hashable, Sendable {
        public static let action = "MeterValues"
        @Lenient public var evseId: Int
        public var meterValue: [MeterValue]

        public init(evseId: Int, meterValue: [MeterValue]) {
            self.evseId = evseId
            self.meterValue = meterValue
        }
    }

    // MARK: TransactionEvent

    public struct Transaction: Codable, Hashable, Sendable {
        public var transactionId: String
        /// `Charging`, `EVConnected`, `SuspendedEV`, `SuspendedEVSE`, `Idle`.
        public var chargingState: String?
        @Lenient public var timeSpentCharging: Int?
        public var stoppedReason: String?
        @Lenient public var remoteStartId: Int?

        public init(transactionId: String, chargingState: String? = nil, stoppedReason: String? = nil) {
            self.transactionId = transactionId
            self.chargingState = chargingState
            self.stoppedReason = stoppedReason
        }
    }

    public struct TransactionEventRequest: Codable, Hashable, Sendable {
        public static let action = "TransactionEvent"
        /// `Started`, `Updated`, `Ended`.
        public var eventType: String
        public var timestamp: String
        public var triggerReason: String
        @Lenient public var seqNo: Int
        public var offline: Bool?
        @Lenient public var numberOfPhasesUsed: Int?
        @Lenient public var cableMaxCurrent: Int?
        @Lenient public var reservationId: Int?
        public var transactionInfo: Transaction
        public var idToken: IdToken?
        public var evse: EVSE?
        public var meterValue: [MeterValue]?

        public init(
            eventType: String,
            timestamp: String,
            triggerReason: String,
            seqNo: Int,
            transactionInfo: Transaction,
            idToken: IdToken? = nil,
            evse: EVSE? = nil,
            meterValue: [MeterValue]? = nil
        ) {
            self.eventType = eventType
            self.timestamp = timestamp
            self.triggerReason = triggerReason
            self.seqNo = seqNo
            self.transactionInfo = transactionInfo
            self.idToken = idToken
            self.evse = evse
            self.meterValue = meterValue
        }
    }

    public struct TransactionEventResponse: Codable, Hashable, Sendable {
        @Lenient public var totalCost: Double?
        @Lenient public var chargingPriority: Int?
        public var idTokenInfo: IdTokenInfo?

        public init(idTokenInfo: IdTokenInfo? = nil) { self.idTokenInfo = idTokenInfo }
    }

    // MARK: Authorize

    public struct AuthorizeRequest: Codable, Hashable, Sendable {
        public static let action = "Authorize"
        public var idToken: IdToken

        public init(idToken: IdToken) { self.idToken = idToken }
    }

    public struct AuthorizeResponse: Codable, Hashable, Sendable {
        public var idTokenInfo: IdTokenInfo

        public init(idTokenInfo: IdTokenInfo) { self.idTokenInfo = idTokenInfo }
    }

    // MARK: Smart charging

    public struct ChargingSchedulePeriod: Codable, Hashable, Sendable {
        @Lenient public var startPeriod: Int
        /// Required in 2.0.1, optional in 2.1 (which adds per-phase limits and setpoints LoadGuard does not use).
        @Lenient public var limit: Double?
        @Lenient public var numberPhases: Int?
        @Lenient public var phaseToUse: Int?

        public init(startPeriod: Int, limit: Double, numberPhases: Int? = nil, phaseToUse: Int? = nil) {
            self.startPeriod = startPeriod
            self.limit = limit
            self.numberPhases = numberPhases
            self.phaseToUse = phaseToUse
        }
    }

    public struct ChargingSchedule: Codable, Hashable, Sendable {
        @Lenient public var id: Int
        public var startSchedule: String?
        @Lenient public var duration: Int?
        /// `A` or `W`.
        public var chargingRateUnit: String
        public var chargingSchedulePeriod: [ChargingSchedulePeriod]
        @Lenient public var minChargingRate: Double?

        public init(
            id: Int,
            startSchedule: String? = nil,
            duration: Int? = nil,
            chargingRateUnit: String,
            chargingSchedulePeriod: [ChargingSchedulePeriod],
            minChargingRate: Double? = nil
        ) {
            self.id = id
            self.startSchedule = startSchedule
            self.duration = duration
            self.chargingRateUnit = chargingRateUnit
            self.chargingSchedulePeriod = chargingSchedulePeriod
            self.minChargingRate = minChargingRate
        }
    }

    public struct ChargingProfile: Codable, Hashable, Sendable {
        @Lenient public var id: Int
        @Lenient public var stackLevel: Int
        /// `ChargingStationExternalConstraints`, `ChargingStationMaxProfile`, `TxDefaultProfile`, `TxProfile`
        /// (2.1 adds `PriorityCharging`, `LocalGeneration`).
        public var chargingProfilePurpose: String
        /// `Absolute`, `Recurring`, `Relative` (2.1: `Dynamic`).
        public var chargingProfileKind: String
        public var recurrencyKind: String?
        public var validFrom: String?
        public var validTo: String?
        public var transactionId: String?
        public var chargingSchedule: [ChargingSchedule]

        public init(
            id: Int,
            stackLevel: Int,
            chargingProfilePurpose: String,
            chargingProfileKind: String,
            recurrencyKind: String? = nil,
            validFrom: String? = nil,
            validTo: String? = nil,
            transactionId: String? = nil,
            chargingSchedule: [ChargingSchedule]
        ) {
            self.id = id
            self.stackLevel = stackLevel
            self.chargingProfilePurpose = chargingProfilePurpose
            self.chargingProfileKind = chargingProfileKind
            self.recurrencyKind = recurrencyKind
            self.validFrom = validFrom
            self.validTo = validTo
            self.transactionId = transactionId
            self.chargingSchedule = chargingSchedule
        }
    }

    public struct SetChargingProfileRequest: Codable, Hashable, Sendable {
        public static let action = "SetChargingProfile"
        @Lenient public var evseId: Int
        public var chargingProfile: ChargingProfile

        public init(evseId: Int, chargingProfile: ChargingProfile) {
            self.evseId = evseId
            self.chargingProfile = chargingProfile
        }
    }

    public struct SetChargingProfileResponse: Codable, Hashable, Sendable {
        /// `Accepted` or `Rejected`.
        public var status: String
        public var statusInfo: StatusInfo?

        public init(status: String) { self.status = status }
    }

    public struct ClearChargingProfileCriteria: Codable, Hashable, Sendable {
        @Lenient public var evseId: Int?
        public var chargingProfilePurpose: String?
        @Lenient public var stackLevel: Int?

        public init(evseId: Int? = nil, chargingProfilePurpose: String? = nil, stackLevel: Int? = nil) {
            self.evseId = evseId
            self.chargingProfilePurpose = chargingProfilePurpose
            self.stackLevel = stackLevel
        }
    }

    public struct ClearChargingProfileRequest: Codable, Hashable, Sendable {
        public static let action = "ClearChargingProfile"
        @Lenient public var chargingProfileId: Int?
        public var chargingProfileCriteria: ClearChargingProfileCriteria?

        public init(chargingProfileId: Int? = nil, chargingProfileCriteria: ClearChargingProfileCriteria? = nil) {
            self.chargingProfileId = chargingProfileId
            self.chargingProfileCriteria = chargingProfileCriteria
        }
    }

    public struct ClearChargingProfileResponse: Codable, Hashable, Sendable {
        /// `Accepted` or `Unknown`.
        public var status: String
        public var statusInfo: StatusInfo?

        public init(status: String) { self.status = status }
    }

    // MARK: GetVariables

    public struct GetVariableData: Codable, Hashable, Sendable {
        /// `Actual` (default), `Target`, `MinSet`, `MaxSet`.
        public var attributeType: String?
        public var component: Component
        public var variable: Variable

        public init(attributeType: String? = nil, component: Component, variable: Variable) {
            self.attributeType = attributeType
            self.component = component
            self.variable = variable
        }
    }

    public struct GetVariablesRequest: Codable, Hashable, Sendable {
        public static let action = "GetVariables"
        public var getVariableData: [GetVariableData]

        public init(getVariableData: [GetVariableData]) { self.getVariableData = getVariableData }
    }

    public struct GetVariableResult: Codable, Hashable, Sendable {
        /// `Accepted`, `Rejected`, `UnknownComponent`, `UnknownVariable`, `NotSupportedAttributeType`.
        public var attributeStatus: String
        public var attributeType: String?
        public var attributeValue: String?
        public var component: Component
        public var variable: Variable

        public init(attributeStatus: String, attributeValue: String? = nil, component: Component, variable: Variable) {
            self.attributeStatus = attributeStatus
            self.attributeValue = attributeValue
            self.component = component
            self.variable = variable
        }
    }

    public struct GetVariablesResponse: Codable, Hashable, Sendable {
        public var getVariableResult: [GetVariableResult]

        public init(getVariableResult: [GetVariableResult]) { self.getVariableResult = getVariableResult }
    }

    // MARK: NotifyEvent

    public struct EventData: Codable, Hashable, Sendable {
        @Lenient public var eventId: Int
        public var timestamp: String
        /// `Alerting`, `Delta`, `Periodic`.
        public var trigger: String
        public var actualValue: String
        public var eventNotificationType: String
        public var component: Component
        public var variable: Variable
        @Lenient public var cause: Int?
        public var techCode: String?
        public var techInfo: String?
        public var cleared: Bool?
        public var transactionId: String?

        public init(
            eventId: Int,
            timestamp: String,
            trigger: String,
            actualValue: String,
            eventNotificationType: String,
            component: Component,
            variable: Variable
        ) {
            self.eventId = eventId
            self.timestamp = timestamp
            self.trigger = trigger
            self.actualValue = actualValue
            self.eventNotificationType = eventNotificationType
            self.component = component
            self.variable = variable
        }
    }

    public struct NotifyEventRequest: Codable, Hashable, Sendable {
        public static let action = "NotifyEvent"
        public var generatedAt: String
        @Lenient public var seqNo: Int
        public var tbc: Bool?
        public var eventData: [EventData]

        public init(generatedAt: String, seqNo: Int, tbc: Bool? = nil, eventData: [EventData]) {
            self.generatedAt = generatedAt
            self.seqNo = seqNo
            self.tbc = tbc
            self.eventData = eventData
        }
    }
}
