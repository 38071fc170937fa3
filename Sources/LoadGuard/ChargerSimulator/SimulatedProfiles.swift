public import Foundation
public import OCPP

/// A charging profile as the simulated charger keeps it, the same for OCPP 1.6 and 2.x.
public struct SimulatedProfile: Sendable, Hashable {
    /// What a profile limits, in the order of composition.
    public enum Purpose: String, Sendable, Hashable {
        /// 1.6 `ChargePointMaxProfile`, 2.x `ChargingStationMaxProfile`: the whole charger, outlet 0.
        case chargerMax
        /// 2.x `ChargingStationExternalConstraints`: an energy manager's limit, on outlet 0 or one EVSE.
        case externalConstraints
        /// `TxDefaultProfile`: the default of transactions on one outlet, or on all (outlet 0).
        case txDefault
        /// `TxProfile`: one running transaction.
        case tx

        init?(wire: String) {
            switch wire {
            case ChargingProfilePurpose.chargePointMax, ChargingProfilePurpose.chargingStationMax: self = .chargerMax
            case ChargingProfilePurpose.chargingStationExternalConstraints: self = .externalConstraints
            case ChargingProfilePurpose.txDefault: self = .txDefault
            case ChargingProfilePurpose.tx: self = .tx
            default: return nil
            }
        }

        /// The purpose's name in `version`.
        public func wireName(for version: OCPPVersion) -> String {
            switch self {
            case .chargerMax:
                version == .v16 ? ChargingProfilePurpose.chargePointMax : ChargingProfilePurpose.chargingStationMax
            case .externalConstraints: ChargingProfilePurpose.chargingStationExternalConstraints
            case .txDefault: ChargingProfilePurpose.txDefault
            case .tx: ChargingProfilePurpose.tx
            }
        }
    }

    /// When the schedule starts.
    public enum Kind: Sendable, Hashable {
        /// At `startSchedule` (at the time the profile was set when the CSMS left it out).
        case absolute
        /// At the start of the transaction (at the time the profile was set while there is none).
        case relative
        /// Every day or week from `startSchedule` on.
        case recurring(period: TimeInterval)
    }

    public struct Period: Sendable, Hashable {
        /// Seconds from the start of the schedule.
        public var start: Int
        /// In the schedule's unit.
        public var limit: Double
        public var numberPhases: Int?

        public init(start: Int, limit: Double, numberPhases: Int? = nil) {
            self.start = start
            self.limit = limit
            self.numberPhases = numberPhases
        }
    }

    public var id: Int
    public var stackLevel: Int
    public var purpose: Purpose
    /// Connector (1.6) or EVSE (2.x); 0 is the whole charger.
    public var outlet: Int
    public var kind: Kind
    public var validFrom: Date?
    public var validTo: Date?
    /// The transaction a `TxProfile` belongs to (1.6 numbers as text), `nil` for the running one.
    public var transactionID: String?
    public var startSchedule: Date?
    /// Seconds; `nil`: the last period lasts for ever.
    public var duration: Int?
    public var unit: ChargingRateUnit
    public var periods: [Period]
    /// When the charger accepted it.
    public var receivedAt: Date

    public init(
        id: Int,
        stackLevel: Int,
        purpose: Purpose,
        outlet: Int,
        kind: Kind = .relative,
        validFrom: Date? = nil,
        validTo: Date? = nil,
        transactionID: String? = nil,
        startSchedule: Date? = nil,
        duration: Int? = nil,
        unit: ChargingRateUnit,
        periods: [Period],
        receivedAt: Date
    ) {
        self.id = id
        self.stackLevel = stackLevel
        self.purpose = purpose
        self.outlet = outlet
        self.kind = kind
        self.validFrom = validFrom
        self.validTo = validTo
        self.transactionID = transactionID
        self.startSchedule = startSchedule
        self.duration = duration
        self.unit = unit
        self.periods = periods
        self.receivedAt = receivedAt
    }

