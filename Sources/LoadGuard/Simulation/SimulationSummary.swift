public import Allocation

/// The JSON summary of one simulation run: how safe (overload), how useful (energy, headroom),
/// how fair (Jain's index) and how calm (limit messages, pauses) the allocation was.
public struct SimulationSummary: Sendable, Equatable, Encodable {
    public var scenario: String
    public var durationSeconds: Double
    /// Integral of current above the fuse, summed over phases, in ampere-seconds.
    public var overloadAmpSeconds: Double
    /// Longest continuous stretch with any phase above the fuse, in seconds.
    public var maxOverloadSeconds: Double
    /// Integral of current above the effective limit (ripple control, API, cap, fuse), in A·s.
    public var limitExceededAmpSeconds: Double
    /// Longest continuous stretch with any phase above the effective limit, in seconds.
    public var maxLimitExceededSeconds: Double
    /// Highest current on any phase at the grid connection.
    public var maxPhaseCurrent: Double
    public var energyDeliveredWh: Double
    public var energyRequestedWh: Double
    public var evs: [VehicleSummary]
    /// Energy delivered ÷ energy that could have been delivered within the limits
    /// (per phase: min(effective limit − building − margin, what the cars present would take)).
    public var headroomUsed: Double?
    /// The same over the seconds in which the cars wanted more than the limits allowed.
    public var headroomUsedScarce: Double?
    public var scarceSeconds: Double
    /// Lowest Jain index of delivered ÷ requested energy over groups of cars with equal priority
    /// present over the same interval (same arrival and departure); nil: no such group.
    public var jainFairness: Double?
    public var fairnessGroups: [FairnessGroup]
    public var limitMessages: LimitMessages
    public var pauses: Pauses
    public var settings: Settings

    public struct VehicleSummary: Sendable, Equatable, Encodable {
        public var id: String
        public var charger: ChargerID
        public var priority: Int
        public var arrive: Double
        public var depart: Double
        public var energyRequestedWh: Double
        public var energyDeliveredWh: Double

        enum CodingKeys: String, CodingKey {
            case id, charger, priority, arrive, depart
            case energyRequestedWh = "energy_requested_wh"
            case energyDeliveredWh = "energy_delivered_wh"
        }
    }

    public struct FairnessGroup: Sendable, Equatable, Encodable {
        public var priority: Int
        public var arrive: Double
        public var depart: Double
        public var evs: [String]
        public var jain: Double
    }

    public struct LimitMessages: Sendable, Equatable, Encodable {
        public var total: Int
        /// Most limits one charger got within one clock hour of the simulation.
        public var maxPerChargerPerHour: Int
        /// The same counting only messages sent in steady state.
        public var maxPerChargerPerHourSteady: Int
        public var perCharger: [String: Int]

        enum CodingKeys: String, CodingKey {
            case total
            case maxPerChargerPerHour = "max_per_charger_per_hour"
            case maxPerChargerPerHourSteady = "max_per_charger_per_hour_steady"
            case perCharger = "per_charger"
        }
    }

    public struct Pauses: Sendable, Equatable, Encodable {
        /// Pauses of a car that still wanted energy.
        public var count: Int
        /// Shortest pause that ended with a restart, in seconds; nil: none did.
        public var shortestSeconds: Double?
        /// The configured minimum pause time.
        public var minimumPauseTime: Double

        enum CodingKeys: String, CodingKey {
            case count
            case shortestSeconds = "shortest_seconds"
            case minimumPauseTime = "minimum_pause_time"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(count, forKey: .count)
            try container.encode(shortestSeconds, forKey: .shortestSeconds)
            try container.encode(minimumPauseTime, forKey: .minimumPauseTime)
        }
    }

    public struct Settings: Sendable, Equatable, Encodable {
        public var site: Site
        public var allocation: AllocationSettings
        public var dispatch: DispatchSettings
        public var plant: SitePlant.Settings
        public var steadyAfter: Double

        enum CodingKeys: String, CodingKey {
            case site, allocation, dispatch, plant
            case steadyAfter = "steady_after"
        }
    }

    enum CodingKeys: String, CodingKey {
        case scenario
        case durationSeconds = "duration_seconds"
        case overloadAmpSeconds = "overload_amp_seconds"
        case maxOverloadSeconds = "max_overload_seconds"
        case limitExceededAmpSeconds = "limit_exceeded_amp_seconds"
        case maxLimitExceededSeconds = "max_limit_exceeded_seconds"
        case maxPhaseCurrent = "max_phase_current"
        case energyDeliveredWh = "energy_delivered_wh"
        case energyRequestedWh = "energy_requested_wh"
        case evs
        case headroomUsed = "headroom_used"
        case headroomUsedScarce = "headroom_used_scarce"
        case scarceSeconds = "scarce_seconds"
        case jainFairness = "jain_fairness"
        case fairnessGroups = "fairness_groups"
        case limitMessages = "limit_messages"
        case pauses, settings
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scenario, forKey: .scenario)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(overloadAmpSeconds, forKey: .overloadAmpSeconds)
        try container.encode(maxOverloadSeconds, forKey: .maxOverloadSeconds)
        try container.encode(limitExceededAmpSeconds, forKey: .limitExceededAmpSeconds)
        try container.encode(maxLimitExceededSeconds, forKey: .maxLimitExceededSeconds)
        try container.encode(maxPhaseCurrent, forKey: .maxPhaseCurrent)
        try container.encode(energyDeliveredWh, forKey: .energyDeliveredWh)
        try container.encode(energyRequestedWh, forKey: .energyRequestedWh)
        try container.encode(evs, forKey: .evs)
        try container.encode(headroomUsed, forKey: .headroomUsed)
        try container.encode(headroomUsedScarce, forKey: .headroomUsedScarce)
        try container.encode(scarceSeconds, forKey: .scarceSeconds)
        try container.encode(jainFairness, forKey: .jainFairness)
        try container.encode(fairnessGroups, forKey: .fairnessGroups)
        try container.encode(limitMessages, forKey: .limitMessages)
        try container.encode(pauses, forKey: .pauses)
        try container.encode(settings, forKey: .settings)
    }
}

/// Jain's fairness index of `values`: (Σx)² / (n·Σx²), 1 when all are equal; nil when empty or all 0.
public func jainIndex(_ values: [Double]) -> Double? {
    let sum = values.reduce(0, +)
    let squares = values.reduce(0) { $0 + $1 * $1 }
    guard !values.isEmpty, squares > 0 else { return nil }
    return sum * sum / (Double(values.count) * squares)
}
