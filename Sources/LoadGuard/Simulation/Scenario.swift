public import Allocation

/// A closed-loop simulation scenario: the site, its chargers, the cars that come and go, and the
/// events (ripple-control steps, API limits, building-load steps, faults) to play through.
///
/// Written in YAML with the site config's vocabulary; see `Examples/scenarios/` and
/// docs/allocation.md. Times and durations are seconds from the start.
public struct Scenario: Sendable, Equatable {
    public var name: String
    /// Simulated seconds.
    public var duration: Double
    public var site: Site
    public var settings: AllocationSettings
    public var dispatch: DispatchSettings
    public var plant: SitePlant.Settings
    public var building: BuildingLoad
    public var chargers: [Charger]
    public var vehicles: [SitePlant.Vehicle]
    /// The ripple-control mapping; nil: no ripple-control inputs.
    public var rippleControl: RippleControlMapping?
    /// The inputs' pattern at the start.
    public var initialInputs: String
    /// Sorted by time.
    public var events: [ScenarioEvent]

    public init(
        name: String,
        duration: Double,
        site: Site,
        settings: AllocationSettings = AllocationSettings(),
        dispatch: DispatchSettings = DispatchSettings(),
        plant: SitePlant.Settings = SitePlant.Settings(),
        building: BuildingLoad,
        chargers: [Charger],
        vehicles: [SitePlant.Vehicle],
        rippleControl: RippleControlMapping? = nil,
        initialInputs: String = "00",
        events: [ScenarioEvent] = []
    ) {
        self.name = name
        self.duration = duration
        self.site = site
        self.settings = settings
        self.dispatch = dispatch
        self.plant = plant
        self.building = building
        self.chargers = chargers
        self.vehicles = vehicles
        self.rippleControl = rippleControl
        self.initialInputs = initialInputs
        self.events = events.sorted { $0.at < $1.at }
    }
}

/// The building's own load (everything but the chargers) per grid phase.
public enum BuildingLoad: Sendable, Equatable {
    case constant(PhaseCurrents)
    /// Rows of (seconds, load), sorted by time; each row holds until the next.
    case series([BuildingSample])

    /// The load at `time` (before any building event changes it).
    public func load(at time: Double) -> PhaseCurrents {
        switch self {
        case .constant(let load):
            return load
        case .series(let samples):
            guard var chosen = samples.first?.load else { return .zero }
            var low = 0
            var high = samples.count - 1
            while low <= high {
                let middle = (low + high) / 2
                if samples[middle].time <= time {
                    chosen = samples[middle].load
                    low = middle + 1
                } else {
                    high = middle - 1
                }
            }
            return chosen
        }
    }
}

/// One row of a building-load series.
public struct BuildingSample: Sendable, Equatable {
    public var time: Double
    public var load: PhaseCurrents

    public init(time: Double, load: PhaseCurrents) {
        self.time = time
        self.load = load
    }
}

/// Something that happens at a moment of the scenario.
public struct ScenarioEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The ripple-control inputs change to this pattern (for example `"10"`).
        case inputs(String)
        /// An API load-reduction command.
        case apiLimit(id: String, level: LimitLevel, expiresAfter: Double?)
        /// The building load changes to this constant load (replacing the configured one from now on).
        case building(PhaseCurrents)
        /// The grid meter delivers no readings for this many seconds.
        case meterFault(duration: Double)
        /// A charger drops off the network for this many seconds.
        case chargerOffline(charger: ChargerID, duration: Double)
    }

    /// Seconds from the start.
    public var at: Double
    public var kind: Kind

    public init(at: Double, kind: Kind) {
        self.at = at
        self.kind = kind
    }
}

/// A duration as scenarios write it: `90s`, `15m`, `2h`, `1h30m`, or a plain number of seconds.
public enum ScenarioDuration {
    /// Seconds for `text`, or nil when it is not a duration.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.filter { !$0.isWhitespace }
        guard !trimmed.isEmpty else { return nil }
        if let plain = Double(trimmed), plain.isFinite, plain >= 0 { return plain }
        var total = 0.0
        var number = ""
        var sawUnit = false
        for character in trimmed {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            let scale: Double
            switch character {
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86400
            default: return nil
            }
            guard let value = Double(number), value.isFinite else { return nil }
            total += value * scale
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }
}
