/// Installs LoadGuard's limit on one charger: one `SetChargingProfile` in flight at a time, the
/// latest wanted limit wins, failures retried with backoff, and the limit installed again when
/// the charger forgot it (boot, reconnect, a CSMS clear or replacement).
///
/// States: *idle* (nothing wanted yet), *in flight* (a limit sent, its answer awaited),
/// *installed* (the charger accepted the wanted limit), *backing off* (rejected or timed out:
/// retried at `retryAt`, 2 s doubling to 60 s). While not installed, the charger is accounted at its
/// maximum by the controller.
public struct ProfileInstaller: Sendable, Equatable {
    /// The limit the controller wants on the charger, amperes.
    public private(set) var wanted: Double?
    /// The limit in flight.
    public private(set) var inFlight: Double?
    /// The limit the charger accepted last (and still holds, as far as LoadGuard knows).
    public private(set) var installed: Double?
    public private(set) var failures = 0
    public private(set) var retryAt: Double?
    /// The charger may have lost what is in flight (it booted meanwhile): send it again after the answer.
    private var inFlightInvalidated = false

    public init() {}

    /// Whether the charger holds what is wanted.
    public var isInstalled: Bool { wanted != nil && installed == wanted }

    /// The controller wants `limit`: returns the limit to send now, if any.
    public mutating func want(_ limit: Double, now: Double) -> Double? {
        wanted = limit
        return nextSend(now: now)
    }

    /// The charger may have lost the limit (boot, reconnect, CSMS clear/replace): send it again.
    public mutating func invalidate(now: Double) -> Double? {
        installed = nil
        if inFlight != nil { inFlightInvalidated = true }
        failures = 0
        retryAt = nil
        return nextSend(now: now)
    }

    /// The charger went away: nothing is in flight any more.
    public mutating func disconnected() {
        inFlight = nil
        inFlightInvalidated = false
        installed = nil
    }

    /// The answer to the limit in flight.
    public mutating func answered(accepted: Bool, now: Double) -> Double? {
        guard let sent = inFlight else { return nil }
        inFlight = nil
        if inFlightInvalidated {
            inFlightInvalidated = false
            return nextSend(now: now)
        }
        if accepted {
            installed = sent
            failures = 0
            retryAt = nil
        } else {
            failures += 1
            retryAt = now + min(60, 2 * Double(1 << min(failures - 1, 5)))
        }
        return nextSend(now: now)
    }

    /// Time passes: a retry may be due.
    public mutating func tick(now: Double) -> Double? { nextSend(now: now) }

    private mutating func nextSend(now: Double) -> Double? {
        guard inFlight == nil, let wanted, installed != wanted else { return nil }
        if let retryAt, now < retryAt { return nil }
        inFlight = wanted
        return wanted
    }
}
