/// The `simulated` meter backend's configuration: a three-phase grid, the load on it, and the
/// sensors and ADC that turn it into samples.
///
/// Every field has a default, so an empty YAML mapping is a valid configuration (230 V, 50 Hz,
/// 10 A per phase at power factor 1, ideal sensors, 8 kS/s). Keys are snake_case:
///
/// ```yaml
/// sample_rate: 8000
/// frequency: 50
/// frequency_ramps: [{ start: 10, duration: 2, to: 50.5 }]
/// phases:
///   - { voltage: 230, current: 16, phase_angle: 30, current_harmonics: [{ order: 3, fraction: 0.15 }] }
/// sensors: { voltage_ratio: 1000, ct_primary: 100, ct_secondary: 5, adc_bits: 16, noise: 0.0001 }
/// load_script: [{ at: 60, currents: [32, 32, 32] }]
/// ```
///
/// Amplitudes are those of the fundamental (RMS, primary side); a harmonic is a fraction of its
/// fundamental. `phase_angle` is the angle by which the current's fundamental lags its voltage
/// (30 inductive, -36.87 capacitive, 180 export at power factor 1).
public struct SimulatedGridConfiguration: Decodable, Sendable, Equatable {
    /// Samples per second of every channel.
    public var sampleRate: Double = 8000
    /// Samples per channel in each delivered block.
    public var blockSize: Int = 400
    /// Grid frequency at time 0, in Hz.
    public var frequency: Double = 50
    /// Linear frequency ramps, applied in order; between ramps the frequency holds.
    public var frequencyRamps: [FrequencyRamp] = []
    /// A slow sinusoidal wander of the frequency on top of the ramps.
    public var frequencyWander: FrequencyWander? = nil
    /// L1, L2, L3. Fewer than three entries repeat the last one.
    public var phases: [Phase] = [Phase()]
    /// Whether a seventh channel carries the neutral current (the sum of the phase currents).
    public var sampleNeutral: Bool = false
    /// The sensors and the ADC between the grid and the samples.
    public var sensors: Sensors = Sensors()
    /// Load changes over time: each step sets the per-phase currents (and optionally angles).
    public var loadScript: [LoadStep] = []
    /// Seed of the noise generator: the same seed gives the same samples.
    public var seed: UInt64 = 1
    /// Seconds of signal after which the source ends; `nil` runs forever.
    public var duration: Double? = nil
    /// Deliver blocks at the pace of real time (`true`, for `run`) or as fast as asked (tests, tools).
    public var realTime: Bool = true

    public init() {}

    /// A linear change of frequency from whatever it is at `start` to `to` over `duration` seconds.
    public struct FrequencyRamp: Decodable, Sendable, Equatable {
        public var start: Double
        public var duration: Double
        public var to: Double

        public init(start: Double, duration: Double, to: Double) {
            self.start = start
            self.duration = duration
            self.to = to
        }
    }

    /// `amplitude * sin(2π t / period)` Hz added to the frequency.
    public struct FrequencyWander: Decodable, Sendable, Equatable {
        public var amplitude: Double
        public var period: Double

        public init(amplitude: Double, period: Double) {
            self.amplitude = amplitude
            self.period = period
        }
    }

    /// One harmonic of a voltage or current: its order, its amplitude as a fraction of the
    /// fundamental, and its phase in degrees relative to the fundamental's own phase times `order`.
    public struct Harmonic: Decodable, Sendable, Equatable {
        public var order: Int
        public var fraction: Double
        public var phase: Double = 0

        public init(order: Int, fraction: Double, phase: Double = 0) {
            self.order = order
            self.fraction = fraction
            self.phase = phase
        }

