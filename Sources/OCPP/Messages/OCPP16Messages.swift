/// OCPP 1.6J messages LoadGuard reads or writes.
///
/// Decoding is lenient: unknown fields are ignored; numbers may come as strings; timestamps are kept as the
/// raw strings that were sent (chargers send `0000-00-00T00:00:00.000Z`; ``OCPPTimestamp/parse(_:)`` reads
/// them when they are dates); enumerations are kept as strings so an unexpected value never fails a message.
public enum OCPP16 {
    // MARK: BootNotification

    public struct BootNotificationRequest: Codable, Hashable, Sendable {
        public static let action = "BootNotification"
        public var chargePointVendor: String
        public var chargePointModel: String
        public var chargePointSerialNumber: String?
        public var chargeBoxSerialNumber: String?
        public var firmwareVersion: String?
        public var iccid: String?
        public var imsi: String?
        public var meterType: String?
        public var meterSerialNumber: String?

        public init(
            chargePointVendor: String,
            chargePointModel: String,
            chargePointSerialNumber: String? = nil,
            firmwareVersion: String? = nil
        ) {
            self.chargePointVendor = chargePointVendor
            self.chargePointModel = chargePointModel
            self.chargePointSerialNumber = chargePointSerialNumber
            self.firmwareVersion = firmwareVersion
        }
    }

    public struct BootNotificationConfirmation: Codable, Hashable, Sendable {
        /// `Accepted`, `Pending` or `Rejected`.
        public var status: String
        public var currentTime: String
        @Lenient public var interval: Int

        public init(status: String, currentTime: String, interval: Int) {
            self.status = status
            self.currentTime = currentTime
            self.interval = interval
        }
    }

    // MARK: Heartbeat

    public struct HeartbeatConfirmation: Codable, Hashable, Sendable {
        public var currentTime: String

        public init(currentTime: String) { self.currentTime = currentTime }
    }

    // MARK: StatusNotification

    public struct StatusNotificationRequest: Codable, Hashable, Sendable {
        public static let action = "StatusNotification"
        @Lenient public var connectorId: Int
        public var errorCode: String
        /// `Available`, `Preparing`, `Charging`, `SuspendedEVSE`, `SuspendedEV`, `Finishing`, `Reserved`,
        /// `Unavailable`, `Faulted`.
        public var status: String
        public var timestamp: String?
        public var info: String?
        public var vendorId: String?
        public var vendorErrorCode: String?

        public init(connectorId: Int, errorCode: String = "NoError", status: String, timestamp: String? = nil) {
            self.connectorId = connectorId
            self.errorCode = errorCode
            self.status = status
            self.timestamp = timestamp
        }
    }

    // MARK: MeterValues

    public struct MeterValuesRequest: Codable, Hashable, Sendable {
        public static let action = "MeterValues"
        @Lenient public var connectorId: Int
        @Lenient public var transactionId: Int?
        public var meterValue: [MeterValue]