    /// The period that applies at `time`, or `nil` when the profile is not in force then (outside its validity,
    /// before its start, after its duration).
    ///
    /// - Parameter transactionStart: the start of the running transaction, the origin of `Relative` schedules.
    public func period(at time: Date, transactionStart: Date?) -> Period? {
        if let validFrom, time < validFrom { return nil }
        if let validTo, time >= validTo { return nil }
        var origin: Date
        switch kind {
        case .absolute: origin = startSchedule ?? receivedAt
        case .relative: origin = transactionStart ?? receivedAt
        case .recurring(let length):
            guard let startSchedule, time >= startSchedule else { return nil }
            let cycles = (time.timeIntervalSince(startSchedule) / length).rounded(.down)
            origin = startSchedule.addingTimeInterval(cycles * length)
        }
        let elapsed = time.timeIntervalSince(origin)
        if elapsed < 0 { return nil }
        if let duration, elapsed >= Double(duration) { return nil }
        return periods.last { Double($0.start) <= elapsed }
    }

    /// The limit at `time` in amperes per phase (W converted with `voltage` and the period's phases, default 3),
    /// with the period's number of phases.
    public func limit(at time: Date, transactionStart: Date?, voltage: Double) -> (amperes: Double, phases: Int?)? {
        guard let period = period(at: time, transactionStart: transactionStart) else { return nil }
        switch unit {
        case .amperes: return (max(0, period.limit), period.numberPhases)
        case .watts:
            let phases = Double(period.numberPhases ?? 3)
            return (max(0, period.limit) / (voltage * phases), period.numberPhases)
        }
    }
}

/// Why a charger refuses a charging profile (it answers `Rejected`).
public struct ProfileRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

extension SimulatedProfile {
    /// The largest stack level the simulated charger accepts (1.6 `ChargeProfileMaxStackLevel`, 2.x
    /// `SmartChargingCtrlr.ProfileStackLevel`).
    public static let maximumStackLevel = 8
    /// The most periods in one schedule (`ChargingScheduleMaxPeriods`, `PeriodsPerSchedule`).
    public static let maximumPeriods = 24

    /// Reads a 1.6 `SetChargingProfile` request.
    public init(_ request: OCPP16.SetChargingProfileRequest, receivedAt: Date) throws(ProfileRejection) {
        let profile = request.csChargingProfiles
        let schedule = profile.chargingSchedule
        try self.init(
            id: profile.chargingProfileId,
            stackLevel: profile.stackLevel,
            purposeName: profile.chargingProfilePurpose,
            outlet: request.connectorId,
            kindName: profile.chargingProfileKind,
            recurrencyKind: profile.recurrencyKind,
            validFrom: profile.validFrom,
            validTo: profile.validTo,
            transactionID: profile.transactionId.map(String.init),
            startSchedule: schedule.startSchedule,
            duration: schedule.duration,
            unitName: schedule.chargingRateUnit,
            periods: schedule.chargingSchedulePeriod.map {
                Period(start: $0.startPeriod, limit: $0.limit, numberPhases: $0.numberPhases)
            },
            receivedAt: receivedAt
        )
    }

    /// Reads a 2.0.1/2.1 `SetChargingProfile` request (its first schedule).
    public init(_ request: OCPP2.SetChargingProfileRequest, receivedAt: Date) throws(ProfileRejection) {
        let profile = request.chargingProfile
        guard let schedule = profile.chargingSchedule.first else {
            throw ProfileRejection("the profile has no chargingSchedule")
        }
        var periods: [Period] = []
        for period in schedule.chargingSchedulePeriod {
            guard let limit = period.limit else {
                throw ProfileRejection("period at \(period.startPeriod) s has no limit (only limits are supported)")
            }
            periods.append(Period(start: period.startPeriod, limit: limit, numberPhases: period.numberPhases))
        }
        try self.init(
            id: profile.id,
            stackLevel: profile.stackLevel,
            purposeName: profile.chargingProfilePurpose,
            outlet: request.evseId,
            kindName: profile.chargingProfileKind,
            recurrencyKind: profile.recurrencyKind,
            validFrom: profile.validFrom,
            validTo: profile.validTo,
            transactionID: profile.transactionId,
            startSchedule: schedule.startSchedule,
            duration: schedule.duration,
            unitName: schedule.chargingRateUnit,
            periods: periods,
            receivedAt: receivedAt
        )
    }

