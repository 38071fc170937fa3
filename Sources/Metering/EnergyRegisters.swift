/// One set of four-quadrant energy registers, in milliwatt-hours and millivar-hours.
///
/// Active energy is split by direction (import: power flowing from the grid into the site);
/// reactive energy by the quadrant of (P, Q) as in IEC 62053-23: Q1 P ≥ 0, Q > 0 (import,
/// inductive); Q2 P < 0, Q > 0; Q3 P < 0, Q < 0; Q4 P ≥ 0, Q < 0 (import, capacitive).
/// Every register only ever grows.
public struct RegisterSet: Codable, Sendable, Equatable {
    public var activeImportMilliwattHours: Int64 = 0
    public var activeExportMilliwattHours: Int64 = 0
    public var reactiveQ1MillivarHours: Int64 = 0
    public var reactiveQ2MillivarHours: Int64 = 0
    public var reactiveQ3MillivarHours: Int64 = 0
    public var reactiveQ4MillivarHours: Int64 = 0

    public init() {}

    /// The registers as an array, in declaration order.
    var all: [Int64] {
        get {
            [
                activeImportMilliwattHours, activeExportMilliwattHours, reactiveQ1MillivarHours,
                reactiveQ2MillivarHours, reactiveQ3MillivarHours, reactiveQ4MillivarHours,
            ]
        }
        set {
            activeImportMilliwattHours = newValue[0]
            activeExportMilliwattHours = newValue[1]
            reactiveQ1MillivarHours = newValue[2]
            reactiveQ2MillivarHours = newValue[3]
            reactiveQ3MillivarHours = newValue[4]
            reactiveQ4MillivarHours = newValue[5]
        }
    }

    /// Register by register, the larger of the two.
    public func merged(with other: RegisterSet) -> RegisterSet {
        var result = RegisterSet()
        result.all = zip(all, other.all).map { max($0, $1) }
        return result
    }

    /// The same registers in Wh and VArh.
    public var values: RegisterValues {
        RegisterValues(
            activeImportWh: Double(activeImportMilliwattHours) / 1000,
            activeExportWh: Double(activeExportMilliwattHours) / 1000,
            reactiveQ1Varh: Double(reactiveQ1MillivarHours) / 1000,
            reactiveQ2Varh: Double(reactiveQ2MillivarHours) / 1000,
            reactiveQ3Varh: Double(reactiveQ3MillivarHours) / 1000,
            reactiveQ4Varh: Double(reactiveQ4MillivarHours) / 1000
        )
    }
}

/// A ``RegisterSet`` in Wh and VArh, as shown in readings.
public struct RegisterValues: Codable, Sendable, Equatable {
    public var activeImportWh: Double
    public var activeExportWh: Double
    public var reactiveQ1Varh: Double
    public var reactiveQ2Varh: Double
    public var reactiveQ3Varh: Double
    public var reactiveQ4Varh: Double
}

/// Every energy register of the meter: the total (the net of the three phases, window by window,
/// as a three-phase meter's total registers) and each phase. Persist it at least every 60 s and on
/// shutdown; on start, hand the last persisted snapshot to ``MeteringEngine/restore(_:)``.
public struct RegisterSnapshot: Codable, Sendable, Equatable {
    /// Format version of the persisted form.
    public var version: Int = 1
    public var total: RegisterSet = RegisterSet()
    /// L1, L2, L3.
    public var phases: [RegisterSet] = [RegisterSet(), RegisterSet(), RegisterSet()]

    public init() {}

    /// Register by register, the larger of the two snapshots: a restore never goes backwards,
    /// whichever of the two is older.
    public func merged(with other: RegisterSnapshot) -> RegisterSnapshot {
        var result = RegisterSnapshot()
        result.version = max(version, other.version)
        result.total = total.merged(with: other.total)
        result.phases = (0..<3).map { p in
            let a = p < phases.count ? phases[p] : RegisterSet()
            let b = p < other.phases.count ? other.phases[p] : RegisterSet()
            return a.merged(with: b)
        }
        return result
    }

    /// Every register in Wh / VArh.
    public var values: EnergyReading {
        EnergyReading(total: total.values, phases: phases.map(\.values))
    }
}

/// The registers as shown in a reading, in Wh and VArh.
public struct EnergyReading: Codable, Sendable, Equatable {
    public var total: RegisterValues
    public var phases: [RegisterValues]
}

/// Integrates energy into a ``RegisterSnapshot`` without losing the fractions below 1 mWh:
/// each register keeps its remainder, so a long run of small windows adds up exactly.
struct EnergyIntegrator: Sendable {
    private(set) var snapshot = RegisterSnapshot()
    /// Remainders in mWh / mVArh, [set][register], set 0 the total, 1–3 the phases.
    private var remainders = [[Double]](repeating: [Double](repeating: 0, count: 6), count: 4)

    /// Adds one window's energy.
    /// - Parameters:
    ///   - activePower: W per set (total, L1, L2, L3).
    ///   - reactivePower: var per set.
    ///   - seconds: the window's duration.
    mutating func add(activePower: [Double], reactivePower: [Double], seconds: Double) {
        for set in 0..<4 {
            let p = activePower[set]
            let q = reactivePower[set]
            let energy = abs(p) * seconds / 3.6
            let reactive = abs(q) * seconds / 3.6
            if energy > 0 { add(energy, set: set, register: p > 0 ? 0 : 1) }
            if reactive > 0 {
                let quadrant = q > 0 ? (p >= 0 ? 2 : 3) : (p >= 0 ? 5 : 4)
                add(reactive, set: set, register: quadrant)
            }
        }
    }

    private mutating func add(_ amount: Double, set: Int, register: Int) {
        let sum = remainders[set][register] + amount
        let whole = sum.rounded(.down)
        remainders[set][register] = sum - whole
        guard whole >= 1 else { return }
        let step = Int64(whole)
        if set == 0 {
            snapshot.total.all[register] += step
        } else {
            snapshot.phases[set - 1].all[register] += step
        }
    }

    /// Raises every register to at least the restored value; remainders are kept.
    mutating func restore(_ other: RegisterSnapshot) {
        snapshot = snapshot.merged(with: other)
    }
}
