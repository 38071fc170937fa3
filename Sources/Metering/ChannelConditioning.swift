import Foundation

/// Per-channel signal conditioning: calibration, the Rogowski integrator, and the fractional delay
/// that removes sensor phase errors. Internal to ``MeteringEngine``.
///
/// Every channel is delayed by `baseDelay + adjustment` samples, where the adjustment (positive or
/// negative, at most `baseDelay − 2`) removes the channel's phase lead at the measured frequency.
/// The aligned stream is therefore the sample clock delayed by exactly `baseDelay` samples.
struct ChannelConditioning: Sendable {
    /// Sensor-to-line scale: volts or amperes per sensor unit, or for a Rogowski coil
    /// (amperes per second) per volt.
    let scale: Double
    let offset: Double
    /// The channel is a Rogowski coil and is integrated.
    let rogowski: Bool
    /// Degrees by which the sensor leads the line quantity.
    let leadDegrees: Double

    init(_ c: MeterCalibration.ChannelCalibration) {
        if let m = c.rogowskiM {
            scale = c.gain / m
            rogowski = true
        } else {
            scale = c.ratio
            rogowski = false
        }
        offset = c.offset
        leadDegrees = c.phaseLeadDegrees
    }
}

/// The Rogowski integrator: a DC block on its input and a leaky trapezoidal integrator.
///
/// `y[n] = a·y[n−1] + (T/2)(x[n] + x[n−1])` with `x` the coil's output in A/s minus the
/// estimated input offset. Against an ideal integrator `1/(j2πf)` it has a small gain error and
/// a phase lead (about 0.1° at 50 Hz with a 2 s leak); ``correction(frequency:sampleRate:)``
/// gives both at the measured frequency, and the engine removes them (gain in the window, phase
/// as part of the channel's fractional delay).
///
/// The DC block works at window rate: over a locked window (whole cycles) a coil's output and
/// the current both have zero mean, so after each such window the engine moves the input's mean
/// into ``State/inputOffset`` and takes the output's offset out of ``State/output`` and out of
/// the samples already integrated after the window. That removes an ADC offset, the integration
/// constant after a start (within a few windows, whatever the leak), and the slow wander that
/// integrated noise would add.
struct RogowskiIntegrator: Sendable {
    let a: Double
    let halfT: Double
    let timeConstant: Double

    init(timeConstant: Double, sampleRate: Double) {
        self.timeConstant = timeConstant
        a = exp(-1 / (timeConstant * sampleRate))
        halfT = 0.5 / sampleRate
    }

    /// State of one channel's integrator.
    struct State: Sendable {
        /// Offset subtracted from the input, in A/s.
        var inputOffset = 0.0
        var previousInput = 0.0
        var output = 0.0
    }

    /// Integrates `buffer[range]` in place (amperes per second in, amperes out).
    func integrate(_ buffer: UnsafeMutableBufferPointer<Double>, _ range: Range<Int>, state: inout State) {
        guard !range.isEmpty else { return }
        var xPrev = state.previousInput
        var y = state.output
        let offset = state.inputOffset
        let a = self.a
        let halfT = self.halfT
        for n in range {
            let x = buffer[n] - offset
            y = a * y + halfT * (x + xPrev)
            xPrev = x
            buffer[n] = y
        }
        state.previousInput = xPrev
        state.output = y
    }

    /// The DC block's step after a locked window: what to subtract from the integrated current
    /// at a given time after the window's middle.
    /// - Parameters:
    ///   - outputMean: mean of the integrated current over the window, in A.
    ///   - change: the integrated current at the window's end minus at its start, in A.
    ///   - seconds: the window's duration.
    struct OffsetStep: Sendable {
        let outputMean: Double
        let inputMean: Double
        let timeConstant: Double

        /// The offset in the integrated current `seconds` after the window's middle.
        func offset(after seconds: Double) -> Double {
            // The output offset decays with the leak; the input offset's integral grows.
            let decay = exp(-seconds / timeConstant)
            return outputMean * decay + inputMean * timeConstant * (1 - decay)
        }
    }

    func offsetStep(outputMean: Double, change: Double, seconds: Double) -> OffsetStep {
        // Σ (T/2)(x[n] + x[n−1]) = Δy + (1 − a) Σ y: the input's mean from the output alone.
        OffsetStep(
            outputMean: outputMean,
            inputMean: change / seconds + outputMean / timeConstant,
            timeConstant: timeConstant
        )
    }

