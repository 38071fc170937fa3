#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The analytic three-phase grid behind the `simulated` backend, and the truth that Metering's
/// accuracy tests compare against.
///
/// Every channel is a sum of sinusoids of one phase function `θ(t) = 2π ∫ f(t) dt`, computed in
/// closed form from the configured frequency ramps and wander, so the phase is continuous across
/// blocks and across load changes, and any quantity (the phase at an instant, the mean frequency
/// over a window, the RMS values and powers of the current load) is known exactly.
///
/// Samples are in sensor units (see ``SimulatedGridConfiguration/Sensors``). In Rogowski mode the
/// current channels carry `M · di/dt`, differentiated analytically (including the `dθ/dt` of a
/// frequency ramp). Noise, DC offset, quantisation and clipping are applied last, in that order.
public struct GridSignalModel: Sendable {
    public let configuration: SimulatedGridConfiguration
    /// Index of the next sample on the sample clock.
    public private(set) var nextSample: UInt64 = 0
    /// Fundamental RMS current per phase now, in amperes (primary side).
    public private(set) var currents: [Double]
    /// Degrees by which each phase's current lags its voltage now.
    public private(set) var phaseAngles: [Double]
    /// Full scale (peak) of the voltage and current channels in sensor units.
    public let voltageFullScale: Double
    public let currentFullScale: Double

    private let phases: [SimulatedGridConfiguration.Phase]
    private let breakpoints: [(time: Double, frequency: Double, cycles: Double)]
    private var scriptIndex = 0
    private var terms: [[Term]] = []
    private var maxOrder = 1
    private var rng: SplitMix64
    private var spareGaussian: Double? = nil
    private let rogowskiGain: Double?

    /// `a · sin(kθ) + b · cos(kθ)`.
    private struct Term: Sendable {
        var k: Int
        var a: Double
        var b: Double
    }

    /// Builds the model; throws when the configuration cannot work.
    public init(configuration: SimulatedGridConfiguration) throws(SimulatedGridConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        let phases = configuration.resolvedPhases
        self.phases = phases
        currents = phases.map(\.current)
        phaseAngles = phases.map(\.phaseAngle)
        rng = SplitMix64(seed: configuration.seed)
        let sensors = configuration.sensors
        let rogowskiGain = sensors.rogowskiMvPerKa.map { $0 * 1e-6 / (2 * Double.pi * sensors.rogowskiFrequency) }
        self.rogowskiGain = rogowskiGain

        var points: [(time: Double, frequency: Double, cycles: Double)] = [(0, configuration.frequency, 0)]
        for ramp in configuration.frequencyRamps {
            let last = points[points.count - 1]
            let hold = last.cycles + (ramp.start - last.time) * last.frequency
            points.append((ramp.start, last.frequency, hold))
            let end = hold + ramp.duration * (last.frequency + ramp.to) / 2
            points.append((ramp.start + ramp.duration, ramp.to, end))
        }
        breakpoints = points

        // Default full scales: 1.5 times the largest peak the configuration can produce.
        let maxFrequency =
            (points.map(\.frequency).max() ?? configuration.frequency)
            + (configuration.frequencyWander?.amplitude ?? 0)
        let voltagePeak =
            phases.map { p in
                p.voltage * 2.0.squareRoot() * (1 + p.voltageHarmonics.reduce(0) { $0 + abs($1.fraction) })
            }
            .max() ?? 0
        let scriptMax = configuration.loadScript.flatMap(\.currents).max() ?? 0
        let currentPeak =
            phases.map { p in
                let weight =
                    rogowskiGain == nil
                    ? 1 + p.currentHarmonics.reduce(0) { $0 + abs($1.fraction) }
                    : 1 + p.currentHarmonics.reduce(0) { $0 + abs($1.fraction) * Double($1.order) }
                return max(p.current, scriptMax) * 2.0.squareRoot() * weight
            }
            .max() ?? 0
        let currentSensorScale =
            rogowskiGain.map { $0 * 2 * Double.pi * maxFrequency } ?? 1 / (sensors.ctPrimary / sensors.ctSecondary)
        voltageFullScale = sensors.voltageFullScale ?? max(1.5 * voltagePeak / sensors.voltageRatio, 1e-9)
        currentFullScale = sensors.currentFullScale ?? max(1.5 * currentPeak * currentSensorScale, 1e-9)
        applyScript(upTo: 0)
        rebuildTerms()
    }

