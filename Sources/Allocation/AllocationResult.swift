/// Why a charger got the current it got. Shown to installers and operators, next to the
/// ``LimitSource`` that bound it.
public enum AllocationReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// It got its own maximum (the charger's rating); nothing else bound it.
    case maximum
    /// Its fair share: a limit (see the source and phase) is shared among the chargers under it.
    case fairShare = "fair_share"
    /// The car draws less than offered; it is held at its draw plus a margin (0 when it takes
    /// nothing at all) and probed back up later.
    case vehicleDrawsLess = "vehicle_draws_less"
    /// Paused: what is available does not reach its minimum current.
    case insufficientSupply = "insufficient_supply"
    /// Paused: supply is below the sum of minimums and chargers take turns; its turn comes.
    case waitingForTurn = "waiting_for_turn"
    /// Paused: it was paused less than the minimum pause time ago.
    case pauseDwell = "pause_dwell"
    /// Paused: the grid measurement is missing and the fail-safe budget does not reach its minimum.
    case failSafe = "fail_safe"
    /// No car is plugged in (or the connector is faulted or unavailable).
    case noVehicle = "no_vehicle"
    /// The charger stopped reporting: its last allocation is kept reserved.
    case offlineReserved = "offline_reserved"
    /// The charger has been silent too long: its maximum is reserved, as it may fall back to it.
    case offlineAssumedMaximum = "offline_assumed_maximum"

    /// The charger is paused (or not charging) with this reason.
    public var isPause: Bool {
        switch self {
        case .insufficientSupply, .waitingForTurn, .pauseDwell, .failSafe, .noVehicle: true
        case .maximum, .fairShare, .vehicleDrawsLess, .offlineReserved, .offlineAssumedMaximum: false
        }
    }
}

/// How fresh the grid measurement was for this allocation.
public enum MeasurementState: String, Sendable, Hashable, Codable {
    /// Fresh: normal operation.
    case fresh
    /// Older than `staleAfter`: the allocation is computed from the last reading, increases are frozen.
    case stale
    /// Older than `failSafeAfter`: chargers share the configured safe budget only.
    case failSafe = "fail_safe"
    /// No reading yet since start-up: chargers share the configured safe budget only.
    case awaitingFirstReading = "awaiting_first_reading"
}

/// One charger's share.
public struct ChargerAllocation: Sendable, Equatable, Codable {
    public var id: ChargerID
    /// The current per phase the charger may draw, in amperes; 0 = paused.
    public var current: Double
    public var reason: AllocationReason
    /// The limit that bound it; nil when no limit did (maximum, no vehicle).
    public var source: LimitSource?
    /// The grid phase on which `source` bound it, when the source is per phase.
    public var phase: GridPhase?
    /// The grid phases this charger's current counts on.
    public var gridPhases: PhaseSet
    /// The charger's minimum current (a start never goes below it).
    public var minCurrent: Double
    /// What the car draws now (highest terminal current), in amperes.
    public var draw: Double
    /// The charger cannot be reached: nothing can be sent to it.
    public var offline: Bool
    /// The car drew less than offered and is now offered its full share again to see whether it
    /// takes it; the increase is a test, not a control step, and goes out in one message.
    public var probing: Bool = false
    /// The charger's sub-distribution circuit, as an index into ``Allocation/circuitBudgets``
    /// (its ancestors follow through their `parent`); nil: directly under the main fuse.
    public var circuit: Int?

    public init(
        id: ChargerID,
        current: Double,
        reason: AllocationReason,
        source: LimitSource? = nil,
        phase: GridPhase? = nil,
        gridPhases: PhaseSet,
        minCurrent: Double,
        draw: Double = 0,
        offline: Bool = false,
        probing: Bool = false,
        circuit: Int? = nil
    ) {
        self.id = id
        self.current = current
        self.reason = reason
        self.source = source
        self.phase = phase
        self.gridPhases = gridPhases
        self.minCurrent = minCurrent
        self.draw = draw
        self.offline = offline
        self.probing = probing
        self.circuit = circuit
    }
}

