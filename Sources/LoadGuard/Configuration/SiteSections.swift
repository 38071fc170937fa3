public import Allocation
public import Hardware
public import Metering

/// The `site:` section: the grid connection the allocator protects.
public struct SiteSection: Sendable, Decodable {
    /// Main fuse, amperes per phase.
    public var fuseCurrent: Double = 63
    /// Safety margin kept free under every limit, amperes.
    public var margin: Double = 2
    /// Phase-to-neutral voltage used to turn watts into amperes.
    public var nominalVoltage: Double = 230
    /// Largest difference between phase currents the chargers may cause (e.g. 20 A DE, 16 A CH/AT).
    public var maxUnbalance: Double?
    /// A configured cap below the fuse, as a level (`"80%"`, `"50A"`, `"30kW"`).
    public var cap: LimitLevel?
    /// `false`: LoadGuard proxies and measures but sends no charging profiles (commissioning,
    /// or a site whose limits are set elsewhere).
    public var loadManagement = true

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case margin, cap
        case loadManagement = "load_management"
        case fuseCurrent = "fuse_current"
        case nominalVoltage = "nominal_voltage"
        case maxUnbalance = "max_unbalance"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        fuseCurrent = try c.decodeIfPresent(Double.self, forKey: .fuseCurrent) ?? fuseCurrent
        margin = try c.decodeIfPresent(Double.self, forKey: .margin) ?? margin
        nominalVoltage = try c.decodeIfPresent(Double.self, forKey: .nominalVoltage) ?? nominalVoltage
        maxUnbalance = try c.decodeIfPresent(Double.self, forKey: .maxUnbalance)
        cap = try c.decodeIfPresent(LevelText.self, forKey: .cap)?.level
        loadManagement = try c.decodeIfPresent(Bool.self, forKey: .loadManagement) ?? true
    }

    public var site: Site {
        Site(
            fuse: PhaseCurrents(all: fuseCurrent),
            margin: margin,
            nominalVoltage: nominalVoltage,
            maxUnbalance: maxUnbalance,
            circuits: []
        )
    }
}

/// A limit level written as text in the config: `"60%"`, `"32A"`, `"4.2kW"`.
struct LevelText: Decodable {
    var level: LimitLevel

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        if let number = try? container.decode(Double.self) {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected a level with a unit such as \"60%\", \"32A\" or \"4.2kW\", found \(number)"
            )
        } else {
            text = try container.decode(String.self)
        }
        do {
            level = try LimitLevel(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected a level such as \"60%\", \"32A\" or \"4.2kW\": \(error)"
            )
        }
    }
}

/// The `meter:` section: where the samples come from and how they are calibrated.
public struct MeterSection: Sendable, Decodable {
    public enum Source: String, Sendable, Decodable { case simulated, iio, recording }

    public var source: Source = .simulated
    /// Simulated building load per phase (A), before the chargers' draw is added.
    public var building: [Double] = [20, 15, 25]
    /// Simulated building load that follows a day profile at `demo.speedup` pace.
    public var buildingDayProfile = false
    public var calibration = MeterCalibration()
    public var simulated = SimulatedGridConfiguration()
    public var iio: IIOSourceConfiguration?
    public var recording: RecordingSection?
    /// No reading for this long makes the measurement stale (increases frozen).
    public var staleAfter = ConfigDuration(seconds: 3)
    /// No reading for this long: fall back to the safe budget.
    public var failSafeAfter = ConfigDuration(seconds: 10)

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source, building, calibration, simulated, iio, recording
        case buildingDayProfile = "building_day_profile"
        case staleAfter = "stale_after"
        case failSafeAfter = "fail_safe_after"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decodeIfPresent(Source.self, forKey: .source) ?? source
        building = try c.decodeIfPresent([Double].self, forKey: .building) ?? building
        buildingDayProfile = try c.decodeIfPresent(Bool.self, forKey: .buildingDayProfile) ?? false
        calibration = try c.decodeIfPresent(MeterCalibration.self, forKey: .calibration) ?? calibration
        simulated = try c.decodeIfPresent(SimulatedGridConfiguration.self, forKey: .simulated) ?? simulated
        iio = try c.decodeIfPresent(IIOSourceConfiguration.self, forKey: .iio)
        recording = try c.decodeIfPresent(RecordingSection.self, forKey: .recording)
        staleAfter = try c.decodeIfPresent(ConfigDuration.self, forKey: .staleAfter) ?? staleAfter
        failSafeAfter = try c.decodeIfPresent(ConfigDuration.self, forKey: .failSafeAfter) ?? failSafeAfter
    }
}

