/// The physical site for the closed-loop simulator: building load, chargers and cars, stepped
/// one second at a time. Pure: time comes in as a value.
///
/// What it models, and the numbers:
/// - A charger applies a new limit no faster than once per `pwmUpdateSpacing` (5 s, the spacing
///   IEC 61851 allows between PWM duty-cycle changes); a limit below 6 A stops charging.
///   Before its first limit it offers its own maximum (what a charger does with no profile).
/// - A car follows what its charger offers after its reaction delay, draws at most its own
///   maximum on min(car phases, charger phases) terminals, tapers linearly over the last
///   `taperFraction` of its requested energy (never below `taperFloor` until full), and
///   stops drawing when it has its energy or leaves at its departure time.
/// - An offline charger keeps applying its last limit and neither reports nor hears anything.
public struct SitePlant: Sendable {
    /// One car's visit.
    public struct Vehicle: Sendable, Equatable, Codable {
        public var id: String
        public var charger: ChargerID
        /// Seconds from the start of the simulation.
        public var arrive: Double
        public var depart: Double
        /// Energy the car wants, in watt-hours.
        public var energyRequested: Double
        /// The car's own maximum current per phase.
        public var maxCurrent: Double
        /// Phases of the car's on-board charger.
        public var phases: Int
        /// Seconds the car takes to follow a new offer.
        public var reactionDelay: Double
        /// Energy delivered so far, in watt-hours.
        public var energyDelivered: Double = 0

        public init(
            id: String,
            charger: ChargerID,
            arrive: Double,
            depart: Double,
            energyRequested: Double,
            maxCurrent: Double,
            phases: Int = 3,
            reactionDelay: Double = 2
        ) {
            self.id = id
            self.charger = charger
            self.arrive = arrive
            self.depart = depart
            self.energyRequested = energyRequested
            self.maxCurrent = maxCurrent
            self.phases = phases
            self.reactionDelay = reactionDelay
        }

        public func isPresent(at time: Double) -> Bool { time >= arrive && time < depart }
        public var isFull: Bool { energyDelivered >= energyRequested - 1e-9 }
    }

    /// The plant's tunables.
    public struct Settings: Sendable, Equatable, Codable {
        public var pwmUpdateSpacing: Double = 5
        public var taperFraction: Double = 0.1
        public var taperFloor: Double = 1.5
        public var nominalVoltage: Double = 230
        public init() {}
    }

    /// One simulated charger.
    public struct SimulatedCharger: Sendable, Equatable {
        public var charger: Charger
        /// The limit last received and not yet applied.
        public var pendingLimit: Double?
        /// The limit the charger signals now (PWM).
        public internal(set) var appliedLimit: Double
        public internal(set) var appliedAt: Double = -.infinity
        /// Changes of the applied limit, oldest first: cars see them after their reaction delay.
        var history: [(time: Double, limit: Double)]
        public var online: Bool = true
        /// What it draws per terminal now.
        public internal(set) var terminals: PhaseCurrents = .zero

        init(charger: Charger) {
            self.charger = charger
            self.appliedLimit = charger.maxCurrent
            self.history = [(-.infinity, charger.maxCurrent)]
        }

        /// The limit in force at `time`.
        func limit(at time: Double) -> Double {
            var value = history[0].limit
            for entry in history where entry.time <= time { value = entry.limit }
            return value
        }

        public static func == (a: SimulatedCharger, b: SimulatedCharger) -> Bool {
            a.charger == b.charger && a.pendingLimit == b.pendingLimit && a.appliedLimit == b.appliedLimit
                && a.appliedAt == b.appliedAt && a.online == b.online && a.terminals == b.terminals
                && a.history.map(\.time) == b.history.map(\.time) && a.history.map(\.limit) == b.history.map(\.limit)
        }
    }

    /// What the plant shows after a step.
    public struct Reading: Sendable, Equatable {
        /// Current per grid phase at the connection point.
        public var grid: PhaseCurrents
        /// The building's own load per grid phase (what the simulator knows and the controller does not).
        public var building: PhaseCurrents
        public var chargers: [ChargerReading]
    }

    /// One charger's state after a step.
    public struct ChargerReading: Sendable, Equatable {
        public var id: ChargerID
        public var status: ConnectorStatus
        public var online: Bool
        /// Current per terminal (charger order).
        public var terminals: PhaseCurrents
        /// Current per grid phase.
        public var grid: PhaseCurrents
        public var appliedLimit: Double
        /// Energy delivered in the current session, in watt-hours.
        public var sessionEnergy: Double
        /// The car plugged in now, if any.
        public var vehicle: String?
        /// The most the car present would take now per phase (0 when full or absent).
        public var acceptance: Double
    }