    // MARK: The analytic signal

    /// Grid frequency at sample-clock time `t` (seconds), in Hz.
    public func frequency(at t: Double) -> Double {
        var f = breakpoints[breakpoints.count - 1].frequency
        if let i = segment(containing: t), i + 1 < breakpoints.count {
            let p0 = breakpoints[i]
            let p1 = breakpoints[i + 1]
            f =
                p1.time > p0.time
                ? p0.frequency + (p1.frequency - p0.frequency) * (t - p0.time) / (p1.time - p0.time) : p1.frequency
        }
        if let w = configuration.frequencyWander { f += w.amplitude * sin(2 * Double.pi * t / w.period) }
        return f
    }

    /// Cycles of the fundamental elapsed since time 0 at time `t`: `θ(t) / 2π`.
    public func cycles(at t: Double) -> Double {
        var c: Double
        if let i = segment(containing: t), i + 1 < breakpoints.count {
            let p0 = breakpoints[i]
            let p1 = breakpoints[i + 1]
            let f =
                p1.time > p0.time
                ? p0.frequency + (p1.frequency - p0.frequency) * (t - p0.time) / (p1.time - p0.time) : p1.frequency
            c = p0.cycles + (t - p0.time) * (p0.frequency + f) / 2
        } else {
            let last = breakpoints[breakpoints.count - 1]
            c = last.cycles + (t - last.time) * last.frequency
        }
        if let w = configuration.frequencyWander {
            c += w.amplitude * w.period / (2 * Double.pi) * (1 - cos(2 * Double.pi * t / w.period))
        }
        return c
    }

    /// Mean frequency between two instants: cycles elapsed over time elapsed.
    public func meanFrequency(from t0: Double, to t1: Double) -> Double {
        (cycles(at: t1) - cycles(at: t0)) / (t1 - t0)
    }

    private func segment(containing t: Double) -> Int? {
        guard t >= 0 else { return nil }
        var i = breakpoints.count - 1
        while i > 0 && breakpoints[i].time > t { i -= 1 }
        return i
    }

    /// What a perfect meter reads on one phase at the current load (primary side, line values).
    public struct PhaseTruth: Sendable, Equatable {
        /// RMS voltage and current including harmonics.
        public var voltage: Double
        public var current: Double
        /// Active power including harmonics, in W.
        public var activePower: Double
        /// Fundamental reactive power, in var (positive when the current lags).
        public var reactivePower: Double
        /// `voltage · current`, in VA.
        public var apparentPower: Double
        /// Product of the fundamental RMS voltage and current, in VA.
        public var fundamentalApparentPower: Double
    }

    /// The exact values of phase `p` (0, 1, 2) at the current load.
    public func truth(phase p: Int) -> PhaseTruth {
        let phase = phases[p]
        let v = phase.voltage
        let i = currents[p]
        let phi = phaseAngles[p] * Double.pi / 180
        let vrms = v * (1 + phase.voltageHarmonics.reduce(0) { $0 + $1.fraction * $1.fraction }).squareRoot()
        let irms = i * (1 + phase.currentHarmonics.reduce(0) { $0 + $1.fraction * $1.fraction }).squareRoot()
        var power = v * i * cos(phi)
        for hv in phase.voltageHarmonics {
            for hi in phase.currentHarmonics where hi.order == hv.order {
                let diff = Double(hv.order) * phi + (hv.phase - hi.phase) * Double.pi / 180
                power += v * hv.fraction * i * hi.fraction * cos(diff)
            }
        }
        return PhaseTruth(
            voltage: vrms,
            current: irms,
            activePower: power,
            reactivePower: v * i * sin(phi),
            apparentPower: vrms * irms,
            fundamentalApparentPower: v * i
        )
    }

    /// RMS of the neutral current (the sum of the three phase currents) at the current load.
    public func neutralCurrentTruth() -> Double {
        var byOrder: [Int: (re: Double, im: Double)] = [:]
        for p in 0..<3 {
            for term in lineCurrentTerms(phase: p) {
                let old = byOrder[term.k] ?? (0, 0)
                byOrder[term.k] = (old.re + term.a, old.im + term.b)
            }
        }
        return (byOrder.values.reduce(0) { $0 + ($1.re * $1.re + $1.im * $1.im) / 2 }).squareRoot()
    }

