public import Allocation
public import OCPP

/// What LoadGuard knows about one configured (or accepted unknown) charger, from its traffic.
///
/// Pure: events go in with the time they were seen; ``allocatorState(now:)`` gives the
/// allocator's view. Measurement sources, best first: per-phase `Current.Import`; a `Current.Import`
/// without phase (one-phase chargers; put on every terminal of a multi-phase charger, which is
/// conservative); `Power.Active.Import` divided by nominal voltage and phase count; nothing
/// (then a charging car is accounted at the limit it was given, or its maximum).
public struct ChargerRecord: Sendable, Equatable {
    /// Where the charger's current figure comes from.
    public enum MeasurementSource: String, Sendable, Codable {
        case phaseCurrents = "phase_currents"
        case totalCurrent = "total_current"
        case power
        case none
    }

    public var model: Charger
    public var connected = false
    public var version: OCPPVersion?
    public var vendor: String?
    public var chargerModel: String?
    public var statuses: [Int: String] = [:]
    public var transactions: Set<String> = []
    /// Current per terminal, amperes.
    public var measured: PhaseCurrents = .zero
    public var measurementSource = MeasurementSource.none
    public var lastReport: Double?
    public var sessionEnergyStart: Double?
    public var energyRegister: Double?
    /// The limit the charger last accepted, amperes, and since when.
    public var acceptedLimit: Double?
    public var acceptedSince: Double?
    /// Since when the charger draws more than its limit × 1.1 + 0.5 A.
    public var overdrawSince: Double?
    /// Flagged after 10 s of overdraw: its draw is treated as uncontrolled load.
    public var nonCompliant = false

    public init(model: Charger) { self.model = model }

    /// The status the allocator sees: the most active of the charger's connectors.
    public var status: ConnectorStatus {
        let order: [ConnectorStatus] = [
            .charging, .suspendedEV, .suspendedEVSE, .preparing, .finishing, .reserved, .available, .unavailable,
            .faulted,
        ]
        let known = statuses.filter { $0.key != 0 }.values.compactMap(Self.connectorStatus)
        if known.isEmpty {
            // 2.x stations report Occupied; a transaction means a car.
            return transactions.isEmpty ? (statuses[0].flatMap(Self.connectorStatus) ?? .available) : .charging
        }
        for status in order where known.contains(status) { return status }
        return .available
    }

    /// Maps 1.6 and 2.x status words onto the allocator's vocabulary.
    static func connectorStatus(_ text: String) -> ConnectorStatus? {
        if let status = ConnectorStatus(rawValue: text) { return status }
        switch text {
        case "Occupied": return .charging
        default: return nil
        }
    }

    /// Applies one observed event at `now` (seconds). `nominalVoltage` turns power into current.
    public mutating func apply(_ event: ChargerEvent, now: Double, nominalVoltage: Double) {
        switch event {
        case .connected(let version):
            connected = true
            self.version = version
        case .disconnected:
            connected = false
            acceptedLimit = nil
            acceptedSince = nil
        case .boot(let info):
            vendor = info.vendor
            chargerModel = info.model
            acceptedLimit = nil
            acceptedSince = nil
        case .status(let change):
            statuses[change.outlet.id] = change.status
            lastReport = now
        case .meterValues(let reading):
            applyMeter(reading, now: now, nominalVoltage: nominalVoltage)
        case .transactionStarted(let start):
            transactions.insert(start.transactionID)
            sessionEnergyStart = start.meterStart ?? energyRegister
        case .transactionEnded(let end):
            transactions.remove(end.transactionID)
            if transactions.isEmpty {
                measured = .zero
                sessionEnergyStart = nil
            }
        case .chargingProfileSetByCSMS, .chargingProfileClearedByCSMS, .undecodable:
            break
        }
    }

    private mutating func applyMeter(_ reading: OCPP.MeterReading, now: Double, nominalVoltage: Double) {
        let terminals = model.terminalCount
        let current = reading.currentImport
        let power = reading.powerActiveImport
        if let register = reading.energyActiveImportRegister { energyRegister = register }
        lastReport = now
        if current.l1 != nil || current.l2 != nil || current.l3 != nil {
            measured = PhaseCurrents(l1: current.l1 ?? 0, l2: current.l2 ?? 0, l3: current.l3 ?? 0)
            measurementSource = .phaseCurrents
        } else if let total = current.total {
            // Without a phase: a one-phase charger's current, or an unknown split: count it on
            // every terminal (conservative for the fuse).
            measured = PhaseCurrents(all: 0)
            for index in 0..<terminals { measured[index] = total }
            measurementSource = .totalCurrent
        } else if let watts = power.totalOrSum {
            let perPhase = max(0, watts) / (nominalVoltage * Double(terminals))
            measured = .zero
            for index in 0..<terminals { measured[index] = perPhase }
            measurementSource = .power
        } else {
            return
        }
        checkCompliance(now: now)
    }

    /// A charger drawing more than its limit × 1.1 + 0.5 A for over 10 s is non-compliant.
    mutating func checkCompliance(now: Double) {
        guard let limit = acceptedLimit else {
            overdrawSince = nil
            return
        }
        let draw = (0..<model.terminalCount).map { measured[$0] }.max() ?? 0
        if draw > limit * 1.1 + 0.5 {
            let since = overdrawSince ?? now
            overdrawSince = since
            if now - since > 10 { nonCompliant = true }
        } else {
            overdrawSince = nil
            nonCompliant = false
        }
    }

    /// The limit was accepted by the charger.
    public mutating func accepted(limit: Double, now: Double) {
        if acceptedLimit != limit {
            acceptedLimit = limit
            acceptedSince = now
            overdrawSince = nil
        }
    }

    /// The allocator's view of this charger.
    public func allocatorState(now: Double) -> ChargerState {
        var measured = self.measured
        if measurementSource == .none, status == .charging {
            // Charging but no figure: account it at its limit, or its maximum.
            let assumed = acceptedLimit ?? model.maxCurrent
            for index in 0..<model.terminalCount { measured[index] = assumed }
        }
        return ChargerState(
            charger: model,
            status: status,
            connected: connected,
            measured: measured,
            sessionEnergy: max(0, (energyRegister ?? 0) - (sessionEnergyStart ?? energyRegister ?? 0)),
            lastReport: lastReport,
            appliedLimit: acceptedLimit,
            appliedSince: acceptedSince
        )
    }
}
