/// One phase of the site's grid connection.
public enum GridPhase: Int, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case l1 = 0
    case l2 = 1
    case l3 = 2

    public var description: String {
        switch self {
        case .l1: "L1"
        case .l2: "L2"
        case .l3: "L3"
        }
    }
}

/// A current per phase, in amperes.
///
/// Used both in grid order (L1, L2, L3 of the site's connection) and in a charger's own order
/// (its L1, L2, L3 terminals); ``PhaseRotation`` maps the second onto the first.
public struct PhaseCurrents: Sendable, Hashable, Codable, CustomStringConvertible {
    public var l1: Double
    public var l2: Double
    public var l3: Double

    public init(l1: Double, l2: Double, l3: Double) {
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
    }

    /// The same current on every phase.
    public init(all current: Double) {
        self.init(l1: current, l2: current, l3: current)
    }

    public static let zero = PhaseCurrents(all: 0)

    public subscript(phase: GridPhase) -> Double {
        get {
            switch phase {
            case .l1: l1
            case .l2: l2
            case .l3: l3
            }
        }
        set {
            switch phase {
            case .l1: l1 = newValue
            case .l2: l2 = newValue
            case .l3: l3 = newValue
            }
        }
    }

    /// The current on the charger terminal or grid phase with this index (0, 1, 2).
    public subscript(index: Int) -> Double {
        get { self[GridPhase(rawValue: index)!] }
        set { self[GridPhase(rawValue: index)!] = newValue }
    }

    /// The highest of the three currents.
    public var maximum: Double { Swift.max(l1, l2, l3) }
    /// The lowest of the three currents.
    public var minimum: Double { Swift.min(l1, l2, l3) }
    /// The sum of the three currents.
    public var sum: Double { l1 + l2 + l3 }

    /// Applies `transform` to each phase.
    public func map(_ transform: (Double) -> Double) -> PhaseCurrents {
        PhaseCurrents(l1: transform(l1), l2: transform(l2), l3: transform(l3))
    }

    /// Combines two values phase by phase.
    public static func combine(
        _ a: PhaseCurrents,
        _ b: PhaseCurrents,
        _ operation: (Double, Double) -> Double
    ) -> PhaseCurrents {
        PhaseCurrents(l1: operation(a.l1, b.l1), l2: operation(a.l2, b.l2), l3: operation(a.l3, b.l3))
    }

    public static func + (a: PhaseCurrents, b: PhaseCurrents) -> PhaseCurrents { combine(a, b, +) }
    public static func - (a: PhaseCurrents, b: PhaseCurrents) -> PhaseCurrents { combine(a, b, -) }
    public static func += (a: inout PhaseCurrents, b: PhaseCurrents) { a = a + b }
    public static func -= (a: inout PhaseCurrents, b: PhaseCurrents) { a = a - b }

    public var description: String {
        func format(_ value: Double) -> String {
            let tenths = (value * 10).rounded() / 10
            return "\(tenths)"
        }
        return "[\(format(l1)), \(format(l2)), \(format(l3))] A"
    }
}

/// A set of grid phases, for example the phases one charger loads.
public struct PhaseSet: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Bit `n` set: grid phase with raw value `n` is in the set.
    public private(set) var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue & 0b111
    }

    public init(_ phases: [GridPhase]) {
        var raw: UInt8 = 0
        for phase in phases { raw |= 1 << UInt8(phase.rawValue) }
        self.init(rawValue: raw)
    }

    public static let all = PhaseSet([.l1, .l2, .l3])
    public static let none = PhaseSet(rawValue: 0)

    public func contains(_ phase: GridPhase) -> Bool { rawValue & (1 << UInt8(phase.rawValue)) != 0 }
    public var count: Int { rawValue.nonzeroBitCount }
    public var phases: [GridPhase] { GridPhase.allCases.filter { contains($0) } }

    /// `current` on every phase of the set, 0 elsewhere.
    public func currents(_ current: Double) -> PhaseCurrents {
        PhaseCurrents(
            l1: contains(.l1) ? current : 0,
            l2: contains(.l2) ? current : 0,
            l3: contains(.l3) ? current : 0
        )
    }

    public var description: String { "[" + phases.map(\.description).joined(separator: ", ") + "]" }

    public init(from decoder: any Decoder) throws {
        let phases = try [GridPhase](from: decoder)
        self.init(phases)
    }

    public func encode(to encoder: any Encoder) throws {
        try phases.encode(to: encoder)
    }
}