    // MARK: Load

    /// Sets the per-phase fundamental currents (amperes, primary) from the next sample on,
    /// and optionally the angles by which they lag their voltages.
    public mutating func setLoad(currents newCurrents: [Double], phaseAngles newAngles: [Double]? = nil) {
        precondition(newCurrents.count == 3, "three currents (L1, L2, L3)")
        currents = newCurrents.map { max(0, $0) }
        if let newAngles {
            precondition(newAngles.count == 3, "three phase angles (L1, L2, L3)")
            phaseAngles = newAngles
        }
        rebuildTerms()
    }

    private mutating func applyScript(upTo t: Double) {
        var changed = false
        while scriptIndex < configuration.loadScript.count && configuration.loadScript[scriptIndex].at <= t {
            let step = configuration.loadScript[scriptIndex]
            currents = step.currents
            if let angles = step.phaseAngles { phaseAngles = angles }
            scriptIndex += 1
            changed = true
        }
        if changed { rebuildTerms() }
    }

    /// The line current of phase `p` as `Σ a sin kθ + b cos kθ`, in amperes peak.
    private func lineCurrentTerms(phase p: Int) -> [Term] {
        let phase = phases[p]
        let shift = -2 * Double.pi / 3 * Double(p) - phaseAngles[p] * Double.pi / 180
        return Self.terms(rms: currents[p], harmonics: phase.currentHarmonics, shift: shift)
    }

    private static func terms(rms: Double, harmonics: [SimulatedGridConfiguration.Harmonic], shift: Double) -> [Term] {
        let peak = rms * 2.0.squareRoot()
        var result = [Term(k: 1, a: peak * cos(shift), b: peak * sin(shift))]
        for h in harmonics {
            let psi = Double(h.order) * shift + h.phase * Double.pi / 180
            let amplitude = peak * h.fraction
            result.append(Term(k: h.order, a: amplitude * cos(psi), b: amplitude * sin(psi)))
        }
        return result
    }

    private mutating func rebuildTerms() {
        let sensors = configuration.sensors
        let ctScale = sensors.ctSecondary / sensors.ctPrimary
        var result: [[Term]] = []
        for p in 0..<3 {
            let shift = -2 * Double.pi / 3 * Double(p) + phases[p].voltageSensorLead * Double.pi / 180
            result.append(
                Self.terms(
                    rms: phases[p].voltage / sensors.voltageRatio,
                    harmonics: phases[p].voltageHarmonics,
                    shift: shift
                )
            )
        }
        var neutral: [Int: Term] = [:]
        for p in 0..<3 {
            let lead = phases[p].currentSensorLead * Double.pi / 180
            let shift = -2 * Double.pi / 3 * Double(p) - phaseAngles[p] * Double.pi / 180 + lead
            let scale = rogowskiGain == nil ? ctScale : 1
            result.append(Self.terms(rms: currents[p] * scale, harmonics: phases[p].currentHarmonics, shift: shift))
            for term in lineCurrentTerms(phase: p) {
                var sum = neutral[term.k] ?? Term(k: term.k, a: 0, b: 0)
                sum.a += term.a * scale
                sum.b += term.b * scale
                neutral[term.k] = sum
            }
        }
        result.append(neutral.values.sorted { $0.k < $1.k })
        terms = result
        maxOrder = result.flatMap { $0.map(\.k) }.max() ?? 1
    }

    // MARK: Samples

    /// The next `count` samples of every channel, as a block on the sample clock.
    public mutating func nextBlock(count: Int) -> SampleBlock {
        let channelCount = configuration.sampleNeutral ? 7 : 6
        var channels = [[Float]](repeating: [Float](repeating: 0, count: count), count: channelCount)
        let rate = configuration.sampleRate
        let first = nextSample
        // Split the block at load-script steps so the terms are constant within each part.
        var n = 0
        while n < count {
            applyScript(upTo: Double(first + UInt64(n)) / rate)
            var end = count
            if scriptIndex < configuration.loadScript.count {
                let due = (configuration.loadScript[scriptIndex].at * rate).rounded(.up)
                if due > Double(first) + Double(n) { end = min(count, Int(due - Double(first))) }
                if end <= n { end = n + 1 }
            }
            fill(&channels, from: n, to: end, first: first)
            n = end
        }
        nextSample += UInt64(count)
        return SampleBlock(sampleRate: rate, firstSample: first, channels: channels)
    }

