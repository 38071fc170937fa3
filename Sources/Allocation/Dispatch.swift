/// The rules for sending limits to chargers, as a value-type state machine: feed it each
/// ``Allocation`` with ``LimitDispatcher/step(_:)``; it answers with the limits to send now.
///
/// Rules (defaults in ``DispatchSettings``):
/// - The first limit for a charger goes out at once (its own default may be its maximum).
/// - Decreases go out at once and to the full target, so an overshoot is cut completely in one step.
/// - Increases wait while a decrease elsewhere has not taken effect yet (the freed current is not
///   there until the car follows), while the grid measurement is stale, and until the charger's
///   settle time has passed since its last limit; then they close at most `increaseFraction` of
///   the remaining gap, but at least `deadband`, and all of it when less than `deadband` would
///   remain (so a ramp does not end in a tiny step). A start (from 0) begins at
///   max(minimum, `increaseFraction` × target). A probe (the full share offered again to a car
///   that drew less) goes out in one step: it tests the car, it does not close a control loop.
/// - Changes smaller than `deadband` are not sent; a small decrease is still sent when without it
///   the limits sent on a phase would add up to more than the phase's charging budget, and a small
///   increase (at least half the deadband) that persists `smallGapPersistence` is sent once.
/// - So in steady state a charger gets at most one limit per settle time, and none while nothing changes.
public struct LimitDispatcher: Sendable {
    /// A limit sent to a charger and when.
    public struct SentLimit: Sendable, Equatable, Codable {
        public var current: Double
        public var time: Double
    }

    public var settings: DispatchSettings
    /// The last limit sent to each charger.
    public private(set) var sent: [ChargerID: SentLimit] = [:]
    /// Decreases whose car has not followed yet; increases wait for them.
    public private(set) var pendingDecreases: [ChargerID: SentLimit] = [:]
    /// Since when a charger's target has stayed at least half the deadband above its limit.
    public private(set) var smallGapSince: [ChargerID: Double] = [:]

    public init(settings: DispatchSettings = DispatchSettings()) {
        self.settings = settings
    }

    /// Forgets what was sent to a charger, so its limit is sent again at the next step
    /// (after a reconnect, a reboot, or a cleared or rejected profile).
    public mutating func forget(_ id: ChargerID) {
        sent[id] = nil
        pendingDecreases[id] = nil
        smallGapSince[id] = nil
    }

