import Allocation
import Yams

/// The YAML shape of a scenario, key for key; ``ScenarioFile/scenario(file:root:readFile:)``
/// checks it and turns it into a ``Scenario``.
struct ScenarioFile: Decodable {
    var name: String?
    var duration: DurationValue
    var site: SiteSection
    var allocation: AllocationSection?
    var dispatch: DispatchSection?
    var building: BuildingSection?
    var chargers: [ChargerSection]
    var evs: [VehicleSection]
    var inputs: InputsSection?
    var events: [EventSection]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, duration, site, allocation, dispatch, building, chargers, evs, inputs, events
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        duration = try container.decode(DurationValue.self, forKey: .duration)
        site = try container.decode(SiteSection.self, forKey: .site)
        allocation = try container.decodeIfPresent(AllocationSection.self, forKey: .allocation)
        dispatch = try container.decodeIfPresent(DispatchSection.self, forKey: .dispatch)
        building = try container.decodeIfPresent(BuildingSection.self, forKey: .building)
        chargers = try container.decode([ChargerSection].self, forKey: .chargers)
        evs = try container.decodeIfPresent([VehicleSection].self, forKey: .evs) ?? []
        inputs = try container.decodeIfPresent(InputsSection.self, forKey: .inputs)
        events = try container.decodeIfPresent([EventSection].self, forKey: .events)
    }

    struct SiteSection: Decodable {
        var fuseCurrent: PhaseValue
        var margin: Double?
        var nominalVoltage: Double?
        var maxUnbalance: Double?
        var circuits: [CircuitSection]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case fuseCurrent = "fuse_current"
            case margin
            case nominalVoltage = "nominal_voltage"
            case maxUnbalance = "max_unbalance"
            case circuits
        }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            fuseCurrent = try container.decode(PhaseValue.self, forKey: .fuseCurrent)
            margin = try container.decodeIfPresent(Double.self, forKey: .margin)
            nominalVoltage = try container.decodeIfPresent(Double.self, forKey: .nominalVoltage)
            maxUnbalance = try container.decodeIfPresent(Double.self, forKey: .maxUnbalance)
            circuits = try container.decodeIfPresent([CircuitSection].self, forKey: .circuits)
        }
    }

    struct CircuitSection: Decodable {
        var id: String
        var parent: String?
        var limit: PhaseValue

        enum CodingKeys: String, CodingKey, CaseIterable { case id, parent, limit }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            parent = try container.decodeIfPresent(String.self, forKey: .parent)
            limit = try container.decode(PhaseValue.self, forKey: .limit)
        }
    }

    struct AllocationSection: Decodable {
        var values: [CodingKeys: Double] = [:]
        var safeCurrent: PhaseValue?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case rotationInterval = "rotation_interval"
            case minRunTime = "min_run_time"
            case minPauseTime = "min_pause_time"
            case underdrawWindow = "underdraw_window"
            case underdrawMargin = "underdraw_margin"
            case probeInterval = "probe_interval"
            case staleAfter = "stale_after"
            case failSafeAfter = "fail_safe_after"
            case safeCurrent = "safe_current"
            case chargerSilentAfter = "charger_silent_after"
            case offlineReserveTime = "offline_reserve_time"
        }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            for key in CodingKeys.allCases where key != .safeCurrent {
                if key == .underdrawMargin {
                    values[key] = try container.decodeIfPresent(Double.self, forKey: key)
                } else {
                    values[key] = try container.decodeIfPresent(DurationValue.self, forKey: key)?.seconds
                }
            }
            safeCurrent = try container.decodeIfPresent(PhaseValue.self, forKey: .safeCurrent)
        }

        func apply(to settings: inout AllocationSettings) {
            if let value = values[.rotationInterval] { settings.rotationInterval = value }
            if let value = values[.minRunTime] { settings.minimumRunTime = value }
            if let value = values[.minPauseTime] { settings.minimumPauseTime = value }
            if let value = values[.underdrawWindow] { settings.underdrawWindow = value }
            if let value = values[.underdrawMargin] { settings.underdrawMargin = value }
            if let value = values[.probeInterval] { settings.probeInterval = value }
            if let value = values[.staleAfter] { settings.staleAfter = value }
            if let value = values[.failSafeAfter] { settings.failSafeAfter = value }
            if let value = values[.chargerSilentAfter] { settings.chargerSilentAfter = value }
            if let value = values[.offlineReserveTime] { settings.offlineReserveTime = value }
            if let safeCurrent { settings.safeCurrent = safeCurrent.currents }
        }
    }

    struct DispatchSection: Decodable {
        var settleTime: DurationValue?
        var increaseFraction: Double?
        var deadband: Double?
        var smallGapPersistence: DurationValue?
        var withheldDecrease: Double?
        var unusedMargin: Double?
        var probeLoanTime: DurationValue?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case settleTime = "settle_time"
            case increaseFraction = "increase_fraction"
            case deadband
            case smallGapPersistence = "small_gap_persistence"
            case withheldDecrease = "withheld_decrease"
            case unusedMargin = "unused_margin"
            case probeLoanTime = "probe_loan_time"
        }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            settleTime = try container.decodeIfPresent(DurationValue.self, forKey: .settleTime)
            increaseFraction = try container.decodeIfPresent(Double.self, forKey: .increaseFraction)
            deadband = try container.decodeIfPresent(Double.self, forKey: .deadband)
            smallGapPersistence = try container.decodeIfPresent(DurationValue.self, forKey: .smallGapPersistence)
            withheldDecrease = try container.decodeIfPresent(Double.self, forKey: .withheldDecrease)
            unusedMargin = try container.decodeIfPresent(Double.self, forKey: .unusedMargin)
            probeLoanTime = try container.decodeIfPresent(DurationValue.self, forKey: .probeLoanTime)
        }
    }

    /// `[l1, l2, l3]` (or one number for all phases), or the path of a CSV of `seconds,l1,l2,l3`.
    enum BuildingSection: Decodable {
        case constant(PhaseValue)
        case csv(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self), Double(text) == nil {
                self = .csv(text)
            } else {
                self = .constant(try container.decode(PhaseValue.self))
            }
        }
    }

    struct ChargerSection: Decodable {
        var id: String
        var phases: Int?
        var rotation: String?
        var minCurrent: Double?
        var maxCurrent: Double?
        var priority: Int?
        var circuit: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, phases, rotation
            case minCurrent = "min_current"
            case maxCurrent = "max_current"
            case priority, circuit
        }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            phases = try container.decodeIfPresent(Int.self, forKey: .phases)
            rotation = try container.decodeIfPresent(String.self, forKey: .rotation)
            minCurrent = try container.decodeIfPresent(Double.self, forKey: .minCurrent)
            maxCurrent = try container.decodeIfPresent(Double.self, forKey: .maxCurrent)
            priority = try container.decodeIfPresent(Int.self, forKey: .priority)
            circuit = try container.decodeIfPresent(String.self, forKey: .circuit)
        }
    }

    struct VehicleSection: Decodable {
        var id: String?
        var charger: String
        var arrive: DurationValue?
        var depart: DurationValue?
        var energyWh: Double
        var maxCurrent: Double?
        var phases: Int?
        var reactionDelay: DurationValue?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, charger, arrive, depart
            case energyWh = "energy_wh"
            case maxCurrent = "max_current"
            case phases
            case reactionDelay = "reaction_delay"
        }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decodeIfPresent(String.self, forKey: .id)
            charger = try container.decode(String.self, forKey: .charger)
            arrive = try container.decodeIfPresent(DurationValue.self, forKey: .arrive)
            depart = try container.decodeIfPresent(DurationValue.self, forKey: .depart)
            energyWh = try container.decode(Double.self, forKey: .energyWh)
            maxCurrent = try container.decodeIfPresent(Double.self, forKey: .maxCurrent)
            phases = try container.decodeIfPresent(Int.self, forKey: .phases)
            reactionDelay = try container.decodeIfPresent(DurationValue.self, forKey: .reactionDelay)
        }
    }

    /// The ripple-control mapping. Its `levels` are read from the YAML nodes directly (see
    /// ``ScenarioFile/rippleLevels(root:file:)``): input patterns such as `"00"` must stay text.
    struct InputsSection: Decodable {
        var initial: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case levels, initial }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            guard container.contains(.levels) else {
                throw DecodingError.keyNotFound(
                    CodingKeys.levels,
                    DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "missing levels")
                )
            }
            initial = try container.decodeIfPresent(String.self, forKey: .initial)
        }
    }

    struct EventSection: Decodable {
        var at: DurationValue
        var inputs: String?
        var apiLimit: APILimitSection?
        var building: PhaseValue?
        var meterFault: DurationValue?
        var chargerOffline: ChargerOfflineSection?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case at, inputs
            case apiLimit = "api_limit"
            case building
            case meterFault = "meter_fault"
            case chargerOffline = "charger_offline"
        }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            at = try container.decode(DurationValue.self, forKey: .at)
            inputs = try container.decodeIfPresent(String.self, forKey: .inputs)
            apiLimit = try container.decodeIfPresent(APILimitSection.self, forKey: .apiLimit)
            building = try container.decodeIfPresent(PhaseValue.self, forKey: .building)
            meterFault = try container.decodeIfPresent(DurationValue.self, forKey: .meterFault)
            chargerOffline = try container.decodeIfPresent(ChargerOfflineSection.self, forKey: .chargerOffline)
            let chosen = [inputs != nil, apiLimit != nil, building != nil, meterFault != nil, chargerOffline != nil]
                .filter { $0 }.count
            guard chosen == 1 else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: decoder.codingPath,
                        debugDescription:
                            "expected exactly one of inputs, api_limit, building, meter_fault, charger_offline "
                            + "besides `at`, found \(chosen)"
                    )
                )
            }
        }
    }

    struct APILimitSection: Decodable {
        var id: String?
        var maxCurrent: LevelValue
        var expiresAfter: DurationValue?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id
            case maxCurrent = "max_current"
            case expiresAfter = "expires_after"
        }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decodeIfPresent(String.self, forKey: .id)
            maxCurrent = try container.decode(LevelValue.self, forKey: .maxCurrent)
            expiresAfter = try container.decodeIfPresent(DurationValue.self, forKey: .expiresAfter)
        }
    }

    struct ChargerOfflineSection: Decodable {
        var charger: String
        var duration: DurationValue

        enum CodingKeys: String, CodingKey, CaseIterable { case charger, duration }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            charger = try container.decode(String.self, forKey: .charger)
            duration = try container.decode(DurationValue.self, forKey: .duration)
        }
    }
}

/// `90s`, `15m`, `2h`, `1h30m`, or a number of seconds.
struct DurationValue: Decodable {
    var seconds: Double

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self), number.isFinite, number >= 0 {
            seconds = number
            return
        }
        let text = (try? container.decode(String.self)) ?? ""
        guard let value = ScenarioDuration.seconds(text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected a duration such as 90s, 15m, 2h or 1h30m, found \"\(text)\""
            )
        }
        seconds = value
    }
}

/// One number for all three phases, or `[l1, l2, l3]`.
struct PhaseValue: Decodable {
    var currents: PhaseCurrents

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            currents = PhaseCurrents(all: number)
            return
        }
        guard let list = try? container.decode([Double].self), list.count == 3 else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected a current in amperes or a list of three, [l1, l2, l3]"
            )
        }
        currents = PhaseCurrents(l1: list[0], l2: list[1], l3: list[2])
    }
}

/// A limit level: a number (amperes) or a text such as `"60%"`, `"32A"`, `"4.2kW"`.
struct LevelValue: Decodable {
    var level: LimitLevel

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            level = .amperes(number)
            return
        }
        let text = (try? container.decode(String.self)) ?? ""
        do {
            level = try LimitLevel(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }
}
