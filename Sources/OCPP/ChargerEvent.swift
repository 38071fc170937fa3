/// What the site controller learns from one charger's traffic.
public enum ChargerEvent: Sendable, Hashable {
    /// The charger connected with this version.
    case connected(version: OCPPVersion)
    /// The charger's connection closed.
    case disconnected
    /// The charger booted (its BootNotification).
    case boot(BootInfo)
    /// A connector (1.6) or EVSE connector (2.x) changed status.
    case status(StatusChange)
    /// A set of measurements at one point in time.
    case meterValues(MeterReading)
    case transactionStarted(TransactionStart)
    case transactionEnded(TransactionEnd)
    /// The CSMS set a charging profile, and the charger answered.
    case chargingProfileSetByCSMS(ProfileSet)
    /// The CSMS cleared charging profiles, and the charger answered.
    case chargingProfileClearedByCSMS(ProfileCleared)
    /// A message LoadGuard reads could not be decoded (for logs; the frame was forwarded all the same).
    case undecodable(action: String, reason: String)
}

/// Where on a charger: the outlet is the connector (1.6) or the EVSE (2.x); 0 is the whole charger.
public struct Outlet: Sendable, Hashable, CustomStringConvertible {
    /// 1.6 `connectorId`, 2.x `evseId`.
    public var id: Int
    /// 2.x `connectorId` within the EVSE; `nil` in 1.6.
    public var connectorID: Int?

    public init(id: Int, connectorID: Int? = nil) {
        self.id = id
        self.connectorID = connectorID
    }

    public var description: String { connectorID.map { "\(id)/\($0)" } ?? "\(id)" }
}

public struct BootInfo: Sendable, Hashable {
    public var vendor: String
    public var model: String
    public var serialNumber: String?
    public var firmwareVersion: String?

    public init(vendor: String, model: String, serialNumber: String? = nil, firmwareVersion: String? = nil) {
        self.vendor = vendor
        self.model = model
        self.serialNumber = serialNumber
        self.firmwareVersion = firmwareVersion
    }
}

public struct StatusChange: Sendable, Hashable {
    public var outlet: Outlet
    /// As sent: 1.6 `Available`, `Preparing`, `Charging`, `SuspendedEV`, …; 2.x `Available`, `Occupied`, …
    public var status: String
    /// 1.6 `errorCode` (`NoError` normally); `nil` in 2.x.
    public var errorCode: String?
    /// As sent, possibly not a valid date.
    public var timestamp: String?

    public init(outlet: Outlet, status: String, errorCode: String? = nil, timestamp: String? = nil) {
        self.outlet = outlet
        self.status = status
        self.errorCode = errorCode
        self.timestamp = timestamp
    }
}

/// Values per phase; `total` holds a value sent without a phase.
public struct PhaseValues: Sendable, Hashable {
    public var l1: Double?
    public var l2: Double?
    public var l3: Double?
    /// For power and energy: the charger's total. For current: a value sent without phase (one-phase chargers
    /// often report their current this way).
    public var total: Double?

    public init(l1: Double? = nil, l2: Double? = nil, l3: Double? = nil, total: Double? = nil) {
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
        self.total = total
    }

    public var isEmpty: Bool { l1 == nil && l2 == nil && l3 == nil && total == nil }

    /// The total if sent, else the sum of the phases sent (`nil` if none).
    public var totalOrSum: Double? {
        if let total { return total }
        let phases = [l1, l2, l3].compactMap { $0 }
        return phases.isEmpty ? nil : phases.reduce(0, +)
    }
}