/// How a charger's terminals L1, L2, L3 are wired to the grid phases.
///
/// `l2l3l1` means: the charger's L1 is the grid's L2, its L2 the grid's L3, its L3 the grid's L1.
/// Installers rotate phases so that one-phase chargers spread over the grid phases.
/// `unknown` is for a charger whose wiring nobody recorded: it is counted on every grid phase,
/// which is safe for the fuse but wastes headroom.
public enum PhaseRotation: String, Sendable, Hashable, Codable, CaseIterable {
    case l1l2l3 = "L1L2L3"
    case l2l3l1 = "L2L3L1"
    case l3l1l2 = "L3L1L2"
    case l1l3l2 = "L1L3L2"
    case l2l1l3 = "L2L1L3"
    case l3l2l1 = "L3L2L1"
    case unknown

    /// The grid phase wired to the charger's terminal `index` (0 = its L1); nil when unknown.
    public func gridPhase(ofTerminal index: Int) -> GridPhase? {
        let first: Int
        let reversed: Bool
        switch self {
        case .l1l2l3: (first, reversed) = (0, false)
        case .l2l3l1: (first, reversed) = (1, false)
        case .l3l1l2: (first, reversed) = (2, false)
        case .l1l3l2: (first, reversed) = (0, true)
        case .l2l1l3: (first, reversed) = (1, true)
        case .l3l2l1: (first, reversed) = (2, true)
        case .unknown: return nil
        }
        let offset = reversed ? (3 - index) % 3 : index
        return GridPhase(rawValue: (first + offset) % 3)
    }

    /// The grid phase (raw value) of terminals 0, 1 and 2, as `gridPhase(ofTerminal:)` gives them;
    /// nil when unknown. (The allocator maps every charger's terminals: one switch instead of one
    /// per terminal.)
    private var terminalPhases: (Int, Int, Int)? {
        switch self {
        case .l1l2l3: (0, 1, 2)
        case .l2l3l1: (1, 2, 0)
        case .l3l1l2: (2, 0, 1)
        case .l1l3l2: (0, 2, 1)
        case .l2l1l3: (1, 0, 2)
        case .l3l2l1: (2, 1, 0)
        case .unknown: nil
        }
    }

    /// The grid phases a charger using `terminalCount` terminals (1, 2 or 3) loads.
    /// With an unknown rotation that is every phase.
    public func gridPhases(terminalCount: Int) -> PhaseSet {
        guard let phases = terminalPhases else { return .all }
        let count = min(max(terminalCount, 0), 3)
        var raw: UInt8 = 0
        if count > 0 { raw |= 1 << UInt8(phases.0) }
        if count > 1 { raw |= 1 << UInt8(phases.1) }
        if count > 2 { raw |= 1 << UInt8(phases.2) }
        return PhaseSet(rawValue: raw)
    }

    /// Maps currents measured at the charger's terminals (charger order) onto grid phases.
    ///
    /// With an unknown rotation the highest terminal current is put on every grid phase: the
    /// charger may load any of them.
    public func toGrid(_ terminals: PhaseCurrents, terminalCount: Int) -> PhaseCurrents {
        guard self != .unknown else {
            var highest = 0.0
            for index in 0..<terminalCount { highest = Swift.max(highest, terminals[index]) }
            return PhaseCurrents(all: highest)
        }
        let phases = terminalPhases!
        var grid = PhaseCurrents.zero
        for index in 0..<terminalCount {
            let phase = index == 0 ? phases.0 : index == 1 ? phases.1 : phases.2
            grid[phase] += terminals[index]
        }
        return grid
    }

    /// Parses `"L2L3L1"`, `"l2l3l1"`, `"L2-L3-L1"`, `"231"` or `"unknown"`.
    public init?(parsing text: String) {
        let cleaned = text.uppercased().filter { $0 != "-" && $0 != " " && $0 != "," }
        if cleaned == "UNKNOWN" {
            self = .unknown
            return
        }
        let digits = cleaned.filter { $0 != "L" }
        guard let match = PhaseRotation.allCases.first(where: { $0.rawValue.filter(\.isNumber) == digits }) else {
            return nil
        }
        self = match
    }
}
