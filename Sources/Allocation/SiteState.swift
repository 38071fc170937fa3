/// A connector's status as the charger reports it (OCPP 1.6 `StatusNotification` vocabulary).
public enum ConnectorStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case available = "Available"
    case preparing = "Preparing"
    case charging = "Charging"
    case suspendedEV = "SuspendedEV"
    case suspendedEVSE = "SuspendedEVSE"
    case finishing = "Finishing"
    case reserved = "Reserved"
    case unavailable = "Unavailable"
    case faulted = "Faulted"

    /// A car is plugged in and may take current when offered.
    public var hasVehicle: Bool {
        switch self {
        case .preparing, .charging, .suspendedEV, .suspendedEVSE: true
        case .available, .finishing, .reserved, .unavailable, .faulted: false
        }
    }
}

/// What LoadGuard knows about one charger right now.
public struct ChargerState: Sendable, Equatable, Codable {
    public var charger: Charger
    public var status: ConnectorStatus
    /// The charger's OCPP connection is up.
    public var connected: Bool
    /// Current per terminal (charger order, not grid order), from the last MeterValues, in amperes.
    public var measured: PhaseCurrents
    /// Energy delivered in the current session, in watt-hours.
    public var sessionEnergy: Double
    /// Time of the last status or meter report, in seconds; nil: never reported.
    public var lastReport: Double?
    /// The limit the charger last accepted, in amperes; nil: none sent yet.
    public var appliedLimit: Double?
    /// When `appliedLimit` was accepted, in seconds.
    public var appliedSince: Double?

    public init(
        charger: Charger,
        status: ConnectorStatus = .available,
        connected: Bool = true,
        measured: PhaseCurrents = .zero,
        sessionEnergy: Double = 0,
        lastReport: Double? = nil,
        appliedLimit: Double? = nil,
        appliedSince: Double? = nil
    ) {
        self.charger = charger
        self.status = status
        self.connected = connected
        self.measured = measured
        self.sessionEnergy = sessionEnergy
        self.lastReport = lastReport
        self.appliedLimit = appliedLimit
        self.appliedSince = appliedSince
    }

    /// The highest terminal current: what the car draws per phase.
    public var draw: Double {
        var highest = 0.0
        for index in 0..<charger.terminalCount { highest = max(highest, measured[index]) }
        return highest
    }
}

/// One grid measurement: current per grid phase at the connection point, and when it was taken.
public struct GridReading: Sendable, Equatable, Codable {
    public var currents: PhaseCurrents
    /// Seconds, on the same clock as `SiteState.now`.
    public var time: Double

    public init(currents: PhaseCurrents, time: Double) {
        self.currents = currents
        self.time = time
    }
}

/// A load-reduction command received through the API (for example from the grid operator).
public struct APICommand: Sendable, Equatable, Codable {
    public var id: String
    /// Per-phase limit at the grid connection, in amperes.
    public var maxCurrent: PhaseCurrents
    /// When the command stops applying, in seconds; nil: until withdrawn.
    public var expiresAt: Double?

    public init(id: String, maxCurrent: PhaseCurrents, expiresAt: Double? = nil) {
        self.id = id
        self.maxCurrent = maxCurrent
        self.expiresAt = expiresAt
    }
}

/// The limits on the grid connection besides the fuse. All are per grid phase, in amperes,
/// and bound building load plus charging.
public struct LimitInputs: Sendable, Equatable, Codable {
    /// The level the ripple-control inputs currently select; nil: inputs not used.
    public var rippleControl: PhaseCurrents?
    /// API commands; expired ones are ignored (so a command falls back to the next limit by itself).
    public var apiCommands: [APICommand]
    /// A cap the operator configured below the fuse (for example a contracted peak); nil: none.
    public var configuredCap: PhaseCurrents?

    public init(
        rippleControl: PhaseCurrents? = nil,
        apiCommands: [APICommand] = [],
        configuredCap: PhaseCurrents? = nil
    ) {
        self.rippleControl = rippleControl
        self.apiCommands = apiCommands
        self.configuredCap = configuredCap
    }
}

/// Everything the allocator needs for one decision. The allocator reads nothing else: no clock,
/// no I/O, so the same state always gives the same ``Allocation``.
public struct SiteState: Sendable, Equatable, Codable {
    /// Seconds on a monotonic clock shared by all times in this state.
    public var now: Double
    public var site: Site
    public var settings: AllocationSettings
    public var chargers: [ChargerState]
    /// The latest valid grid reading; nil: none yet (start-up).
    public var grid: GridReading?
    public var limits: LimitInputs
    /// What the previous allocation remembered (rotation, dwell, under-drawing); empty at start-up.
    public var memory: AllocationMemory

    public init(
        now: Double,
        site: Site,
        settings: AllocationSettings = AllocationSettings(),
        chargers: [ChargerState],
        grid: GridReading?,
        limits: LimitInputs = LimitInputs(),
        memory: AllocationMemory = AllocationMemory()
    ) {
        self.now = now
        self.site = site
        self.settings = settings
        self.chargers = chargers
        self.grid = grid
        self.limits = limits
        self.memory = memory
    }
}