    /// Applies a step to the state whose newest sample is `sinceMiddle` seconds after the window's middle.
    func apply(_ step: OffsetStep, sinceMiddle: Double, state: inout State) {
        state.inputOffset += step.inputMean
        state.previousInput -= step.inputMean
        state.output -= step.offset(after: sinceMiddle)
    }

    /// Gain factor and phase lead (radians) that turn this integrator into an ideal one at
    /// `frequency`: multiply the output by `gain` and delay it by `lead` of a cycle.
    func correction(frequency: Double, sampleRate: Double) -> (gain: Double, lead: Double) {
        let w = 2 * Double.pi * frequency / sampleRate
        // z⁻¹ = e^{-jw}
        let zr = cos(w)
        let zi = -sin(w)
        func div(_ a: (Double, Double), _ b: (Double, Double)) -> (Double, Double) {
            let d = b.0 * b.0 + b.1 * b.1
            return ((a.0 * b.0 + a.1 * b.1) / d, (a.1 * b.0 - a.0 * b.1) / d)
        }
        func mul(_ a: (Double, Double), _ b: (Double, Double)) -> (Double, Double) {
            (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
        }
        let integrator = div((halfT * (1 + zr), halfT * zi), (1 - a * zr, -a * zi))
        // R = H · j2πf: 1 for an ideal integrator.
        let ratio = mul(integrator, (0, 2 * Double.pi * frequency))
        let magnitude = (ratio.0 * ratio.0 + ratio.1 * ratio.1).squareRoot()
        return (1 / magnitude, atan2(ratio.1, ratio.0))
    }
}

/// Two cascaded moving averages (lengths `fs/(3 f₀)` and `fs/(5 f₀)`) over the voltage reference.
///
/// Linear phase: every frequency is delayed by exactly ``delay`` samples, so zero crossings of
/// the output, moved back by that delay, are the fundamental's crossings even while the frequency
/// ramps. The nulls near the 3rd and 5th harmonics and the ~10× reduction of white noise make the
/// crossing times (and so the window boundaries and the frequency) steady to well below 1 mHz.
struct ReferenceFilter: Sendable {
    let length1: Int
    let length2: Int
    /// Group delay in samples.
    let delay: Double
    /// Gain at the nominal frequency.
    let nominalGain: Double
    private var ring1: [Double]
    private var ring2: [Double]
    private var index1 = 0
    private var index2 = 0
    private var sum1 = 0.0
    private var sum2 = 0.0
    /// Samples seen since the last reset.
    private(set) var filled = 0
    private var sinceResum = 0

    init(sampleRate: Double, nominalFrequency: Double) {
        length1 = max(1, Int((sampleRate / (3 * nominalFrequency)).rounded()))
        length2 = max(1, Int((sampleRate / (5 * nominalFrequency)).rounded()))
        delay = Double(length1 - 1) / 2 + Double(length2 - 1) / 2
        func boxcarGain(_ length: Int) -> Double {
            let x = Double.pi * nominalFrequency / sampleRate
            return abs(sin(x * Double(length)) / (Double(length) * sin(x)))
        }
        nominalGain = boxcarGain(length1) * boxcarGain(length2)
        ring1 = [Double](repeating: 0, count: length1)
        ring2 = [Double](repeating: 0, count: length2)
    }

    /// Whether the output is a full moving average (no start-up transient).
    var settled: Bool { filled > length1 + length2 }

    mutating func reset() {
        for i in ring1.indices { ring1[i] = 0 }
        for i in ring2.indices { ring2[i] = 0 }
        index1 = 0
        index2 = 0
        sum1 = 0
        sum2 = 0
        filled = 0
    }

    /// Filters one sample.
    @inline(__always)
    mutating func next(_ x: Double) -> Double {
        sum1 += x - ring1[index1]
        ring1[index1] = x
        index1 += 1
        if index1 == length1 { index1 = 0 }
        let y1 = sum1 / Double(length1)
        sum2 += y1 - ring2[index2]
        ring2[index2] = y1
        index2 += 1
        if index2 == length2 { index2 = 0 }
        filled &+= 1
        sinceResum += 1
        if sinceResum >= 1 << 16 {
            // Re-add the running sums from their rings so rounding never accumulates.
            sinceResum = 0
            sum1 = ring1.reduce(0, +)
            sum2 = ring2.reduce(0, +)
        }
        return sum2 / Double(length2)
    }
}