/// What the chargers of one sub-distribution circuit may draw together, per phase, in this
/// allocation (the circuit's limit minus what its offline chargers hold reserved).
public struct CircuitBudget: Sendable, Equatable, Codable {
    public var id: String
    /// Index of the circuit it hangs from in ``Allocation/circuitBudgets``; nil: the main fuse.
    public var parent: Int?
    public var budget: PhaseCurrents

    public init(id: String, parent: Int?, budget: PhaseCurrents) {
        self.id = id
        self.parent = parent
        self.budget = budget
    }
}

/// The allocator's answer for one moment.
public struct Allocation: Sendable, Equatable, Codable {
    public var time: Double
    public var measurement: MeasurementState
    /// Per phase: the lowest of fuse, configured cap, ripple-control level and unexpired API commands.
    public var effectiveLimit: [PhaseLimit]
    /// Grid current minus what the chargers draw, per phase (never below 0).
    public var buildingLoad: PhaseCurrents
    /// What chargers may draw together per phase: effective limit − building load − margin
    /// (or the safe budget), minus what offline chargers hold reserved.
    public var chargingBudget: PhaseCurrents
    /// The source of each phase's charging budget (the effective limit's source or the safe budget).
    public var budgetSources: [LimitSource]
    /// What the allocation puts on each phase, reservations of offline chargers included.
    public var allocated: PhaseCurrents
    /// The charging budget of each sub-distribution circuit, in the order of `Site.circuits`.
    public var circuitBudgets: [CircuitBudget]
    /// The site's unbalance limit (largest difference between two phases at the grid connection).
    public var maxUnbalance: Double?
    /// One entry per charger, in the order of `SiteState.chargers`.
    public var chargers: [ChargerAllocation]
    /// Increases must wait: the grid measurement is stale.
    public var freezeIncreases: Bool
    /// What to hand to the next call of ``allocate(_:)``.
    public var memory: AllocationMemory

    public init(
        time: Double,
        measurement: MeasurementState,
        effectiveLimit: [PhaseLimit],
        buildingLoad: PhaseCurrents,
        chargingBudget: PhaseCurrents,
        budgetSources: [LimitSource],
        allocated: PhaseCurrents,
        circuitBudgets: [CircuitBudget] = [],
        maxUnbalance: Double? = nil,
        chargers: [ChargerAllocation],
        freezeIncreases: Bool,
        memory: AllocationMemory
    ) {
        self.time = time
        self.measurement = measurement
        self.effectiveLimit = effectiveLimit
        self.buildingLoad = buildingLoad
        self.chargingBudget = chargingBudget
        self.budgetSources = budgetSources
        self.allocated = allocated
        self.circuitBudgets = circuitBudgets
        self.maxUnbalance = maxUnbalance
        self.chargers = chargers
        self.freezeIncreases = freezeIncreases
        self.memory = memory
    }

    /// The allocation of one charger.
    public subscript(id: ChargerID) -> ChargerAllocation? { chargers.first { $0.id == id } }
}

/// What the allocator carries from one decision to the next for one charger's session.
public struct ChargerMemory: Sendable, Equatable, Codable {
    /// The charger was given current in the last allocation.
    public var running: Bool
    /// When `running` last changed (or the session started), in seconds.
    public var since: Double
    /// The session ran at some point (a never-started session is not "paused").
    public var hasRun: Bool
    /// The current given in the last allocation.
    public var lastCurrent: Double
    /// Since when the car draws less than its limit; nil: it does not.
    public var underdrawSince: Double?
    /// The car is held at this current because it draws less; nil: not held.
    public var underdrawCap: Double?
    /// Since when the charger is offline; nil: online.
    public var offlineSince: Double?
    /// Unsuccessful probes in a row: each doubles the time to the next one.
    public var probes: Int = 0
    /// A probe (the full share offered to a car that drew less) runs until then.
    public var probeUntil: Double?
    /// Since when the car takes nothing although offered current (full, or waiting for a timer):
    /// it gets 0 until the next probe; nil: not idle.
    public var idleSince: Double?
    /// The running probe wakes a car that took nothing: it is offered its minimum only (drawing
    /// lifts it to its full share at once), so that asking an idle car does not move everyone
    /// else's limit. nil: not such a probe.
    public var probeFromIdle: Bool?
    /// The charger terminals the car was seen to use (bit n: terminal n); nil: all of them.
    public var activeTerminals: UInt8?
    /// A terminal pattern seen since `phaseCandidateSince`, not yet confirmed.
    public var phaseCandidate: UInt8?
    public var phaseCandidateSince: Double?

