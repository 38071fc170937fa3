public import Foundation

/// A car plugged into a simulated charger: it follows the current the charger offers after its reaction delay,
/// draws at most its own maximum, and tapers in the last 5 % of the energy it needs.
///
/// Pure: time is passed in. The charger integrates the car's energy with ``advance(from:to:voltage:)``.
public struct SimulatedCar: Sendable, Hashable {
    /// What the charger offers the car (the IEC 61851 control pilot): amperes per phase (0 pauses charging)
    /// and the phases it may use.
    public struct Offer: Sendable, Hashable {
        public var amperes: Double
        public var phases: Int

        public init(amperes: Double, phases: Int) {
            self.amperes = amperes
            self.phases = phases
        }

        public static let none = Offer(amperes: 0, phases: 3)
    }

    /// The lowest current IEC 61851 lets a charger offer; below it the charger pauses the car.
    public static let minimumOffer = 6.0
    /// The share of the energy needed in which the car tapers its current.
    public static let taperShare = 0.05
    /// The lowest taper factor, so that the car finishes in finite time.
    public static let minimumTaper = 0.2
    /// The longest integration step, seconds.
    static let step: TimeInterval = 1

    public let configuration: SimulatedCarConfiguration
    public let arrivedAt: Date
    /// Energy delivered so far, Wh.
    public private(set) var delivered: Double = 0
    /// The offer the car follows now.
    public private(set) var followed: Offer = .none
    /// An offer the car will follow at a later time (after its reaction delay).
    public private(set) var pending: ScheduledOffer?

    /// An offer and the time the car starts to follow it.
    public struct ScheduledOffer: Sendable, Hashable {
        public var offer: Offer
        public var at: Date
    }

    public init(configuration: SimulatedCarConfiguration, arrivedAt: Date) {
        self.configuration = configuration
        self.arrivedAt = arrivedAt
    }

    /// When the car leaves even if not full.
    public var departure: Date? {
        configuration.maximumStay.map { arrivedAt.addingTimeInterval($0.inSeconds) }
    }

    public var isFull: Bool { delivered >= configuration.energyNeeded }

    /// The phases the car draws on now.
    public var phasesUsed: Int { min(configuration.phases, followed.phases) }

    /// Amperes per phase the car draws now.
    public var current: Double {
        guard !isFull, followed.amperes >= Self.minimumOffer else { return 0 }
        return min(followed.amperes, configuration.maxCurrent) * taper
    }

    /// 1 until the last 5 % of the energy needed, then falling linearly with the energy still missing, never
    /// below ``minimumTaper``.
    var taper: Double {
        let remaining = max(0, configuration.energyNeeded - delivered)
        let window = configuration.energyNeeded * Self.taperShare
        guard remaining < window, window > 0 else { return 1 }
        return max(Self.minimumTaper, remaining / window)
    }

    /// The charger changes its offer at `time`; the car follows after its reaction delay, or at once when
    /// `immediately` (the charger opened its contactor).
    public mutating func offer(_ offer: Offer, at time: Date, immediately: Bool = false) {
        if immediately {
            followed = offer
            pending = nil
            return
        }
        if offer == (pending?.offer ?? followed) { return }
        if offer == followed {
            pending = nil
            return
        }
        pending = ScheduledOffer(offer: offer, at: time.addingTimeInterval(configuration.reactionDelay.inSeconds))
    }

    /// Integrates the car's charging from `start` to `end` in steps of at most 1 s, taking pending offers at their
    /// time.
    ///
    /// - Returns: the energy drawn (Wh), and the time the car became full if it did (integration stops there).
    public mutating func advance(from start: Date, to end: Date, voltage: Double) -> (energy: Double, fullAt: Date?) {
        var time = start
        var energy = 0.0
        while time < end {
            if let pending, pending.at <= time {
                followed = pending.offer
                self.pending = nil
            }
            var next = min(end, time.addingTimeInterval(Self.step))
            if let pending, pending.at > time, pending.at < next { next = pending.at }
            let power = current * voltage * Double(phasesUsed)
            let seconds = next.timeIntervalSince(time)
            let step = power * seconds / 3600
            if power > 0, delivered + step >= configuration.energyNeeded {
                let missing = configuration.energyNeeded - delivered
                let fullAt = time.addingTimeInterval(missing / power * 3600)
                delivered = configuration.energyNeeded
                return (energy + missing, fullAt)
            }
            delivered += step
            energy += step
            time = next
        }
        if let pending, pending.at <= end {
            followed = pending.offer
            self.pending = nil
        }
        return (energy, nil)
    }
}
