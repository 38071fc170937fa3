/// Where a limit comes from, so a person can trace why a charger got what it got.
public struct LimitSource: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// The main fuse.
        case fuse
        /// The operator's configured cap below the fuse.
        case configuredCap = "configured_cap"
        /// The level selected by the ripple-control inputs.
        case rippleControl = "ripple_control"
        /// An API command (the id names which).
        case apiCommand = "api_command"
        /// A sub-distribution's limit (the id names which).
        case circuit
        /// The largest allowed difference between phases.
        case unbalance
        /// The fail-safe budget used while the grid measurement is missing or stale.
        case safeBudget = "safe_budget"
        /// The charger's own maximum current.
        case charger
        /// What the car takes: it draws less than it was offered.
        case vehicle
    }

    public var kind: Kind
    /// The API command's or circuit's id.
    public var id: String?

    public init(_ kind: Kind, id: String? = nil) {
        self.kind = kind
        self.id = id
    }

    public static let fuse = LimitSource(.fuse)
    public static let configuredCap = LimitSource(.configuredCap)
    public static let rippleControl = LimitSource(.rippleControl)
    public static let unbalance = LimitSource(.unbalance)
    public static let safeBudget = LimitSource(.safeBudget)
    public static let charger = LimitSource(.charger)
    public static let vehicle = LimitSource(.vehicle)
    public static func apiCommand(_ id: String) -> LimitSource { LimitSource(.apiCommand, id: id) }
    public static func circuit(_ id: String) -> LimitSource { LimitSource(.circuit, id: id) }

    public var description: String {
        if let id { return "\(kind.rawValue)(\(id))" }
        return kind.rawValue
    }
}

/// One phase's limit and the source that set it.
public struct PhaseLimit: Sendable, Equatable, Codable {
    public var phase: GridPhase
    public var current: Double
    public var source: LimitSource

    public init(phase: GridPhase, current: Double, source: LimitSource) {
        self.phase = phase
        self.current = current
        self.source = source
    }
}