    public init(running: Bool, since: Double) {
        self.running = running
        self.since = since
        self.hasRun = running
        self.lastCurrent = 0
    }
}

/// The allocator's memory between decisions: per charger, keyed by charger id.
///
/// Stored in the order of the chargers of the allocation that wrote it, so that the next
/// allocation for the same chargers reads each entry by position instead of hashing every charger
/// id twice a second; `chargers` gives the same memory keyed by id.
public struct AllocationMemory: Sendable, Equatable, Codable {
    /// The id of every charger of the allocation that wrote this memory (with or without an entry).
    var ids: [ChargerID]
    /// The entry of the charger at the same position in `ids`, when `present` says it has one.
    var entries: [ChargerMemory]
    var present: [Bool]
    /// `ids` holds no id twice: true when known, nil when not checked yet.
    var idsAreDistinct: Bool?

    /// Per charger id its memory (for a repeated id the last entry, as in a dictionary filled in order).
    public var chargers: [ChargerID: ChargerMemory] {
        get {
            var chargers = [ChargerID: ChargerMemory](minimumCapacity: ids.count)
            for index in ids.indices where present[index] { chargers[ids[index]] = entries[index] }
            return chargers
        }
        set { self = AllocationMemory(chargers: newValue) }
    }

    public init(chargers: [ChargerID: ChargerMemory] = [:]) {
        self.ids = Array(chargers.keys)
        self.entries = Array(chargers.values)
        self.present = [Bool](repeating: true, count: chargers.count)
        self.idsAreDistinct = true
    }

    /// Memory in charger order, as an allocation writes it.
    init(ids: [ChargerID], entries: [ChargerMemory], present: [Bool], idsAreDistinct: Bool?) {
        self.ids = ids
        self.entries = entries
        self.present = present
        self.idsAreDistinct = idsAreDistinct
    }

    public static func == (lhs: AllocationMemory, rhs: AllocationMemory) -> Bool {
        if lhs.ids == rhs.ids && lhs.present == rhs.present && lhs.entries == rhs.entries { return true }
        return lhs.chargers == rhs.chargers
    }

    private enum CodingKeys: String, CodingKey {
        case chargers
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(chargers: try container.decode([ChargerID: ChargerMemory].self, forKey: .chargers))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(chargers, forKey: .chargers)
    }
}

/// One charger's limit for consumers other than OCPP injection (a charger cloud, MQTT, the API).
public struct ChargerLimitExport: Sendable, Equatable, Codable {
    public var id: ChargerID
    /// Amperes per phase; 0 = paused.
    public var current: Double
    /// The same limit as power: current × nominal voltage × phases, in watts.
    public var power: Double
    public var phases: Int
    public var reason: AllocationReason
    public var source: LimitSource?
    /// When the limit was computed, in seconds.
    public var time: Double
}

extension Allocation {
    /// The allocation as per-charger limits for a consumer that sets limits through the charger
    /// vendor's cloud instead of OCPP (offline chargers are left out: nobody can reach them).
    public func exportedLimits(site: Site, chargers chargerModels: [Charger]) -> [ChargerLimitExport] {
        let phaseCounts = Dictionary(chargerModels.map { ($0.id, $0.phases) }, uniquingKeysWith: { first, _ in first })
        return chargers.filter { !$0.offline }.map { charger in
            let phases = phaseCounts[charger.id] ?? charger.gridPhases.count
            return ChargerLimitExport(
                id: charger.id,
                current: charger.current,
                power: charger.current * site.nominalVoltage * Double(phases),
                phases: phases,
                reason: charger.reason,
                source: charger.source,
                time: time
            )
        }
    }
}