    /// The limits to send now for `allocation`: first limits and decreases first, then increases.
    public mutating func step(_ allocation: Allocation) -> [LimitCommand] {
        let now = allocation.time
        let tolerance = settings.followTolerance
        var byID = [ChargerID: Int](minimumCapacity: allocation.chargers.count)
        for (index, charger) in allocation.chargers.enumerated() { byID[charger.id] = index }

        // Decreases that took effect, timed out, or whose charger left, no longer hold increases back.
        pendingDecreases = pendingDecreases.filter { id, limit in
            guard let index = byID[id] else { return false }
            let charger = allocation.chargers[index]
            return !charger.offline && charger.draw > limit.current + tolerance
                && now - limit.time < settings.decreaseFollowTimeout
        }
        // First pass: first limits and decreases, which go out at once.
        var commands: [LimitCommand] = []
        var smallDecreases: [Int] = []
        var increases: [Int] = []
        for (index, charger) in allocation.chargers.enumerated() where !charger.offline {
            let target = charger.current
            guard let previous = sent[charger.id] else {
                commands.append(send(charger, current: target, previous: nil, kind: .initial, now: now))
                continue
            }
            let gap = target - previous.current
            if gap < settings.deadband / 2 { smallGapSince[charger.id] = nil }
            if abs(gap) < 1e-9 { continue }
            if gap > 0 {
                increases.append(index)
            } else if target == 0 {
                commands.append(send(charger, current: 0, previous: previous.current, kind: .pause, now: now))
            } else if -gap >= settings.deadband {
                commands.append(send(charger, current: target, previous: previous.current, kind: .decrease, now: now))
            } else {
                smallDecreases.append(index)
            }
        }

        // Second pass: increases, unless a decrease (this step's included) has not taken effect yet.
        let holdIncreases = allocation.freezeIncreases || !pendingDecreases.isEmpty
        for index in increases where !holdIncreases {
            let charger = allocation.chargers[index]
            guard let previous = sent[charger.id] else { continue }
            let target = charger.current
            let gap = target - previous.current
            // A gap below the deadband is noise unless it persists: then it is sent once.
            var persistentSmallGap = false
            if gap < settings.deadband, previous.current > 0 {
                if gap >= settings.deadband / 2 {
                    let since = smallGapSince[charger.id] ?? now
                    smallGapSince[charger.id] = since
                    persistentSmallGap = now - since >= settings.smallGapPersistence
                } else {
                    smallGapSince[charger.id] = nil
                }
            }
            guard now - previous.time >= settings.settleTime else { continue }
            if persistentSmallGap {
                commands.append(send(charger, current: target, previous: previous.current, kind: .increase, now: now))
            } else if previous.current == 0 {
                var start = min(target, max(charger.minCurrent, target * settings.increaseFraction))
                if target - start < settings.deadband { start = target }
                commands.append(send(charger, current: start, previous: 0, kind: .start, now: now))
            } else if charger.probing {
                commands.append(send(charger, current: target, previous: previous.current, kind: .increase, now: now))
            } else if gap >= settings.deadband {
                var step = max(gap * settings.increaseFraction, settings.deadband)
                // A rest smaller than the deadband would cost one more message later: close it now.
                if gap - step < settings.deadband { step = gap }
                let next = min(target, ((previous.current + step) * 10).rounded(.down) / 10)
                commands.append(send(charger, current: next, previous: previous.current, kind: .increase, now: now))
            }
        }

        // Small decreases are withheld unless a phase's sent limits would exceed its charging budget.
        if !smallDecreases.isEmpty {
            var sums = PhaseCurrents.zero
            for charger in allocation.chargers where !charger.offline {
                sums += charger.gridPhases.currents(sent[charger.id]?.current ?? 0)
            }
            let byGap = smallDecreases.sorted { a, b in
                let gapA = (sent[allocation.chargers[a].id]?.current ?? 0) - allocation.chargers[a].current
                let gapB = (sent[allocation.chargers[b].id]?.current ?? 0) - allocation.chargers[b].current
                return gapA != gapB ? gapA > gapB : a < b
            }
            for index in byGap {
                let charger = allocation.chargers[index]
                let over = charger.gridPhases.phases.contains { sums[$0] > allocation.chargingBudget[$0] + 1e-6 }
                guard over, let previous = sent[charger.id] else { continue }
                commands.append(
                    send(charger, current: charger.current, previous: previous.current, kind: .decrease, now: now)
                )
                sums -= charger.gridPhases.currents(previous.current - charger.current)
            }
        }
        return commands
    }

    private mutating func send(
        _ charger: ChargerAllocation,
        current: Double,
        previous: Double?,
        kind: LimitCommand.Kind,
        now: Double
    ) -> LimitCommand {
        let limit = SentLimit(current: current, time: now)
        sent[charger.id] = limit
        smallGapSince[charger.id] = nil
        if charger.draw > current + settings.followTolerance {
            pendingDecreases[charger.id] = limit
        } else {
            pendingDecreases[charger.id] = nil
        }
        return LimitCommand(
            chargerID: charger.id,
            current: current,
            previous: previous,
            kind: kind,
            target: charger.current,
            reason: charger.reason,
            source: charger.source
        )
    }
}

/// The dispatch rules' numbers, with the defaults the product ships.
public struct DispatchSettings: Sendable, Equatable, Codable {
    /// Seconds between two limits to the same charger when the second is an increase.
    public var settleTime: Double = 10
    /// Share of the remaining gap one increase closes (0...1).
    public var increaseFraction: Double = 0.5
    /// Changes smaller than this many amperes are not sent.
    public var deadband: Double = 1
    /// An increase smaller than `deadband` (but at least half of it) that persists this many
    /// seconds is sent after all: it is not noise, and over many chargers it adds up.
    public var smallGapPersistence: Double = 120
    /// Increases wait at most this many seconds for a car to follow a decrease.
    public var decreaseFollowTimeout: Double = 20
    /// A car drawing up to this many amperes above its limit counts as following it.
    public var followTolerance: Double = 1

    public init() {}
}

/// A limit to send to one charger now.
public struct LimitCommand: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable {
        /// The first limit for this charger.
        case initial
        /// Lower than the last one, above 0.
        case decrease
        /// 0: the charger pauses.
        case pause
        /// From 0 to its first current.
        case start
        /// Higher than the last one.
        case increase
    }

    public var chargerID: ChargerID
    /// Amperes per phase.
    public var current: Double
    /// The limit sent before; nil for the first.
    public var previous: Double?
    public var kind: Kind
    /// What the allocation wants eventually (an increase may stop short of it).
    public var target: Double
    public var reason: AllocationReason
    public var source: LimitSource?
}
