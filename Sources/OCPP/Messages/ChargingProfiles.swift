public import Foundation

/// The unit of a charging limit.
public enum ChargingRateUnit: String, Sendable, Hashable, Codable {
    case amperes = "A"
    case watts = "W"
}

/// A limit LoadGuard sets on a charger: a value in amperes (per phase) or watts (total), optionally with the
/// number of phases the charger may use.
public struct ChargingLimit: Sendable, Hashable {
    public var value: Double
    public var unit: ChargingRateUnit
    /// 1 or 3 (`nil`: the charger decides; OCPP assumes 3).
    public var numberPhases: Int?

    public init(value: Double, unit: ChargingRateUnit, numberPhases: Int? = nil) {
        self.value = value
        self.unit = unit
        self.numberPhases = numberPhases
    }

    public static func amperes(_ value: Double, numberPhases: Int? = nil) -> ChargingLimit {
        ChargingLimit(value: value, unit: .amperes, numberPhases: numberPhases)
    }

    public static func watts(_ value: Double, numberPhases: Int? = nil) -> ChargingLimit {
        ChargingLimit(value: value, unit: .watts, numberPhases: numberPhases)
    }

    /// The value as sent: never negative, amperes to 0.1 A, watts to 1 W (OCPP 1.6 requires a multiple of 0.1).
    public var wireValue: Double {
        let clamped = value.isFinite ? max(0, value) : 0
        switch unit {
        case .amperes: return (clamped * 10).rounded() / 10
        case .watts: return clamped.rounded()
        }
    }
}

/// Profile purposes used by LoadGuard.
public enum ChargingProfilePurpose {
    /// 1.6: the limit of the whole charge point, connector 0.
    public static let chargePointMax = "ChargePointMaxProfile"
    /// 2.x: the limit of the whole charging station, EVSE 0.
    public static let chargingStationMax = "ChargingStationMaxProfile"
    /// 2.x: a limit from an external system (an energy manager such as LoadGuard).
    public static let chargingStationExternalConstraints = "ChargingStationExternalConstraints"
    /// 1.6 and 2.x: the default for new transactions on a connector / EVSE (0: all).
    public static let txDefault = "TxDefaultProfile"
    /// 1.6 and 2.x: the profile of one running transaction.
    public static let tx = "TxProfile"
}

extension OCPP16.SetChargingProfileRequest {
    /// A `ChargePointMaxProfile` on connector 0 holding `limit` from `startSchedule` on.
    ///
    /// - Parameters:
    ///   - profileID: LoadGuard's profile id for this charger (setting it again replaces the profile).
    ///   - stackLevel: the stack level; with one LoadGuard profile per purpose any level works.
    ///   - startSchedule: start of the schedule (`Absolute`); `nil` gives a `Relative` profile without start.
    public static func chargePointMaxProfile(
        limit: ChargingLimit,
        profileID: Int,
        stackLevel: Int,
        startSchedule: Date?
    ) -> Self {
        makeProfile(
            connectorID: 0,
            purpose: ChargingProfilePurpose.chargePointMax,
            limit: limit,
            profileID: profileID,
            stackLevel: stackLevel,
            startSchedule: startSchedule
        )
    }

    /// A `TxDefaultProfile` on `connectorID` (0: every connector), normally with a stack level above the
    /// CSMS's own default profiles.
    public static func txDefaultProfile(
        connectorID: Int,
        limit: ChargingLimit,
        profileID: Int,
        stackLevel: Int,
        startSchedule: Date?
    ) -> Self {
        makeProfile(
            connectorID: connectorID,
            purpose: ChargingProfilePurpose.txDefault,
            limit: limit,
            profileID: profileID,
            stackLevel: stackLevel,
            startSchedule: startSchedule
        )
    }

    private static func makeProfile(
        connectorID: Int,
        purpose: String,
        limit: ChargingLimit,
        profileID: Int,
        stackLevel: Int,
        startSchedule: Date?
    ) -> Self {
        Self(
            connectorId: connectorID,
            csChargingProfiles: OCPP16.ChargingProfile(
                chargingProfileId: profileID,
                stackLevel: stackLevel,
                chargingProfilePurpose: purpose,
                chargingProfileKind: startSchedule == nil ? "Relative" : "Absolute",
                chargingSchedule: OCPP16.ChargingSchedule(
                    startSchedule: startSchedule.map(OCPPTimestamp.format),
                    chargingRateUnit: limit.unit.rawValue,
                    chargingSchedulePeriod: [
                        OCPP16.ChargingSchedulePeriod(
                            startPeriod: 0,
                            limit: limit.wireValue,
                            numberPhases: limit.numberPhases
                        )
                    ]
                )
            )
        )
    }
}

