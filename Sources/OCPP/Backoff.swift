/// When to try the upstream connection again: exponential backoff with full jitter.
///
/// The n-th consecutive failed attempt (n = 0, 1, …) is followed by a delay drawn uniformly from
/// `0 ... min(maximumDelay, initialDelay × factor^n)` ("full jitter": a thousand chargers that lost the CSMS
/// at once do not reconnect in lockstep). Defaults: 1 s, ×2, at most 60 s — so after 6 failures every delay
/// is drawn from 0…60 s.
///
/// A connection that lasted at least ``Configuration/resetAfter`` seconds resets the count; one that dropped
/// sooner counts as a failure (a CSMS that accepts and closes at once is not hammered).
///
/// A sans-IO state machine: the randomness and the time come in as parameters.
public struct Backoff: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Upper bound of the first delay, seconds.
        public var initialDelay: Double
        /// Growth of the upper bound per failure.
        public var factor: Double
        /// Largest upper bound, seconds.
        public var maximumDelay: Double
        /// Seconds a connection must last to reset the failure count.
        public var resetAfter: Double

        public init(initialDelay: Double = 1, factor: Double = 2, maximumDelay: Double = 60, resetAfter: Double = 30) {
            self.initialDelay = initialDelay
            self.factor = factor
            self.maximumDelay = maximumDelay
            self.resetAfter = resetAfter
        }
    }

    public let configuration: Configuration
    /// Consecutive failures so far.
    public private(set) var failures = 0
    /// When the current connection was established; `nil` while not connected.
    public private(set) var connectedSince: ContinuousClock.Instant?

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The upper bound of the delay after `failures` failures.
    public func ceiling(afterFailures failures: Int) -> Double {
        let exponent = Double(min(failures, 1023))
        return min(configuration.maximumDelay, configuration.initialDelay * power(configuration.factor, exponent))
    }

    /// A connection attempt failed: the delay (seconds) before the next one.
    public mutating func attemptFailed(using generator: inout some RandomNumberGenerator) -> Double {
        connectedSince = nil
        let ceiling = ceiling(afterFailures: failures)
        failures += 1
        return ceiling > 0 ? Double.random(in: 0...ceiling, using: &generator) : 0
    }

    /// A connection was established at `now`.
    public mutating func connected(at now: ContinuousClock.Instant) {
        connectedSince = now
    }

    /// The connection was lost at `now`: the delay (seconds) before reconnecting. Resets the failure count first
    /// if the connection lasted at least ``Configuration/resetAfter``.
    public mutating func disconnected(
        at now: ContinuousClock.Instant,
        using generator: inout some RandomNumberGenerator
    ) -> Double {
        if let since = connectedSince, (now - since) >= .seconds(configuration.resetAfter) {
            failures = 0
        }
        return attemptFailed(using: &generator)
    }
}

/// `base` raised to a small integral `exponent`, without Foundation.
private func power(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 {
        result *= base
        if result.isInfinite { return result }
        remaining -= 1
    }
    return result
}