/// The measurands LoadGuard uses from one `meterValue` element, normalized to A, W and Wh.
public struct MeterReading: Sendable, Hashable {
    public var outlet: Outlet
    /// 1.6: the transaction id as text; 2.x: the transaction id. `nil` outside a transaction.
    public var transactionID: String?
    /// As sent, possibly not a valid date.
    public var timestamp: String
    /// `Current.Import`, A.
    public var currentImport: PhaseValues
    /// `Power.Active.Import`, W.
    public var powerActiveImport: PhaseValues
    /// `Energy.Active.Import.Register`, Wh (total; per-phase registers are ignored).
    public var energyActiveImportRegister: Double?
    /// The reading's context (`Sample.Periodic`, `Transaction.Begin`, …) when sent.
    public var context: String?

    public init(
        outlet: Outlet,
        transactionID: String? = nil,
        timestamp: String,
        currentImport: PhaseValues = PhaseValues(),
        powerActiveImport: PhaseValues = PhaseValues(),
        energyActiveImportRegister: Double? = nil,
        context: String? = nil
    ) {
        self.outlet = outlet
        self.transactionID = transactionID
        self.timestamp = timestamp
        self.currentImport = currentImport
        self.powerActiveImport = powerActiveImport
        self.energyActiveImportRegister = energyActiveImportRegister
        self.context = context
    }
}

public struct TransactionStart: Sendable, Hashable {
    /// `nil` when the charger's StartTransaction (1.6) was answered without becoming a transaction.
    public var transactionID: String
    public var outlet: Outlet?
    /// Wh at the start, when sent.
    public var meterStart: Double?
    public var timestamp: String?
    /// 1.6: the `idTagInfo.status` of the StartTransaction answer (`Accepted`, `Invalid`, …).
    public var authorizationStatus: String?

    public init(
        transactionID: String,
        outlet: Outlet?,
        meterStart: Double? = nil,
        timestamp: String? = nil,
        authorizationStatus: String? = nil
    ) {
        self.transactionID = transactionID
        self.outlet = outlet
        self.meterStart = meterStart
        self.timestamp = timestamp
        self.authorizationStatus = authorizationStatus
    }
}

public struct TransactionEnd: Sendable, Hashable {
    public var transactionID: String
    /// Known if LoadGuard saw the start (or the 2.x event names the EVSE).
    public var outlet: Outlet?
    /// Wh at the end, when sent.
    public var meterStop: Double?
    public var timestamp: String?
    /// 1.6 `reason`, 2.x `stoppedReason`.
    public var reason: String?

    public init(
        transactionID: String,
        outlet: Outlet?,
        meterStop: Double? = nil,
        timestamp: String? = nil,
        reason: String? = nil
    ) {
        self.transactionID = transactionID
        self.outlet = outlet
        self.meterStop = meterStop
        self.timestamp = timestamp
        self.reason = reason
    }
}

public struct ProfileSet: Sendable, Hashable {
    public var outlet: Outlet
    public var profileID: Int
    public var purpose: String
    public var stackLevel: Int
    /// The first period's limit and the schedule's unit, when present.
    public var firstLimit: Double?
    public var unit: String?
    /// The charger answered `Accepted`.
    public var accepted: Bool

    public init(
        outlet: Outlet,
        profileID: Int,
        purpose: String,
        stackLevel: Int,
        firstLimit: Double? = nil,
        unit: String? = nil,
        accepted: Bool
    ) {
        self.outlet = outlet
        self.profileID = profileID
        self.purpose = purpose
        self.stackLevel = stackLevel
        self.firstLimit = firstLimit
        self.unit = unit
        self.accepted = accepted
    }
}

public struct ProfileCleared: Sendable, Hashable {
    /// The criteria of the request; all `nil` clears every profile.
    public var profileID: Int?
    public var outlet: Outlet?
    public var purpose: String?
    public var stackLevel: Int?
    /// The charger answered `Accepted`.
    public var accepted: Bool

    public init(profileID: Int?, outlet: Outlet?, purpose: String?, stackLevel: Int?, accepted: Bool) {
        self.profileID = profileID
        self.outlet = outlet
        self.purpose = purpose
        self.stackLevel = stackLevel
        self.accepted = accepted
    }
}