        public init(connectorId: Int, transactionId: Int? = nil, meterValue: [MeterValue]) {
            self.connectorId = connectorId
            self.transactionId = transactionId
            self.meterValue = meterValue
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

    public struct SampledValue: Codable, Hashable, Sendable {
        /// The value as sent: a string in 1.6 (a number is accepted and kept as its text).
        public var value: String
        public var context: String?
        /// `Raw` (default) or `SignedData`.
        public var format: String?
        /// Default `Energy.Active.Import.Register`.
        public var measurand: String?
        /// `L1`, `L2`, `L3`, `N`, `L1-N`, …, `L1-L2`, …
        public var phase: String?
        public var location: String?
        /// Default `Wh`.
        public var unit: String?

        public init(value: String, measurand: String? = nil, phase: String? = nil, unit: String? = nil) {
            self.value = value
            self.measurand = measurand
            self.phase = phase
            self.unit = unit
        }

        /// ``value`` as a number, if it is one (and not signed data).
        public var numericValue: Double? {
            guard format != "SignedData", let number = Double(value), number.isFinite else { return nil }
            return number
        }

        enum CodingKeys: String, CodingKey {
            case value, context, format, measurand, phase, location, unit
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let text = try? container.decode(String.self, forKey: .value) {
                value = text
            } else {
                value = String(try container.decode(Double.self, forKey: .value))
            }
            context = try? container.decodeIfPresent(String.self, forKey: .context)
            format = try? container.decodeIfPresent(String.self, forKey: .format)
            measurand = try? container.decodeIfPresent(String.self, forKey: .measurand)
            phase = try? container.decodeIfPresent(String.self, forKey: .phase)
            location = try? container.decodeIfPresent(String.self, forKey: .location)
            unit = try? container.decodeIfPresent(String.self, forKey: .unit)
        }
    }

    // MARK: Authorize

    public struct IdTagInfo: Codable, Hashable, Sendable {
        /// `Accepted`, `Blocked`, `Expired`, `Invalid`, `ConcurrentTx`.
        public var status: String
        public var expiryDate: String?
        public var parentIdTag: String?

        public init(status: String) { self.status = status }
    }

    public struct AuthorizeRequest: Codable, Hashable, Sendable {
        public static let action = "Authorize"
        public var idTag: String

        public init(idTag: String) { self.idTag = idTag }
    }

    public struct AuthorizeConfirmation: Codable, Hashable, Sendable {
        public var idTagInfo: IdTagInfo

        public init(idTagInfo: IdTagInfo) { self.idTagInfo = idTagInfo }
    }

    // MARK: Start/StopTransaction

    public struct StartTransactionRequest: Codable, Hashable, Sendable {
        public static let action = "StartTransaction"
        @Lenient public var connectorId: Int
        public var idTag: String
        /// Wh.
        @Lenient public var meterStart: Int
        @Lenient public var reservationId: Int?
        public var timestamp: String

        public init(connectorId: Int, idTag: String, meterStart: Int, timestamp: String) {
            self.connectorId = connectorId
            self.idTag = idTag
            self.meterStart = meterStart
            self.timestamp = timestamp
        }
    }

    public struct StartTransactionConfirmation: Codable, Hashable, Sendable {
        public var idTagInfo: IdTagInfo
        @Lenient public var transactionId: Int

        public init(idTagInfo: IdTagInfo, transactionId: Int) {
            self.idTagInfo = idTagInfo
            self.transactionId = transactionId
        }
    }

    public struct StopTransactionRequest: Codable, Hashable, Sendable {
        public static let action = "StopTransaction"
        public var idTag: String?
        /// Wh.
        @Lenient public var meterStop: Int
        public var timestamp: String
        @Lenient public var transactionId: Int
        /// `EmergencyStop`, `EVDisconnected`, `HardReset`, `Local`, `Other`, `PowerLoss`, `Reboot`, `Remote`, …
        public var reason: String?
        public var transactionData: [MeterValue]?

        public init(meterStop: Int, timestamp: String, transactionId: Int, reason: String? = nil) {
            self.meterStop = meterStop
            self.timestamp = timestamp
            self.transactionId = transactionId
            self.reason = reason
        }
    }

    public struct StopTransactionConfirmation: Codable, Hashable, Sendable {
        public var idTagInfo: IdTagInfo?

        public init(idTagInfo: IdTagInfo? = nil) { self.idTagInfo = idTagInfo }
    }

    // MARK: Smart charging

    public struct ChargingSchedulePeriod: Codable, Hashable, Sendable {
        /// Seconds from the start of the schedule.
        @Lenient public var startPeriod: Int
        /// In the schedule's `chargingRateUnit`.
        @Lenient public var limit: Double
        @Lenient public var numberPhases: Int?

        public init(startPeriod: Int, limit: Double, numberPhases: Int? = nil) {
            self.startPeriod = startPeriod
            self.limit = limit
            self.numberPhases = numberPhases
        }
    }

    public struct ChargingSchedule: Codable, Hashable, Sendable {
        @Lenient public var duration: Int?
        public var startSchedule: String?
        /// `A` or `W`.
        public var chargingRateUnit: String
        public var chargingSchedulePeriod: [ChargingSchedulePeriod]
        @Lenient public var minChargingRate: Double?

        public init(
            duration: Int? = nil,
            startSchedule: String? = nil,
            chargingRateUnit: String,
            chargingSchedulePeriod: [ChargingSchedulePeriod],
            minChargingRate: Double? = nil
        ) {
            self.duration = duration
            self.startSchedule = startSchedule
            self.chargingRateUnit = chargingRateUnit
            self.chargingSchedulePeriod = chargingSchedulePeriod
            self.minChargingRate = minChargingRate
        }
    }

    public struct ChargingProfile: Codable, Hashable, Sendable {
        @Lenient public var chargingProfileId: Int
        @Lenient public var transactionId: Int?
        @Lenient public var stackLevel: Int
        /// `ChargePointMaxProfile`, `TxDefaultProfile`, `TxProfile`.
        public var chargingProfilePurpose: String
        /// `Absolute`, `Recurring`, `Relative`.
        public var chargingProfileKind: String
        public var recurrencyKind: String?
        public var validFrom: String?
        public var validTo: String?
        public var chargingSchedule: ChargingSchedule

        public init(
            chargingProfileId: Int,
            transactionId: Int? = nil,
            stackLevel: Int,
            chargingProfilePurpose: String,
            chargingProfileKind: String,
            recurrencyKind: String? = nil,
            validFrom: String? = nil,
            validTo: String? = nil,
            chargingSchedule: ChargingSchedule
        ) {
            self.chargingProfileId = chargingProfileId
            self.transactionId = transactionId
            self.stackLevel = stackLevel
            self.chargingProfilePurpose = chargingProfilePurpose
            self.chargingProfileKind = chargingProfileKind
            self.recurrencyKind = recurrencyKind
            self.validFrom = validFrom
            self.validTo = validTo
            self.chargingSchedule = chargingSchedule
        }
    }

    public struct SetChargingProfileRequest: Codable, Hashable, Sendable {
        public static let action = "SetChargingProfile"
        @Lenient public var connectorId: Int
        public var csChargingProfiles: ChargingProfile

        public init(connectorId: Int, csChargingProfiles: ChargingProfile) {
            self.connectorId = connectorId
            self.csChargingProfiles = csChargingProfiles
        }
    }

    /// The answer to SetChargingProfile. Fields beyond `status` (the AcTEC wallbox adds `connectorId` and a
    /// `chargingSchedule`) are ignored.
    public struct SetChargingProfileConfirmation: Codable, Hashable, Sendable {
        /// `Accepted`, `Rejected`, `NotSupported`.
        public var status: String

        public init(status: String) { self.status = status }
    }

    public struct ClearChargingProfileRequest: Codable, Hashable, Sendable {
        public static let action = "ClearChargingProfile"
        @Lenient public var id: Int?
        @Lenient public var connectorId: Int?
        public var chargingProfilePurpose: String?
        @Lenient public var stackLevel: Int?

        public init(
            id: Int? = nil,
            connectorId: Int? = nil,
            chargingProfilePurpose: String? = nil,
            stackLevel: Int? = nil
        ) {
            self.id = id
            self.connectorId = connectorId
            self.chargingProfilePurpose = chargingProfilePurpose
            self.stackLevel = stackLevel
        }
    }

    public struct ClearChargingProfileConfirmation: Codable, Hashable, Sendable {
        /// `Accepted` or `Unknown`.
        public var status: String

        public init(status: String) { self.status = status }
    }

    // MARK: GetConfiguration

    public struct GetConfigurationRequest: Codable, Hashable, Sendable {
        public static let action = "GetConfiguration"
        public var key: [String]?

        public init(key: [String]? = nil) { self.key = key }
    }

    public struct KeyValue: Codable, Hashable, Sendable {
        public var key: String
        public var readonly: Bool
        public var value: String?

        public init(key: String, readonly: Bool, value: String? = nil) {
            self.key = key
            self.readonly = readonly
            self.value = value
        }
    }

    public struct GetConfigurationConfirmation: Codable, Hashable, Sendable {
        public var configurationKey: [KeyValue]?
        public var unknownKey: [String]?

        public init(configurationKey: [KeyValue]? = nil, unknownKey: [String]? = nil) {
            self.configurationKey = configurationKey
            self.unknownKey = unknownKey
        }
    }
}
