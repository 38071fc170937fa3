public import Hardware

/// How raw samples become line volts and amperes, and the meter's nominal values and gates.
///
/// Lives under `meter: calibration:` in the site configuration (snake_case keys, every key
/// optional). `voltage` applies to V1–V3 and `current` to I1–I3 and IN unless a channel has its
/// own entry (a channel entry replaces the group entry as a whole):
///
/// ```yaml
/// meter:
///   calibration:
///     nominal_voltage: 230
///     nominal_current: 100
///     voltage: { gain: 1000 }                     # a 1000:1 divider
///     current: { ct_primary: 100, ct_secondary: 5 }
///     channels:
///       i2: { ct_primary: 100, ct_secondary: 5, gain: 1.002, phase_lead_degrees: 0.4 }
/// ```
public struct MeterCalibration: Decodable, Sendable, Equatable {
    /// Nominal phase-to-neutral voltage, in volts.
    public var nominalVoltage: Double = 230
    /// Nominal grid frequency, in Hz (50 or 60). Frequencies within ±15 % of it are valid.
    public var nominalFrequency: Double = 50
    /// Nominal (rated) current per phase, in amperes.
    public var nominalCurrent: Double = 100
    /// Below this RMS voltage a phase counts as absent (no power, no energy). Default: 10 % of nominal.
    public var voltageAbsentThreshold: Double? = nil
    /// Below this RMS current a phase counts as unloaded (no power, no energy: no creep).
    /// Default: 0.1 % of nominal.
    public var noLoadCurrent: Double? = nil
    /// Time constant of the Rogowski integrator's DC block and leak, in seconds. Longer keeps the
    /// integrator's phase error at harmonics smaller; its start-up offset is removed window by
    /// window whatever the time constant.
    public var integratorTimeConstant: Double = 2
    /// Calibration of V1–V3, unless a channel has its own.
    public var voltage: ChannelCalibration = ChannelCalibration()
    /// Calibration of I1–I3 and IN, unless a channel has its own.
    public var current: ChannelCalibration = ChannelCalibration()
    /// Per-channel calibration, keyed `v1 v2 v3 i1 i2 i3 in`.
    public var channels: [String: ChannelCalibration] = [:]

    public init() {}

    /// One channel: `line = (sample − offset) · gain · ratio`, where the ratio is the CT's
    /// primary/secondary, or for a Rogowski coil the integral of `sample / M` with
    /// `M = sensitivity / (2π · rogowski_frequency)`.
    public struct ChannelCalibration: Decodable, Sendable, Equatable {
        /// Multiplier (a voltage channel's divider ratio, or a trim on a current channel).
        public var gain: Double = 1
        /// Subtracted from the sample first, in sensor units.
        public var offset: Double = 0
        /// Current transformer rating; both or neither.
        public var ctPrimary: Double? = nil
        public var ctSecondary: Double? = nil
        /// Rogowski coil sensitivity in millivolts per kiloampere at `rogowskiFrequency`.
        public var rogowskiMvPerKa: Double? = nil
        public var rogowskiFrequency: Double = 50
        /// Degrees by which the sensor's output leads the line quantity at the fundamental
        /// (negative: lags). Removed as a fractional delay at the measured frequency.
        public var phaseLeadDegrees: Double = 0

        public init(
            gain: Double = 1,
            offset: Double = 0,
            ctPrimary: Double? = nil,
            ctSecondary: Double? = nil,
            rogowskiMvPerKa: Double? = nil,
            rogowskiFrequency: Double = 50,
            phaseLeadDegrees: Double = 0
        ) {
            self.gain = gain
            self.offset = offset
            self.ctPrimary = ctPrimary
            self.ctSecondary = ctSecondary
            self.rogowskiMvPerKa = rogowskiMvPerKa
            self.rogowskiFrequency = rogowskiFrequency
            self.phaseLeadDegrees = phaseLeadDegrees
        }

        enum CodingKeys: String, CodingKey {
            case gain, offset
            case ctPrimary = "ct_primary"
            case ctSecondary = "ct_secondary"
            case rogowskiMvPerKa = "rogowski_mv_per_ka"
            case rogowskiFrequency = "rogowski_frequency"
            case phaseLeadDegrees = "phase_lead_degrees"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            gain = try c.decodeIfPresent(Double.self, forKey: .gain) ?? 1
            offset = try c.decodeIfPresent(Double.self, forKey: .offset) ?? 0
            ctPrimary = try c.decodeIfPresent(Double.self, forKey: .ctPrimary)
            ctSecondary = try c.decodeIfPresent(Double.self, forKey: .ctSecondary)
            rogowskiMvPerKa = try c.decodeIfPresent(Double.self, forKey: .rogowskiMvPerKa)
            rogowskiFrequency = try c.decodeIfPresent(Double.self, forKey: .rogowskiFrequency) ?? 50
            phaseLeadDegrees = try c.decodeIfPresent(Double.self, forKey: .phaseLeadDegrees) ?? 0
        }

        /// Line units per sensor unit for a CT or a voltage channel (Rogowski coils: see `rogowskiM`).
        var ratio: Double {
            if let p = ctPrimary, let s = ctSecondary { return gain * p / s }
            return gain
        }

        /// `M` of the coil in volts per (ampere per second), or `nil` for a non-Rogowski channel.
        var rogowskiM: Double? {
            rogowskiMvPerKa.map { $0 * 1e-6 / (2 * Double.pi * rogowskiFrequency) }
        }
    }