extension OCPP16.ClearChargingProfileRequest {
    /// Clears LoadGuard's profile by its id.
    public static func profile(id: Int) -> Self { Self(id: id) }

    /// `true` if a CSMS's clear request removes a profile with these properties (OCPP 1.6 §5.5: an id matches
    /// that profile alone; otherwise every given criterion must match).
    public func matches(profileID: Int, connectorID: Int, purpose: String, stackLevel: Int) -> Bool {
        if let id { return id == profileID }
        if let connectorId, connectorId != connectorID { return false }
        if let chargingProfilePurpose, chargingProfilePurpose != purpose { return false }
        if let requested = self.stackLevel, requested != stackLevel { return false }
        return true
    }
}

extension OCPP2.SetChargingProfileRequest {
    /// A `ChargingStationMaxProfile` on EVSE 0.
    public static func chargingStationMaxProfile(
        limit: ChargingLimit,
        profileID: Int,
        stackLevel: Int,
        startSchedule: Date?,
        scheduleID: Int = 1
    ) -> Self {
        makeProfile(
            evseID: 0,
            purpose: ChargingProfilePurpose.chargingStationMax,
            limit: limit,
            profileID: profileID,
            stackLevel: stackLevel,
            startSchedule: startSchedule,
            scheduleID: scheduleID
        )
    }

    /// A `TxDefaultProfile` on `evseID` (0: every EVSE).
    public static func txDefaultProfile(
        evseID: Int,
        limit: ChargingLimit,
        profileID: Int,
        stackLevel: Int,
        startSchedule: Date?,
        scheduleID: Int = 1
    ) -> Self {
        makeProfile(
            evseID: evseID,
            purpose: ChargingProfilePurpose.txDefault,
            limit: limit,
            profileID: profileID,
            stackLevel: stackLevel,
            startSchedule: startSchedule,
            scheduleID: scheduleID
        )
    }

    /// A `ChargingStationExternalConstraints` profile on `evseID` (0: the whole station), for stations that
    /// accept external constraints from a local energy manager.
    public static func externalConstraints(
        evseID: Int,
        limit: ChargingLimit,
        profileID: Int,
        stackLevel: Int,
        startSchedule: Date?,
        scheduleID: Int = 1
    ) -> Self {
        makeProfile(
            evseID: evseID,
            purpose: ChargingProfilePurpose.chargingStationExternalConstraints,
            limit: limit,
            profileID: profileID,
            stackLevel: stackLevel,
            startSchedule: startSchedule,
            scheduleID: scheduleID
        )
    }

    private static func makeProfile(
        evseID: Int,
        purpose: String,
        limit: ChargingLimit,
        profileID: Int,
        stackLevel: Int,
        startSchedule: Date?,
        scheduleID: Int
    ) -> Self {
        Self(
            evseId: evseID,
            chargingProfile: OCPP2.ChargingProfile(
                id: profileID,
                stackLevel: stackLevel,
                chargingProfilePurpose: purpose,
                chargingProfileKind: startSchedule == nil ? "Relative" : "Absolute",
                chargingSchedule: [
                    OCPP2.ChargingSchedule(
                        id: scheduleID,
                        startSchedule: startSchedule.map(OCPPTimestamp.format),
                        chargingRateUnit: limit.unit.rawValue,
                        chargingSchedulePeriod: [
                            OCPP2.ChargingSchedulePeriod(
                                startPeriod: 0,
                                limit: limit.wireValue,
                                numberPhases: limit.numberPhases
                            )
                        ]
                    )
                ]
            )
        )
    }
}

extension OCPP2.ClearChargingProfileRequest {
    /// Clears LoadGuard's profile by its id.
    public static func profile(id: Int) -> Self { Self(chargingProfileId: id) }

    /// `true` if a CSMS's clear request removes a profile with these properties (an id matches that profile
    /// alone; otherwise every given criterion must match).
    public func matches(profileID: Int, evseID: Int, purpose: String, stackLevel: Int) -> Bool {
        if let chargingProfileId { return chargingProfileId == profileID }
        guard let criteria = chargingProfileCriteria else { return true }
        if let evseId = criteria.evseId, evseId != evseID { return false }
        if let requested = criteria.chargingProfilePurpose, requested != purpose { return false }
        if let requested = criteria.stackLevel, requested != stackLevel { return false }
        return true
    }
}
