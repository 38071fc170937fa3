/// One phase of a reading (line values: volts, amperes, watts, vars, volt-amperes).
public struct PhaseReading: Codable, Sendable, Equatable {
    /// RMS voltage, including harmonics.
    public var voltage: Double
    /// RMS current, including harmonics.
    public var current: Double
    /// Active power, including harmonics; negative when exporting. 0 when gated.
    public var activePower: Double
    /// Fundamental reactive power (single-bin DFT at the measured frequency); positive when the
    /// current lags. 0 when gated.
    public var reactivePower: Double
    /// `voltage · current`; 0 when gated.
    public var apparentPower: Double
    /// `activePower / apparentPower`, signed like the active power; `nil` when gated.
    public var powerFactor: Double?
    /// The RMS voltage is at or above the voltage-absent threshold.
    public var voltagePresent: Bool
    /// The RMS current is at or above the no-load threshold.
    public var loaded: Bool

    public init(
        voltage: Double,
        current: Double,
        activePower: Double,
        reactivePower: Double,
        apparentPower: Double,
        powerFactor: Double?,
        voltagePresent: Bool,
        loaded: Bool
    ) {
        self.voltage = voltage
        self.current = current
        self.activePower = activePower
        self.reactivePower = reactivePower
        self.apparentPower = apparentPower
        self.powerFactor = powerFactor
        self.voltagePresent = voltagePresent
        self.loaded = loaded
    }
}

/// The three phases together.
public struct TotalReading: Codable, Sendable, Equatable {
    /// Sum of the phases' active powers.
    public var activePower: Double
    /// Sum of the phases' fundamental reactive powers.
    public var reactivePower: Double
    /// Sum of the phases' apparent powers (arithmetic apparent power).
    public var apparentPower: Double
    /// `activePower / apparentPower`; `nil` when no phase is loaded.
    public var powerFactor: Double?
    /// Mean of the three RMS voltages.
    public var averageVoltage: Double
    /// Mean of the three RMS currents.
    public var averageCurrent: Double
}

/// One second of measurement: the aggregate of the 10-cycle windows that ended in that second of
/// the sample clock, with the energy registers after the last of them.
public struct MeterReading: Codable, Sendable, Equatable {
    /// The second `[second, second + 1)` of the sample clock this reading covers.
    public var second: Int64
    /// Sample-clock time (seconds) where the first window of this reading started and the last one ended.
    public var start: Double
    public var end: Double
    /// Number of windows aggregated (5 at 50 Hz, sometimes 4 or 6).
    public var windows: Int
    /// Mean frequency over the locked windows, in Hz; `nil` when no window was locked to the
    /// voltage or the frequency is outside ±15 % of nominal (42.5–57.5 Hz at 50 Hz).
    public var frequency: Double?
    /// Every window started and ended at a voltage zero crossing.
    public var locked: Bool
    /// A Rogowski integrator is still settling after a start or a gap: values may be off.
    public var settling: Bool
    /// L1, L2, L3.
    public var phases: [PhaseReading]
    public var total: TotalReading
    /// RMS neutral current, when the source samples it.
    public var neutralCurrent: Double?
    /// The energy registers at the end of this second.
    public var energy: EnergyReading
}

/// One measurement window: ten cycles between interpolated zero crossings of the voltage
/// reference (or, without a voltage to lock to, ten nominal cycles).
public struct CycleWindow: Sendable, Equatable {
    /// Sample-clock time of the window's start and end, in seconds.
    public var start: Double
    public var end: Double
    /// `10 / (end − start)` when locked and within ±15 % of nominal.
    public var frequency: Double?
    /// Start and end are zero crossings.
    public var locked: Bool
    /// L1, L2, L3, gated (voltage absent or no load: zero power).
    public var phases: [PhaseReading]
    public var neutralCurrent: Double?

    /// Duration in seconds.
    public var duration: Double { end - start }
}