    enum CodingKeys: String, CodingKey {
        case nominalVoltage = "nominal_voltage"
        case nominalFrequency = "nominal_frequency"
        case nominalCurrent = "nominal_current"
        case voltageAbsentThreshold = "voltage_absent_threshold"
        case noLoadCurrent = "no_load_current"
        case integratorTimeConstant = "integrator_time_constant"
        case voltage, current, channels
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MeterCalibration()
        nominalVoltage = try c.decodeIfPresent(Double.self, forKey: .nominalVoltage) ?? d.nominalVoltage
        nominalFrequency = try c.decodeIfPresent(Double.self, forKey: .nominalFrequency) ?? d.nominalFrequency
        nominalCurrent = try c.decodeIfPresent(Double.self, forKey: .nominalCurrent) ?? d.nominalCurrent
        voltageAbsentThreshold = try c.decodeIfPresent(Double.self, forKey: .voltageAbsentThreshold)
        noLoadCurrent = try c.decodeIfPresent(Double.self, forKey: .noLoadCurrent)
        integratorTimeConstant =
            try c.decodeIfPresent(Double.self, forKey: .integratorTimeConstant) ?? d.integratorTimeConstant
        voltage = try c.decodeIfPresent(ChannelCalibration.self, forKey: .voltage) ?? ChannelCalibration()
        current = try c.decodeIfPresent(ChannelCalibration.self, forKey: .current) ?? ChannelCalibration()
        channels = try c.decodeIfPresent([String: ChannelCalibration].self, forKey: .channels) ?? [:]
    }

    /// The keys of ``channels`` in ``SampleChannel`` order.
    public static let channelKeys = ["v1", "v2", "v3", "i1", "i2", "i3", "in"]

    /// The calibration that applies to `channel`.
    public func calibration(for channel: SampleChannel) -> ChannelCalibration {
        channels[Self.channelKeys[channel.rawValue]] ?? (channel.rawValue < 3 ? voltage : current)
    }

    /// The effective voltage-absent threshold, in volts.
    public var effectiveVoltageAbsentThreshold: Double { voltageAbsentThreshold ?? 0.1 * nominalVoltage }
    /// The effective no-load threshold, in amperes.
    public var effectiveNoLoadCurrent: Double { noLoadCurrent ?? 0.001 * nominalCurrent }

    /// Checks the calibration; the error names the key and says what was expected.
    public func validate() throws(MeterCalibrationError) {
        func fail(_ key: String, _ expected: String, _ found: Any) throws(MeterCalibrationError) {
            throw MeterCalibrationError(key: "meter.calibration.\(key)", expected: expected, found: "\(found)")
        }
        if !(nominalVoltage > 0) { try fail("nominal_voltage", "a positive voltage", nominalVoltage) }
        if !(nominalFrequency >= 10 && nominalFrequency <= 1000) {
            try fail("nominal_frequency", "10 to 1000 Hz (50 or 60)", nominalFrequency)
        }
        if !(nominalCurrent > 0) { try fail("nominal_current", "a positive current", nominalCurrent) }
        if let v = voltageAbsentThreshold, !(v >= 0 && v < nominalVoltage) {
            try fail("voltage_absent_threshold", "0 to nominal_voltage", v)
        }
        if let i = noLoadCurrent, !(i >= 0 && i < nominalCurrent) {
            try fail("no_load_current", "0 to nominal_current", i)
        }
        if !(integratorTimeConstant >= 0.01 && integratorTimeConstant <= 60) {
            try fail("integrator_time_constant", "0.01 to 60 seconds", integratorTimeConstant)
        }
        for key in channels.keys where !Self.channelKeys.contains(key) {
            try fail("channels.\(key)", "one of \(Self.channelKeys.joined(separator: ", "))", key)
        }
        var entries: [(String, ChannelCalibration, Bool)] = [("voltage", voltage, true), ("current", current, false)]
        for (key, value) in channels.sorted(by: { $0.key < $1.key }) {
            entries.append(("channels.\(key)", value, key.hasPrefix("v")))
        }
        for (key, c, voltageChannel) in entries {
            if !(c.gain.isFinite && c.gain != 0) { try fail("\(key).gain", "a finite, non-zero number", c.gain) }
            if !c.offset.isFinite { try fail("\(key).offset", "a finite number", c.offset) }
            if (c.ctPrimary == nil) != (c.ctSecondary == nil) {
                try fail("\(key).ct_primary/ct_secondary", "both or neither", "only one of them")
            }
            if let p = c.ctPrimary, let s = c.ctSecondary, !(p > 0 && s > 0) {
                try fail("\(key).ct_primary/ct_secondary", "positive ratings", "\(p)/\(s)")
            }
            if let r = c.rogowskiMvPerKa {
                if voltageChannel { try fail("\(key).rogowski_mv_per_ka", "no Rogowski coil on a voltage channel", r) }
                if !(r > 0) { try fail("\(key).rogowski_mv_per_ka", "a positive sensitivity", r) }
                if c.ctPrimary != nil { try fail("\(key)", "either a CT ratio or a Rogowski coil", "both") }
                if !(c.rogowskiFrequency > 0) {
                    try fail("\(key).rogowski_frequency", "a positive frequency", c.rogowskiFrequency)
                }
            }
            if voltageChannel, let primary = c.ctPrimary {
                try fail("\(key).ct_primary", "no current transformer on a voltage channel (use gain)", primary)
            }
            if !(abs(c.phaseLeadDegrees) <= 20) {
                try fail("\(key).phase_lead_degrees", "-20 to 20 degrees", c.phaseLeadDegrees)
            }
        }
    }
}

/// A calibration value that cannot work, with its key, what was expected and what was found.
public struct MeterCalibrationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var expected: String
    public var found: String

    public var description: String { "'\(key)' must be \(expected), found \(found)" }
}