    private mutating func fill(_ channels: inout [[Float]], from start: Int, to end: Int, first: UInt64) {
        let channelCount = channels.count
        let rate = configuration.sampleRate
        let sensors = configuration.sensors
        // Flattened terms: channel ch uses entries offsets[ch]..<offsets[ch + 1].
        var offsets = [0]
        var ks: [Int] = []
        var coefficientsA: [Double] = []
        var coefficientsB: [Double] = []
        for ch in 0..<channelCount {
            for term in terms[ch] {
                ks.append(term.k)
                coefficientsA.append(term.a)
                coefficientsB.append(term.b)
            }
            offsets.append(ks.count)
        }
        var fullScales = [Double](repeating: voltageFullScale, count: channelCount)
        for ch in 3..<channelCount { fullScales[ch] = currentFullScale }
        let lsbs = fullScales.map { fs in sensors.adcBits.map { 2 * fs / pow(2, Double($0)) } ?? 0 }
        var sinK = [Double](repeating: 0, count: maxOrder + 1)
        var cosK = [Double](repeating: 0, count: maxOrder + 1)
        var values = [Double](repeating: 0, count: channelCount)
        let maxOrder = self.maxOrder
        for n in start..<end {
            let t = Double(first + UInt64(n)) / rate
            let c = cycles(at: t)
            let theta = 2 * Double.pi * (c - c.rounded(.down))
            let s1 = sin(theta)
            let c1 = cos(theta)
            sinK.withUnsafeMutableBufferPointer { sk in
                cosK.withUnsafeMutableBufferPointer { ck in
                    sk[1] = s1
                    ck[1] = c1
                    var k = 2
                    while k <= maxOrder {
                        sk[k] = sk[k - 1] * c1 + ck[k - 1] * s1
                        ck[k] = ck[k - 1] * c1 - sk[k - 1] * s1
                        k += 1
                    }
                    let omega = rogowskiGain.map { $0 * 2 * Double.pi * frequency(at: t) }
                    ks.withUnsafeBufferPointer { ks in
                        coefficientsA.withUnsafeBufferPointer { ca in
                            coefficientsB.withUnsafeBufferPointer { cb in
                                for ch in 0..<channelCount {
                                    var value = 0.0
                                    if ch >= 3, let omega {
                                        for j in offsets[ch]..<offsets[ch + 1] {
                                            value += Double(ks[j]) * omega * (ca[j] * ck[ks[j]] - cb[j] * sk[ks[j]])
                                        }
                                    } else {
                                        for j in offsets[ch]..<offsets[ch + 1] {
                                            value += ca[j] * sk[ks[j]] + cb[j] * ck[ks[j]]
                                        }
                                    }
                                    values[ch] = value
                                }
                            }
                        }
                    }
                }
            }
            for ch in 0..<channelCount {
                var value = values[ch]
                let fullScale = fullScales[ch]
                if sensors.noise > 0 { value += sensors.noise * fullScale * gaussian() }
                value += sensors.offset * fullScale
                let lsb = lsbs[ch]
                if lsb > 0 { value = min(max((value / lsb).rounded() * lsb, -fullScale), fullScale - lsb) }
                channels[ch][n] = Float(value)
            }
        }
    }

    private mutating func gaussian() -> Double {
        if let spare = spareGaussian {
            spareGaussian = nil
            return spare
        }
        // Box–Muller on two uniforms in (0, 1].
        let u1 = (Double(rng.next() >> 11) + 1) / 9_007_199_254_740_992
        let u2 = Double(rng.next() >> 11) / 9_007_199_254_740_992
        let r = (-2 * log(u1)).squareRoot()
        spareGaussian = r * sin(2 * Double.pi * u2)
        return r * cos(2 * Double.pi * u2)
    }
}

/// A small, fast, seedable generator (SplitMix64) so simulated noise is reproducible.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