/// `meter.recording`: a WAV file replayed as the meter.
public struct RecordingSection: Sendable, Decodable {
    public var file: String
    /// Start again at the end of the file.
    public var loop = true

    enum CodingKeys: String, CodingKey, CaseIterable { case file, loop }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        file = try c.decode(String.self, forKey: .file)
        loop = try c.decodeIfPresent(Bool.self, forKey: .loop) ?? true
    }
}

/// The `inputs:` section: the grid operator's two ripple-control inputs.
public struct InputsSection: Sendable, Decodable {
    public enum Source: String, Sendable, Decodable { case simulated, gpiod }

    public var source: Source = .simulated
    /// Pattern of the two inputs (`"10"`: input 1 active, input 2 not) to a level.
    public var levels: [String: LimitLevel] = ["00": .percentOfFuse(100)]
    /// Per input: `true` when the contact is normally closed (active = open).
    public var normallyClosed: [Bool] = [false, false]
    public var gpiod: GPIODInputsConfiguration?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source, levels, gpiod
        case normallyClosed = "normally_closed"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decodeIfPresent(Source.self, forKey: .source) ?? source
        // `levels` is read from the YAML node tree by ``LoadGuardConfiguration/readLevels(from:file:)``:
        // keys such as "00" and "10" resolve as numbers in YAML's core schema, which keyed decoding
        // cannot look up.
        normallyClosed = try c.decodeIfPresent([Bool].self, forKey: .normallyClosed) ?? normallyClosed
        gpiod = try c.decodeIfPresent(GPIODInputsConfiguration.self, forKey: .gpiod)
    }
}

/// The `limits:` section: load-reduction commands over the API.
public struct LimitsSection: Sendable, Decodable {
    /// A command without `expires_after` expires after this long unless renewed (a keep-alive).
    public var defaultExpiry = ConfigDuration(seconds: 120)

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case defaultExpiry = "default_expiry"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        defaultExpiry = try c.decodeIfPresent(ConfigDuration.self, forKey: .defaultExpiry) ?? defaultExpiry
    }
}

/// The `demo:` section: simulated chargers that connect through LoadGuard's own server.
public struct DemoSection: Sendable, Decodable {
    /// Number of built-in simulated chargers (0: none).
    public var chargers = 0
    /// Pace of the simulated day for the building load (60: one simulated minute per second).
    public var speedup: Double = 60

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case chargers, speedup }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        chargers = try c.decodeIfPresent(Int.self, forKey: .chargers) ?? 0
        speedup = try c.decodeIfPresent(Double.self, forKey: .speedup) ?? speedup
    }
}

/// The `store:` section: where registers and state survive restarts.
public struct StoreSection: Sendable, Decodable {
    /// Directory for LoadGuard's state files (created if missing).
    public var directory = "data"

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case directory }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        directory = try c.decodeIfPresent(String.self, forKey: .directory) ?? directory
    }
}

/// How LoadGuard installs its limit on a charger.
public enum ProfileStrategy: String, Sendable, Decodable, CaseIterable {
    /// 1.6 `ChargePointMaxProfile` on connector 0; 2.x `ChargingStationMaxProfile` on EVSE 0.
    case max
    /// A `TxDefaultProfile` per connector/EVSE at a reserved stack level.
    case txdefault
    /// 2.0.1 `ChargingStationExternalConstraints`.
    case external
}

/// The unit a charger takes limits in.
public enum RateUnit: String, Sendable, Decodable {
    case A, W
}