    private init(
        id: Int,
        stackLevel: Int,
        purposeName: String,
        outlet: Int,
        kindName: String,
        recurrencyKind: String?,
        validFrom: String?,
        validTo: String?,
        transactionID: String?,
        startSchedule: String?,
        duration: Int?,
        unitName: String,
        periods: [Period],
        receivedAt: Date
    ) throws(ProfileRejection) {
        guard let purpose = Purpose(wire: purposeName) else {
            throw ProfileRejection("unknown chargingProfilePurpose '\(purposeName)'")
        }
        guard (0...Self.maximumStackLevel).contains(stackLevel) else {
            throw ProfileRejection("stackLevel \(stackLevel) is outside 0 … \(Self.maximumStackLevel)")
        }
        guard outlet >= 0, outlet <= 1 else {
            throw ProfileRejection("outlet \(outlet) does not exist (the charger has outlet 1, and 0 for all)")
        }
        if purpose == .chargerMax, outlet != 0 {
            throw ProfileRejection("\(purposeName) must be set on outlet 0, found \(outlet)")
        }
        if purpose == .tx, outlet == 0 {
            throw ProfileRejection("TxProfile must be set on a connector or EVSE, not 0")
        }
        guard let unit = ChargingRateUnit(rawValue: unitName) else {
            throw ProfileRejection("chargingRateUnit must be A or W, found '\(unitName)'")
        }
        guard !periods.isEmpty, periods.count <= Self.maximumPeriods else {
            throw ProfileRejection("a schedule needs 1 … \(Self.maximumPeriods) periods, found \(periods.count)")
        }
        guard periods[0].start == 0, zip(periods, periods.dropFirst()).allSatisfy({ $0.start < $1.start }) else {
            throw ProfileRejection("periods must start at 0 and ascend, found \(periods.map(\.start))")
        }
        for period in periods {
            guard period.limit.isFinite, period.limit >= 0 else {
                throw ProfileRejection("limit \(period.limit) at \(period.start) s is negative")
            }
            if let phases = period.numberPhases, !(1...3).contains(phases) {
                throw ProfileRejection("numberPhases must be 1 … 3, found \(phases)")
            }
        }
        func date(_ text: String?, _ field: String) throws(ProfileRejection) -> Date? {
            guard let text else { return nil }
            guard let date = OCPPTimestamp.parse(text) else {
                throw ProfileRejection("\(field) '\(text)' is not an RFC 3339 date-time")
            }
            return date
        }
        let kind: Kind
        switch kindName {
        case "Absolute": kind = .absolute
        case "Relative": kind = .relative
        case "Recurring":
            switch recurrencyKind {
            case "Daily": kind = .recurring(period: 86_400)
            case "Weekly": kind = .recurring(period: 7 * 86_400)
            default: throw ProfileRejection("a Recurring profile needs recurrencyKind Daily or Weekly")
            }
            if startSchedule == nil { throw ProfileRejection("a Recurring profile needs a startSchedule") }
        default: throw ProfileRejection("unknown chargingProfileKind '\(kindName)'")
        }
        self.init(
            id: id,
            stackLevel: stackLevel,
            purpose: purpose,
            outlet: outlet,
            kind: kind,
            validFrom: try date(validFrom, "validFrom"),
            validTo: try date(validTo, "validTo"),
            transactionID: transactionID,
            startSchedule: try date(startSchedule, "startSchedule"),
            duration: duration.flatMap { $0 > 0 ? $0 : nil },
            unit: unit,
            periods: periods,
            receivedAt: receivedAt
        )
    }
}

/// The limit a charger applies, and where it comes from (for logs: "why does the car get 10 A?").
public struct EffectiveLimit: Sendable, Hashable, CustomStringConvertible {
    /// Amperes per phase.
    public var amperes: Double
    /// The phases a profile allows (`nil`: no profile said).
    public var numberPhases: Int?
    /// `charger maximum`, or the profile that set the minimum, e.g. `ChargePointMaxProfile #7 (stack 1)`.
    public var source: String

    public init(amperes: Double, numberPhases: Int? = nil, source: String) {
        self.amperes = amperes
        self.numberPhases = numberPhases
        self.source = source
    }

    public var description: String {
        let value = (amperes * 10).rounded() / 10
        return "\(value) A" + (numberPhases.map { " on \($0) phase(s)" } ?? "") + " from \(source)"
    }
}