    public var settings: Settings
    public private(set) var chargers: [SimulatedCharger]
    public private(set) var vehicles: [Vehicle]
    private var chargerIndex: [ChargerID: Int]
    private var vehiclesByCharger: [[Int]]

    public init(chargers: [Charger], vehicles: [Vehicle], settings: Settings = Settings()) {
        self.settings = settings
        self.chargers = chargers.map(SimulatedCharger.init)
        self.vehicles = vehicles
        var index = [ChargerID: Int]()
        for (offset, charger) in chargers.enumerated() where index[charger.id] == nil { index[charger.id] = offset }
        self.chargerIndex = index
        var byCharger = [[Int]](repeating: [], count: chargers.count)
        for (offset, vehicle) in vehicles.enumerated() {
            if let charger = index[vehicle.charger] { byCharger[charger].append(offset) }
        }
        self.vehiclesByCharger = byCharger
    }

    /// Delivers a limit to a charger (lost when the charger is offline or unknown).
    /// Returns whether the charger received it.
    @discardableResult
    public mutating func send(limit: Double, to id: ChargerID) -> Bool {
        guard let index = chargerIndex[id], chargers[index].online else { return false }
        chargers[index].pendingLimit = limit
        return true
    }

    /// Takes a charger off the network or brings it back.
    public mutating func setOnline(_ online: Bool, charger id: ChargerID) {
        guard let index = chargerIndex[id] else { return }
        chargers[index].online = online
    }

    /// The car present at a charger at `time`.
    public func vehicle(at id: ChargerID, time: Double) -> Vehicle? {
        guard let index = chargerIndex[id] else { return nil }
        return vehiclesByCharger[index].lazy.map { self.vehicles[$0] }.first { $0.isPresent(at: time) }
    }

    /// The most a car would take per phase now, given what it still wants.
    public func acceptance(of vehicle: Vehicle) -> Double {
        let remaining = vehicle.energyRequested - vehicle.energyDelivered
        guard remaining > 1e-9 else { return 0 }
        let taperEnergy = settings.taperFraction * vehicle.energyRequested
        guard taperEnergy > 0, remaining < taperEnergy else { return vehicle.maxCurrent }
        return max(settings.taperFloor, vehicle.maxCurrent * remaining / taperEnergy)
    }

    /// Advances the plant by `seconds` ending at `time`, with `building` load per grid phase.
    public mutating func step(time: Double, seconds: Double = 1, building: PhaseCurrents) -> Reading {
        var grid = building
        var readings = [ChargerReading]()
        readings.reserveCapacity(chargers.count)
        for index in chargers.indices {
            var charger = chargers[index]
            if let pending = charger.pendingLimit, time - charger.appliedAt >= settings.pwmUpdateSpacing {
                charger.pendingLimit = nil
                if pending != charger.appliedLimit {
                    charger.appliedLimit = pending
                    charger.appliedAt = time
                    charger.history.append((time, pending))
                }
            }
            var terminals = PhaseCurrents.zero
            var status = ConnectorStatus.available
            var energy = 0.0
            var vehicleID: String?
            var acceptance = 0.0
            if let vehicleIndex = vehiclesByCharger[index].first(where: { vehicles[$0].isPresent(at: time) }) {
                var vehicle = vehicles[vehicleIndex]
                vehicleID = vehicle.id
                acceptance = self.acceptance(of: vehicle)
                let seen = charger.limit(at: max(time - vehicle.reactionDelay, vehicle.arrive))
                let offered = seen >= 6 ? seen : 0
                let current = min(offered, acceptance)
                let phases = min(vehicle.phases, charger.charger.terminalCount)
                for terminal in 0..<phases { terminals[terminal] = current }
                vehicle.energyDelivered += current * Double(phases) * settings.nominalVoltage * seconds / 3600
                vehicles[vehicleIndex] = vehicle
                energy = vehicle.energyDelivered
                if current > 0 {
                    status = .charging
                } else if acceptance == 0 {
                    status = .suspendedEV
                } else {
                    status = .suspendedEVSE
                }
            }
            // Drop limit changes no car can still be waiting for.
            if charger.history.count > 8 { charger.history.removeFirst(charger.history.count - 8) }
            charger.terminals = terminals
            let rotation = charger.charger.rotation == .unknown ? PhaseRotation.l1l2l3 : charger.charger.rotation
            let onGrid = rotation.toGrid(terminals, terminalCount: charger.charger.terminalCount)
            grid += onGrid
            chargers[index] = charger
            readings.append(
                ChargerReading(
                    id: charger.charger.id,
                    status: status,
                    online: charger.online,
                    terminals: terminals,
                    grid: onGrid,
                    appliedLimit: charger.appliedLimit,
                    sessionEnergy: energy,
                    vehicle: vehicleID,
                    acceptance: acceptance
                )
            )
        }
        return Reading(grid: grid, building: building, chargers: readings)
    }
}
