/// A charger's identifier: the OCPP charge point id (plus `/connector` for multi-connector chargers).
public typealias ChargerID = String

/// The site's grid connection, as the installer configured it.
public struct Site: Sendable, Equatable, Codable {
    /// Rated current of the main fuse per phase, in amperes.
    public var fuse: PhaseCurrents
    /// Amperes kept free on every phase for measurement error and sudden building load.
    public var margin: Double
    /// Phase-to-neutral voltage used to convert power limits to current, in volts.
    public var nominalVoltage: Double
    /// Largest allowed difference between the most and the least loaded phase, in amperes
    /// (for example 20 A in Germany, 16 A in Switzerland and Austria); nil: not limited.
    public var maxUnbalance: Double?
    /// Sub-distributions (feeders, sub-boards) with their own per-phase limits.
    public var circuits: [Circuit]

    public init(
        fuse: PhaseCurrents,
        margin: Double = 2,
        nominalVoltage: Double = 230,
        maxUnbalance: Double? = nil,
        circuits: [Circuit] = []
    ) {
        self.fuse = fuse
        self.margin = margin
        self.nominalVoltage = nominalVoltage
        self.maxUnbalance = maxUnbalance
        self.circuits = circuits
    }

    /// A site whose fuse has the same rating on every phase.
    public init(
        fuseCurrent: Double,
        margin: Double = 2,
        nominalVoltage: Double = 230,
        maxUnbalance: Double? = nil,
        circuits: [Circuit] = []
    ) {
        self.init(
            fuse: PhaseCurrents(all: fuseCurrent),
            margin: margin,
            nominalVoltage: nominalVoltage,
            maxUnbalance: maxUnbalance,
            circuits: circuits
        )
    }
}

/// A sub-distribution: a feeder or sub-board between the main fuse and some chargers.
///
/// Its limit bounds the current of every charger below it (directly or through child circuits),
/// in grid phases. Load on a circuit other than its chargers is not measured and must be left out
/// of `limit` by the installer.
public struct Circuit: Sendable, Equatable, Codable {
    public var id: String
    /// The circuit this one hangs from; nil: directly under the main fuse.
    public var parent: String?
    /// Per-phase current limit, in amperes.
    public var limit: PhaseCurrents

    public init(id: String, parent: String? = nil, limit: PhaseCurrents) {
        self.id = id
        self.parent = parent
        self.limit = limit
    }
}

/// A charger (one connector) as installed.
public struct Charger: Sendable, Equatable, Codable {
    public var id: ChargerID
    /// How many terminals are wired: 1, 2 or 3.
    public var phases: Int
    /// Which grid phase each terminal is wired to.
    public var rotation: PhaseRotation
    /// Lowest current the charger may be set to while charging (IEC 61851: 6 A; some cars need 7 A).
    public var minCurrent: Double
    /// Highest current per phase (the charger's rating or its cable).
    public var maxCurrent: Double
    /// Higher priorities are served first; equal priorities share fairly.
    public var priority: Int
    /// The sub-distribution the charger hangs from; nil: directly under the main fuse.
    public var circuit: String?

    public init(
        id: ChargerID,
        phases: Int = 3,
        rotation: PhaseRotation = .l1l2l3,
        minCurrent: Double = 6,
        maxCurrent: Double = 16,
        priority: Int = 0,
        circuit: String? = nil
    ) {
        self.id = id
        self.phases = phases
        self.rotation = rotation
        self.minCurrent = minCurrent
        self.maxCurrent = maxCurrent
        self.priority = priority
        self.circuit = circuit
    }

    /// The grid phases this charger loads (every phase when its rotation is unknown).
    public var gridPhases: PhaseSet { rotation.gridPhases(terminalCount: terminalCount) }

    /// `phases` clamped to 1...3, so a model that failed validation cannot crash the allocator.
    public var terminalCount: Int { min(max(phases, 1), 3) }
}

/// The tunables of the allocator, with the defaults the product ships.
public struct AllocationSettings: Sendable, Equatable, Codable {
    /// Rotation of paused sessions when supply is below the sum of minimums, in seconds.
    public var rotationInterval: Double = 900
    /// A started charger keeps running at least this long unless the fuse needs the current back.
    public var minimumRunTime: Double = 180
    /// A paused charger stays paused at least this long.
    public var minimumPauseTime: Double = 180
    /// How long a car must draw less than its limit before the rest is handed to others, in seconds.
    public var underdrawWindow: Double = 60
    /// An under-drawing car is accounted at its draw plus this many amperes.
    public var underdrawMargin: Double = 3
    /// A car that takes nothing (held at 0) is offered its minimum again after this many seconds,
    /// on a clock grid of this interval, to see whether it takes current again.
    public var probeInterval: Double = 1800
    /// The longest time between probes of a car that keeps taking nothing (probes back off from
    /// `probeInterval`, doubling each time; the grid doubles with them).
    public var maxProbeInterval: Double = 3600
    /// A car seen charging on fewer terminals than its charger has for this many seconds is
    /// counted on those terminals' phases only (a one-phase car on a three-phase charger).
    public var phaseDetectionTime: Double = 30
    /// Grid reading older than this (seconds): increases are frozen.
    public var staleAfter: Double = 3
    /// Grid reading older than this (seconds), or none yet: chargers share `safeCurrent` only.
    public var failSafeAfter: Double = 10
    /// Total charging current per phase allowed while the grid measurement is missing or stale.
    public var safeCurrent: PhaseCurrents = .zero
    /// A charger silent for longer than this (seconds) is treated as offline.
    public var chargerSilentAfter: Double = 120
    /// An offline charger keeps its last allocation reserved this long, then its maximum.
    public var offlineReserveTime: Double = 300
    /// Seconds a charger gets to follow a lower limit; beyond that its excess draw counts as building load.
    public var followGrace: Double = 15
    /// Amperes a charger may draw above its limit before the excess counts as building load.
    public var followTolerance: Double = 1