/// The charging profiles a charger holds, and the limit they compose to.
///
/// Installation follows OCPP: a profile replaces the one with the same id, and the one with the same purpose,
/// stack level and outlet. Composition at a time *t* for outlet *c*:
/// 1. per purpose, the profile with the highest stack level that is in force at *t* wins (a higher one that has
///    ended or not begun gives way to the next lower one);
/// 2. the charger maximum (outlet 0) and external constraints (outlet 0 and *c*) cap the outlet;
/// 3. during a transaction its `TxProfile` applies, else (and outside transactions) the `TxDefaultProfile` of *c*,
///    else that of outlet 0;
/// 4. the effective limit is the minimum of these and of the charger's own maximum current.
public struct SimulatedProfileStore: Sendable, Hashable {
    public private(set) var profiles: [SimulatedProfile] = []

    public init() {}

    /// Adds `profile`, replacing one with the same id, or with the same purpose, stack level and outlet.
    public mutating func install(_ profile: SimulatedProfile) {
        profiles.removeAll {
            $0.id == profile.id
                || ($0.purpose == profile.purpose && $0.stackLevel == profile.stackLevel
                    && $0.outlet == profile.outlet)
        }
        profiles.append(profile)
    }

    /// Removes the profiles that match: by id alone when `id` is given, else by every given criterion (none given:
    /// all of them).
    /// - Returns: how many were removed.
    @discardableResult
    public mutating func clear(
        id: Int? = nil,
        outlet: Int? = nil,
        purpose: SimulatedProfile.Purpose? = nil,
        stackLevel: Int? = nil
    )
        -> Int
    {
        let before = profiles.count
        if let id {
            profiles.removeAll { $0.id == id }
        } else {
            profiles.removeAll {
                (outlet == nil || $0.outlet == outlet) && (purpose == nil || $0.purpose == purpose)
                    && (stackLevel == nil || $0.stackLevel == stackLevel)
            }
        }
        return before - profiles.count
    }

    /// Removes the `TxProfile`s of a transaction that ended.
    public mutating func transactionEnded(outlet: Int) {
        profiles.removeAll { $0.purpose == .tx && $0.outlet == outlet }
    }

    /// The limit for `outlet` at `time`.
    ///
    /// - Parameters:
    ///   - transaction: the running transaction's id and start, `nil` outside transactions.
    ///   - chargerMaximum: amperes per phase without any profile.
    ///   - voltage: for converting W limits.
    ///   - version: for naming purposes in ``EffectiveLimit/source``.
    public func effectiveLimit(
        outlet: Int,
        at time: Date,
        transaction: (id: String?, start: Date)?,
        chargerMaximum: Double,
        voltage: Double,
        version: OCPPVersion
    ) -> EffectiveLimit {
        var result = EffectiveLimit(amperes: chargerMaximum, source: "charger maximum")
        func winner(_ candidates: [SimulatedProfile]) -> (SimulatedProfile, Double, Int?)? {
            for profile in candidates.sorted(by: { $0.stackLevel > $1.stackLevel }) {
                if let limit = profile.limit(at: time, transactionStart: transaction?.start, voltage: voltage) {
                    return (profile, limit.amperes, limit.phases)
                }
            }
            return nil
        }
        func apply(_ found: (SimulatedProfile, Double, Int?)?) {
            guard let (profile, amperes, phases) = found else { return }
            if let phases { result.numberPhases = min(result.numberPhases ?? phases, phases) }
            if amperes < result.amperes {
                result.amperes = amperes
                let name = profile.purpose.wireName(for: version)
                result.source = "\(name) #\(profile.id) (stack \(profile.stackLevel))"
            }
        }
        apply(winner(profiles.filter { $0.purpose == .chargerMax }))
        apply(winner(profiles.filter { $0.purpose == .externalConstraints && $0.outlet == 0 }))
        if outlet != 0 {
            apply(winner(profiles.filter { $0.purpose == .externalConstraints && $0.outlet == outlet }))
        }
        var transactionLimit: (SimulatedProfile, Double, Int?)?
        if let transaction {
            transactionLimit = winner(
                profiles.filter {
                    $0.purpose == .tx && $0.outlet == outlet
                        && ($0.transactionID == nil || $0.transactionID == transaction.id)
                }
            )
        }
        if transactionLimit == nil {
            transactionLimit =
                winner(profiles.filter { $0.purpose == .txDefault && $0.outlet == outlet })
                ?? winner(profiles.filter { $0.purpose == .txDefault && $0.outlet == 0 })
        }
        apply(transactionLimit)
        return result
    }
}