        enum CodingKeys: String, CodingKey { case order, fraction, phase }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            order = try c.decode(Int.self, forKey: .order)
            fraction = try c.decode(Double.self, forKey: .fraction)
            phase = try c.decodeIfPresent(Double.self, forKey: .phase) ?? 0
        }
    }

    /// One phase of the grid and its load.
    public struct Phase: Decodable, Sendable, Equatable {
        /// Fundamental RMS voltage to neutral, in volts.
        public var voltage: Double = 230
        /// Fundamental RMS current, in amperes (primary side).
        public var current: Double = 10
        /// Degrees by which the current's fundamental lags the voltage.
        public var phaseAngle: Double = 0
        public var voltageHarmonics: [Harmonic] = []
        public var currentHarmonics: [Harmonic] = []
        /// Degrees by which the voltage sensor's output leads the line voltage (a sensor error
        /// that Metering's `phase_lead_degrees` calibration removes).
        public var voltageSensorLead: Double = 0
        /// Degrees by which the current sensor's output leads the line current.
        public var currentSensorLead: Double = 0

        public init(
            voltage: Double = 230,
            current: Double = 10,
            phaseAngle: Double = 0,
            voltageHarmonics: [Harmonic] = [],
            currentHarmonics: [Harmonic] = [],
            voltageSensorLead: Double = 0,
            currentSensorLead: Double = 0
        ) {
            self.voltage = voltage
            self.current = current
            self.phaseAngle = phaseAngle
            self.voltageHarmonics = voltageHarmonics
            self.currentHarmonics = currentHarmonics
            self.voltageSensorLead = voltageSensorLead
            self.currentSensorLead = currentSensorLead
        }

        enum CodingKeys: String, CodingKey {
            case voltage, current
            case phaseAngle = "phase_angle"
            case voltageHarmonics = "voltage_harmonics"
            case currentHarmonics = "current_harmonics"
            case voltageSensorLead = "voltage_sensor_lead"
            case currentSensorLead = "current_sensor_lead"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Phase()
            voltage = try c.decodeIfPresent(Double.self, forKey: .voltage) ?? d.voltage
            current = try c.decodeIfPresent(Double.self, forKey: .current) ?? d.current
            phaseAngle = try c.decodeIfPresent(Double.self, forKey: .phaseAngle) ?? d.phaseAngle
            voltageHarmonics = try c.decodeIfPresent([Harmonic].self, forKey: .voltageHarmonics) ?? []
            currentHarmonics = try c.decodeIfPresent([Harmonic].self, forKey: .currentHarmonics) ?? []
            voltageSensorLead = try c.decodeIfPresent(Double.self, forKey: .voltageSensorLead) ?? 0
            currentSensorLead = try c.decodeIfPresent(Double.self, forKey: .currentSensorLead) ?? 0
        }
    }

    /// Sensors and ADC. Samples are in sensor units: volts at the divider output, amperes at the
    /// CT secondary, volts at a Rogowski coil's output.
    public struct Sensors: Decodable, Sendable, Equatable {
        /// Line volts per volt at the voltage sensor's output.
        public var voltageRatio: Double = 1
        /// Current transformer primary and secondary rating (ratio primary/secondary).
        public var ctPrimary: Double = 1
        public var ctSecondary: Double = 1
        /// When set, the current sensors are Rogowski coils with this sensitivity, in millivolts
        /// per kiloampere at `rogowskiFrequency`: the output is `M · di/dt` with
        /// `M = sensitivity / (2π · rogowskiFrequency)`.
        public var rogowskiMvPerKa: Double? = nil
        public var rogowskiFrequency: Double = 50
        /// ADC full scale (peak) of the voltage and current channels, in sensor units.
        /// Samples beyond it clip. `nil`: 1.5 times the largest configured peak.
        public var voltageFullScale: Double? = nil
        public var currentFullScale: Double? = nil
        /// ADC resolution; `nil` for no quantisation.
        public var adcBits: Int? = nil
        /// Gaussian noise, RMS, as a fraction of each channel's full scale.
        public var noise: Double = 0
        /// DC offset added at the sensor output, as a fraction of full scale.
        public var offset: Double = 0

        public init() {}

        enum CodingKeys: String, CodingKey {
            case voltageRatio = "voltage_ratio"
            case ctPrimary = "ct_primary"
            case ctSecondary = "ct_secondary"
            case rogowskiMvPerKa = "rogowski_mv_per_ka"
            case rogowskiFrequency = "rogowski_frequency"
            case voltageFullScale = "voltage_full_scale"
            case currentFullScale = "current_full_scale"
            case adcBits = "adc_bits"
            case noise, offset
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            voltageRatio = try c.decodeIfPresent(Double.self, forKey: .voltageRatio) ?? 1
            ctPrimary = try c.decodeIfPresent(Double.self, forKey: .ctPrimary) ?? 1
            ctSecondary = try c.decodeIfPresent(Double.self, forKey: .ctSecondary) ?? 1
            rogowskiMvPerKa = try c.decodeIfPresent(Double.self, forKey: .rogowskiMvPerKa)
            rogowskiFrequency = try c.decodeIfPresent(Double.self, forKey: .rogowskiFrequency) ?? 50
            voltageFullScale = try c.decodeIfPresent(Double.self, forKey: .voltageFullScale)
            currentFullScale = try c.decodeIfPresent(Double.self, forKey: .currentFullScale)
            adcBits = try c.decodeIfPresent(Int.self, forKey: .adcBits)
            noise = try c.decodeIfPresent(Double.self, forKey: .noise) ?? 0
            offset = try c.decodeIfPresent(Double.self, forKey: .offset) ?? 0
        }
    }

    /// At `at` seconds, the per-phase fundamental currents become `currents` (and the angles
    /// `phaseAngles`, when given).
    public struct LoadStep: Decodable, Sendable, Equatable {
        public var at: Double
        public var currents: [Double]
        public var phaseAngles: [Double]? = nil

        public init(at: Double, currents: [Double], phaseAngles: [Double]? = nil) {
            self.at = at
            self.currents = currents
            self.phaseAngles = phaseAngles
        }

        enum CodingKeys: String, CodingKey {
            case at, currents
            case phaseAngles = "phase_angles"
        }
    }

    enum CodingKeys: String, CodingKey {
        case sampleRate = "sample_rate"
        case blockSize = "block_size"
        case frequency
        case frequencyRamps = "frequency_ramps"
        case frequencyWander = "frequency_wander"
        case phases
        case sampleNeutral = "sample_neutral"
        case sensors
        case loadScript = "load_script"
        case seed, duration
        case realTime = "real_time"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SimulatedGridConfiguration()
        sampleRate = try c.decodeIfPresent(Double.self, forKey: .sampleRate) ?? d.sampleRate
        blockSize = try c.decodeIfPresent(Int.self, forKey: .blockSize) ?? d.blockSize
        frequency = try c.decodeIfPresent(Double.self, forKey: .frequency) ?? d.frequency
        frequencyRamps = try c.decodeIfPresent([FrequencyRamp].self, forKey: .frequencyRamps) ?? []
        frequencyWander = try c.decodeIfPresent(FrequencyWander.self, forKey: .frequencyWander)
        phases = try c.decodeIfPresent([Phase].self, forKey: .phases) ?? d.phases
        sampleNeutral = try c.decodeIfPresent(Bool.self, forKey: .sampleNeutral) ?? false
        sensors = try c.decodeIfPresent(Sensors.self, forKey: .sensors) ?? Sensors()
        loadScript = try c.decodeIfPresent([LoadStep].self, forKey: .loadScript) ?? []
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        duration = try c.decodeIfPresent(Double.self, forKey: .duration)
        realTime = try c.decodeIfPresent(Bool.self, forKey: .realTime) ?? d.realTime
    }

    /// The three phases, with the last configured phase repeated when fewer than three are given.
    public var resolvedPhases: [Phase] {
        let given = phases.isEmpty ? [Phase()] : phases
        return (0..<3).map { given[min($0, given.count - 1)] }
    }

    /// Checks the configuration; the error names the key and says what was expected.
    public func validate() throws(SimulatedGridConfigurationError) {
        func fail(_ key: String, _ expected: String, _ found: Any) throws(SimulatedGridConfigurationError) {
            throw SimulatedGridConfigurationError(key: key, expected: expected, found: "\(found)")
        }
        if !(sampleRate >= 1000 && sampleRate <= 1_000_000) {
            try fail("sample_rate", "1000 to 1000000 samples per second", sampleRate)
        }
        if !(blockSize >= 1 && blockSize <= 1_000_000) { try fail("block_size", "1 to 1000000 samples", blockSize) }
        if !(frequency > 0 && frequency < sampleRate / 4) {
            try fail("frequency", "a positive frequency below a quarter of the sample rate", frequency)
        }
        for (i, ramp) in frequencyRamps.enumerated() {
            if !(ramp.duration >= 0 && ramp.start >= 0 && ramp.to > 0 && ramp.to < sampleRate / 4) {
                try fail("frequency_ramps[\(i)]", "start ≥ 0, duration ≥ 0, 0 < to < sample_rate/4", ramp)
            }
            if i > 0, ramp.start < frequencyRamps[i - 1].start + frequencyRamps[i - 1].duration {
                try fail("frequency_ramps[\(i)].start", "a ramp starting after the previous one ended", ramp.start)
            }
        }
        if let w = frequencyWander, !(w.period > 0 && w.amplitude >= 0 && w.amplitude < frequency / 2) {
            try fail("frequency_wander", "period > 0 and 0 ≤ amplitude < frequency/2", w)
        }
        if phases.count > 3 { try fail("phases", "at most three phases (L1, L2, L3)", phases.count) }
        for (p, phase) in phases.enumerated() {
            for (key, list) in [
                ("voltage_harmonics", phase.voltageHarmonics), ("current_harmonics", phase.currentHarmonics),
            ] {
                for h in list where !(h.order >= 2 && Double(h.order) * frequency * 1.2 < sampleRate / 2) {
                    try fail(
                        "phases[\(p)].\(key)",
                        "orders from 2 up to below the Nyquist frequency (\(sampleRate / 2) Hz)",
                        h.order
                    )
                }
            }
            if !(phase.voltage >= 0 && phase.current >= 0) {
                try fail("phases[\(p)]", "voltage and current ≥ 0 (use phase_angle 180 for export)", phase)
            }
        }
        if !(sensors.voltageRatio > 0) { try fail("sensors.voltage_ratio", "a positive ratio", sensors.voltageRatio) }
        if !(sensors.ctPrimary > 0 && sensors.ctSecondary > 0) {
            try fail(
                "sensors.ct_primary/ct_secondary",
                "positive ratings",
                "\(sensors.ctPrimary)/\(sensors.ctSecondary)"
            )
        }
        if let s = sensors.rogowskiMvPerKa, !(s > 0) {
            try fail("sensors.rogowski_mv_per_ka", "a positive sensitivity", s)
        }
        if let bits = sensors.adcBits, !(bits >= 8 && bits <= 32) { try fail("sensors.adc_bits", "8 to 32 bits", bits) }
        if !(sensors.noise >= 0 && sensors.noise < 1) { try fail("sensors.noise", "0 ≤ noise < 1", sensors.noise) }
        for (i, step) in loadScript.enumerated() {
            if !(step.currents.count == 3 && step.currents.allSatisfy { $0 >= 0 }) {
                try fail("load_script[\(i)].currents", "three currents ≥ 0 (L1, L2, L3)", step.currents)
            }
            if let angles = step.phaseAngles, angles.count != 3 {
                try fail("load_script[\(i)].phase_angles", "three angles (L1, L2, L3)", angles)
            }
            if i > 0, step.at < loadScript[i - 1].at {
                try fail("load_script[\(i)].at", "steps in time order", step.at)
            }
        }
        if let duration, !(duration > 0) { try fail("duration", "a positive number of seconds", duration) }
    }
}

/// A simulated-grid setting that cannot work, with its key, what was expected and what was found.
public struct SimulatedGridConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var expected: String
    public var found: String

    public var description: String { "simulated grid: '\(key)' must be \(expected), found \(found)" }
}