    public init() {}
}

/// A site model that cannot be allocated for; the message says what to change and where.
public enum SiteModelError: Error, Equatable, CustomStringConvertible {
    case invalidValue(key: String, found: Double, expected: String)
    case invalidPhaseCount(charger: ChargerID, found: Int)
    case minimumAboveMaximum(charger: ChargerID, minCurrent: Double, maxCurrent: Double)
    case duplicateCharger(ChargerID)
    case duplicateCircuit(String)
    case unknownCircuit(String, referencedBy: String)
    case circuitCycle(String)
    case runTimeAboveRotation(minimumRunTime: Double, rotationInterval: Double)

    public var description: String {
        switch self {
        case .invalidValue(let key, let found, let expected):
            "\(key): expected \(expected), found \(found)"
        case .invalidPhaseCount(let charger, let found):
            "charger \(charger): phases must be 1, 2 or 3, found \(found)"
        case .minimumAboveMaximum(let charger, let minCurrent, let maxCurrent):
            "charger \(charger): min_current \(minCurrent) A is above max_current \(maxCurrent) A"
        case .duplicateCharger(let id):
            "charger id \(id) appears more than once; every charger needs its own id"
        case .duplicateCircuit(let id):
            "circuit id \(id) appears more than once"
        case .unknownCircuit(let id, let referencedBy):
            "\(referencedBy) refers to circuit \(id), which is not defined"
        case .circuitCycle(let id):
            "circuit \(id) is its own ancestor; circuits must form a tree"
        case .runTimeAboveRotation(let run, let rotation):
            "minimum run time \(run) s is longer than the rotation interval \(rotation) s"
        }
    }
}

extension Site {
    /// Checks the site, its chargers and the settings for values the allocator cannot work with.
    public func validate(chargers: [Charger], settings: AllocationSettings = AllocationSettings())
        throws(SiteModelError)
    {
        func positive(_ value: Double, _ key: String) throws(SiteModelError) {
            guard value.isFinite, value > 0 else {
                throw .invalidValue(key: key, found: value, expected: "a positive number")
            }
        }
        func nonNegative(_ value: Double, _ key: String) throws(SiteModelError) {
            guard value.isFinite, value >= 0 else {
                throw .invalidValue(key: key, found: value, expected: "zero or a positive number")
            }
        }
        for phase in GridPhase.allCases { try positive(fuse[phase], "site.fuse_current \(phase)") }
        try nonNegative(margin, "site.margin")
        try positive(nominalVoltage, "site.nominal_voltage")
        if let maxUnbalance { try nonNegative(maxUnbalance, "site.max_unbalance") }
        var circuitIDs = Set<String>()
        for circuit in circuits {
            guard circuitIDs.insert(circuit.id).inserted else { throw .duplicateCircuit(circuit.id) }
            for phase in GridPhase.allCases { try nonNegative(circuit.limit[phase], "circuit \(circuit.id) limit") }
        }
        let parents = Dictionary(circuits.map { ($0.id, $0.parent) }, uniquingKeysWith: { first, _ in first })
        for circuit in circuits {
            var seen = Set<String>([circuit.id])
            var next = circuit.parent
            while let parent = next {
                guard let grandparent = parents[parent] else {
                    throw .unknownCircuit(parent, referencedBy: "circuit \(circuit.id)")
                }
                guard seen.insert(parent).inserted else { throw .circuitCycle(circuit.id) }
                next = grandparent
            }
        }
        var chargerIDs = Set<ChargerID>()
        for charger in chargers {
            guard chargerIDs.insert(charger.id).inserted else { throw .duplicateCharger(charger.id) }
            guard (1...3).contains(charger.phases) else {
                throw .invalidPhaseCount(charger: charger.id, found: charger.phases)
            }
            try positive(charger.minCurrent, "charger \(charger.id) min_current")
            try positive(charger.maxCurrent, "charger \(charger.id) max_current")
            guard charger.minCurrent <= charger.maxCurrent else {
                throw .minimumAboveMaximum(
                    charger: charger.id,
                    minCurrent: charger.minCurrent,
                    maxCurrent: charger.maxCurrent
                )
            }
            if let circuit = charger.circuit, !circuitIDs.contains(circuit) {
                throw .unknownCircuit(circuit, referencedBy: "charger \(charger.id)")
            }
        }
        guard settings.minimumRunTime <= settings.rotationInterval else {
            throw .runTimeAboveRotation(
                minimumRunTime: settings.minimumRunTime,
                rotationInterval: settings.rotationInterval
            )
        }
    }
}
