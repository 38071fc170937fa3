/// The rules for sending limits to chargers, as a value-type state machine: feed it each
/// ``Allocation`` with ``LimitDispatcher/step(_:)``; it answers with the limits to send now.
///
/// Every message costs: the charger may apply a new limit only every few seconds, and a car on a
/// shared grid sees its current move with every message. The dispatcher therefore sends what
/// safety and fairness need, and no more. The invariant it keeps: the limits in force add up to
/// at most the charging budget on every grid phase and every circuit phase.
///
/// Rules (defaults in ``DispatchSettings``):
/// - The first limit for a charger goes out at once (its own default may be its maximum); so do
///   pauses and cuts of `withheldDecrease` or more, to the full target, so that shares stay fair
///   after a limit drops.
/// - A smaller cut is withheld while no budget needs it: the charger keeps its limit until someone
///   needs the room. When the limits in force would exceed a budget, the whole overshoot is cut at
///   once from the chargers above their targets (those whose car does not use its limit first,
///   then the largest excess), each to its target. Withheld cuts also go out as soon as the limits
///   in force would break the unbalance limit.
/// - Increases wait while a decrease has not taken effect yet (the freed current is not there
///   until the car follows), while the grid measurement is stale, until the charger's settle time
///   has passed since its last limit, and while the car draws clearly less than a limit it has had
///   for `unusedAfter` (it would not use more). Then they close at most `increaseFraction` of the
///   remaining gap, but at least `deadband`, and all of it when less than `deadband` would remain
///   (a ramp does not end in a tiny step). A start (from 0) begins at max(minimum,
///   `increaseFraction` × target); a probe (a car that took nothing, offered its minimum again)
///   goes out in one step.
/// - An increase never takes a budget over. When there is no room, a start or a probe gets it at
///   once from one charger (one that does not use its limit, else one on fewer phases, else the
///   one that got the fewest limits in the last hour), lowered as far as its minimum. When the
///   room returns within `probeLoanTime` (the probe found a car that takes nothing), that one gets
///   its limit back in one step: a limit it drew a minute ago, not a new operating point to ramp
///   to. Any other increase that has waited `smallGapPersistence` gets the room from the chargers
///   above their targets.
/// - Increases smaller than `deadband` are not sent unless (at least half the deadband) they
///   persist `smallGapPersistence`.
/// - So in steady state a charger gets at most one limit per settle time, and none while nothing
///   changes; a probe of an idle car costs one other charger a cut and its way back instead of
///   moving every charger on the phase twice.
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
    /// Since when a charger's increase has waited for room.
    public private(set) var blockedSince: [ChargerID: Double] = [:]
    /// Chargers cut below their targets to make room for a start or a probe, with the limit they
    /// had before.
    public private(set) var lentForProbe: [ChargerID: SentLimit] = [:]
    /// When each charger got its limits of the last hour.
    public private(set) var recentSends: [ChargerID: [Double]] = [:]
    private var lastTrim = -Double.infinity

    public init(settings: DispatchSettings = DispatchSettings()) {
        self.settings = settings
    }

    /// Forgets what was sent to a charger, so its limit is sent again at the next step
    /// (after a reconnect, a reboot, or a cleared or rejected profile).
    public mutating func forget(_ id: ChargerID) {
        sent[id] = nil
        pendingDecreases[id] = nil
        smallGapSince[id] = nil
        blockedSince[id] = nil
        lentForProbe[id] = nil
    }

    /// The limits to send now for `allocation`: first limits, pauses and needed decreases first,
    /// then increases.
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
        // Chargers that got nothing for an hour are forgotten now and then (each list is also
        // trimmed whenever its charger gets a limit).
        if now - lastTrim >= 600 {
            lastTrim = now
            recentSends = recentSends.filter { _, times in times.last.map { $0 > now - 3600 } ?? false }
        }

        // First pass: first limits, pauses and cuts of `withheldDecrease` or more go out at once;
        // smaller cuts wait (below: for a budget or the unbalance limit that needs them).
        var commands: [LimitCommand] = []
        var increases: [(index: Int, gap: Double)] = []
        for (index, charger) in allocation.chargers.enumerated() where !charger.offline {
            let target = charger.current
            guard let previous = sent[charger.id] else {
                commands.append(send(charger, current: target, previous: nil, kind: .initial, now: now))
                continue
            }
            let gap = target - previous.current
            if gap < settings.deadband / 2 { smallGapSince[charger.id] = nil }
            if gap <= 0 { blockedSince[charger.id] = nil }
            if abs(gap) < 1e-9 { continue }
            if gap > 0 {
                increases.append((index, gap))
            } else if target == 0 {
                commands.append(send(charger, current: 0, previous: previous.current, kind: .pause, now: now))
            } else if -gap >= settings.withheldDecrease {
                commands.append(send(charger, current: target, previous: previous.current, kind: .decrease, now: now))
            }
        }
        keepUnbalance(allocation, commands: &commands)

        // Lower targets that a budget needs now: the whole overshoot, from those above their targets.
        var loads = Loads(allocation, sent: sent)
        for constraint in loads.budget.indices where loads.over(constraint) > 1e-6 {
            makeRoom(loads.over(constraint), on: constraint, in: allocation, loads: &loads, commands: &commands)
        }

        // Second pass: increases, the largest gap first. While a decrease (this step's included)
        // has not taken effect yet they wait, but room is still made for every start and probe now,
        // so that one batch of probes costs one round of cuts.
        var holdIncreases = !pendingDecreases.isEmpty
        increases.sort { $0.gap != $1.gap ? $0.gap > $1.gap : $0.index < $1.index }
        for (index, _) in increases where !allocation.freezeIncreases {
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
            // A car that does not use the limit it has (given time for a charger's next meter
            // report) would not use a higher one either.
            if previous.current > 0, !charger.probing, now - previous.time >= settings.unusedAfter,
                charger.draw + settings.unusedMargin < previous.current
            {
                continue
            }
            let next: Double
            let kind: LimitCommand.Kind
            if let lent = lentForProbe[charger.id], lent.current > previous.current,
                now - lent.time <= settings.probeLoanTime
            {
                // Cut to make room for a probe: it gets back what it had, in one step, as soon as
                // the room returns (a limit it drew a minute ago, not a new operating point).
                (next, kind) = (min(target, lent.current), .increase)
            } else if persistentSmallGap || charger.probing {
                (next, kind) = (target, .increase)
            } else if previous.current == 0 {
                var start = min(target, max(charger.minCurrent, target * settings.increaseFraction))
                if target - start < settings.deadband { start = target }
                (next, kind) = (start, .start)
            } else if gap >= settings.deadband {
                var step = max(gap * settings.increaseFraction, settings.deadband)
                // A rest smaller than the deadband would cost one more message later: close it now.
                if gap - step < settings.deadband { step = gap }
                (next, kind) = (min(target, Self.roundedDown(previous.current + step)), .increase)
            } else {
                continue
            }
            let constraints = loads.constraints(of: charger)
            let room = constraints.map { loads.room($0) }.min() ?? 0
            if next - previous.current <= room + 1e-9 {
                if holdIncreases { continue }
                commands.append(send(charger, current: next, previous: previous.current, kind: kind, now: now))
                loads.add(next - previous.current, for: charger)
                continue
            }
            // A ramp step takes what room there is, when that is worth a message.
            let partial = Self.roundedDown(previous.current + room)
            if kind == .increase, !charger.probing, partial - previous.current >= settings.deadband {
                if holdIncreases { continue }
                commands.append(send(charger, current: partial, previous: previous.current, kind: kind, now: now))
                loads.add(partial - previous.current, for: charger)
                continue
            }
            let since = blockedSince[charger.id] ?? now
            blockedSince[charger.id] = since
            let urgent = kind == .start || charger.probing
            guard urgent || (!holdIncreases && now - since >= settings.smallGapPersistence) else { continue }
            let count = commands.count
            for constraint in constraints {
                let need = next - previous.current - loads.room(constraint)
                if need > 1e-9 {
                    makeRoom(
                        need,
                        on: constraint,
                        in: allocation,
                        loads: &loads,
                        commands: &commands,
                        belowTarget: urgent,
                        except: index
                    )
                }
            }
            // Break before make: the increase follows once the lowered cars follow.
            if commands.count > count, !pendingDecreases.isEmpty { holdIncreases = true }
        }
        return commands
    }

    /// Sends withheld decreases on the heaviest phase while the limits in force would unbalance the
    /// grid connection more than the unbalance limit (or than the targets do, when the building
    /// alone exceeds it): those bound by the unbalance limit first, the largest excess first.
    private mutating func keepUnbalance(_ allocation: Allocation, commands: inout [LimitCommand]) {
        guard let limit = allocation.maxUnbalance else { return }
        var totals = allocation.buildingLoad
        var targets = allocation.buildingLoad
        for charger in allocation.chargers where !charger.offline {
            totals += charger.gridPhases.currents(sent[charger.id]?.current ?? 0)
            targets += charger.gridPhases.currents(charger.current)
        }
        let allowed = max(limit, targets.maximum - targets.minimum) + 1e-6
        while totals.maximum - totals.minimum > allowed {
            let heaviest = GridPhase.allCases.max { totals[$0] < totals[$1] }!
            let lightest = GridPhase.allCases.min { totals[$0] < totals[$1] }!
            let best = allocation.chargers.indices.filter { index in
                let charger = allocation.chargers[index]
                guard !charger.offline, let limit = sent[charger.id]?.current else { return false }
                return limit > charger.current + 1e-9 && charger.gridPhases.contains(heaviest)
                    && !charger.gridPhases.contains(lightest)
            }.max { a, b in
                let (ca, cb) = (allocation.chargers[a], allocation.chargers[b])
                if (ca.source == .unbalance) != (cb.source == .unbalance) { return cb.source == .unbalance }
                let ea = sent[ca.id]!.current - ca.current
                let eb = sent[cb.id]!.current - cb.current
                return ea != eb ? ea < eb : a > b
            }
            guard let index = best, let previous = sent[allocation.chargers[index].id]?.current else { return }
            let charger = allocation.chargers[index]
            commands.append(
                send(charger, current: charger.current, previous: previous, kind: .decrease, now: allocation.time)
            )
            totals -= charger.gridPhases.currents(previous - charger.current)
        }
    }

    /// Lowers the limits in force on `constraint` by `amount` in total. Normally from chargers
    /// above their targets, each to its target: those that do not use their limit first (it costs
    /// them nothing), then the largest excess first. With `belowTarget` (a start or a probe needs
    /// the room now), from as few chargers as possible instead, each lowered by all that is still
    /// needed, as far as its minimum: one that does not use its limit first, then one on fewer
    /// phases (a cut on the other phases would be room nobody asked for), then the one that got
    /// the fewest limits in the last hour. When the room returns (a probe found a car that takes
    /// nothing), only that one charger moves back.
    private mutating func makeRoom(
        _ amount: Double,
        on constraint: Int,
        in allocation: Allocation,
        loads: inout Loads,
        commands: inout [LimitCommand],
        belowTarget: Bool = false,
        except excluded: Int? = nil
    ) {
        let now = allocation.time
        var remaining = amount
        var excess: [(index: Int, unused: Bool, excess: Double)] = []
        var others: [(index: Int, unused: Bool, phases: Int, recent: Int, time: Double)] = []
        for (index, charger) in allocation.chargers.enumerated() where index != excluded && !charger.offline {
            guard let limit = sent[charger.id], limit.current > 0, charger.current > 0,
                loads.counts(charger, on: constraint)
            else { continue }
            let unused = charger.draw + settings.unusedMargin < limit.current
            if limit.current > charger.current + 1e-9 {
                excess.append((index, unused, limit.current - charger.current))
            }
            if belowTarget, limit.current > min(charger.minCurrent, charger.current) + 1e-9 {
                let recent = recentSends[charger.id]?.count { $0 > now - 3600 } ?? 0
                others.append((index, unused, charger.gridPhases.count, recent, limit.time))
            }
        }
        excess.sort {
            if $0.unused != $1.unused { return $0.unused }
            return $0.excess != $1.excess ? $0.excess > $1.excess : $0.index < $1.index
        }
        for (index, _, _) in excess where remaining > 1e-9 && !belowTarget {
            let charger = allocation.chargers[index]
            guard let previous = sent[charger.id]?.current, previous > charger.current else { continue }
            commands.append(send(charger, current: charger.current, previous: previous, kind: .decrease, now: now))
            loads.add(charger.current - previous, for: charger)
            remaining -= previous - charger.current
        }
        others.sort {
            if $0.unused != $1.unused { return $0.unused }
            if $0.phases != $1.phases { return $0.phases < $1.phases }
            if $0.recent != $1.recent { return $0.recent < $1.recent }
            return $0.time != $1.time ? $0.time < $1.time : $0.index < $1.index
        }
        for (index, _, _, _, _) in others where remaining > 1e-9 {
            let charger = allocation.chargers[index]
            guard let previous = sent[charger.id]?.current else { continue }
            let floor = min(charger.minCurrent, charger.current)
            let next = max(floor, min(charger.current, Self.roundedDown(previous - remaining)))
            guard next < previous - 1e-9 else { continue }
            commands.append(send(charger, current: next, previous: previous, kind: .decrease, now: now))
            loads.add(next - previous, for: charger)
            remaining -= previous - next
            if next < charger.current {
                // A second cut within the loan keeps the limit it had before the first.
                let earlier = lentForProbe[charger.id].flatMap { now - $0.time <= settings.probeLoanTime ? $0 : nil }
                lentForProbe[charger.id] = SentLimit(current: max(previous, earlier?.current ?? 0), time: now)
            }
        }
    }

    /// `value` rounded down to 0.1 A (a hair below a tenth, from binary fractions, counts as that tenth).
    static func roundedDown(_ value: Double) -> Double {
        ((value + 1e-9) * 10).rounded(.down) / 10
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
        blockedSince[charger.id] = nil
        if let lent = lentForProbe[charger.id], current >= lent.current || current == 0 {
            lentForProbe[charger.id] = nil
        }
        var times = recentSends[charger.id, default: []]
        times.removeAll { $0 <= now - 3600 }
        times.append(now)
        recentSends[charger.id] = times
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

/// The limits in force added up per budget: constraints 0–2 are the grid phases' charging
/// budgets, 3 + 3·c + p circuit c's phase p.
struct Loads {
    var budget: [Double]
    var load: [Double]
    let parents: [Int?]

    init(_ allocation: Allocation, sent: [ChargerID: LimitDispatcher.SentLimit]) {
        let budget = allocation.chargingBudget
        self.budget = [budget.l1, budget.l2, budget.l3]
        for circuit in allocation.circuitBudgets {
            self.budget += [circuit.budget.l1, circuit.budget.l2, circuit.budget.l3]
        }
        parents = allocation.circuitBudgets.map(\.parent)
        load = [Double](repeating: 0, count: self.budget.count)
        for charger in allocation.chargers where !charger.offline {
            if let current = sent[charger.id]?.current, current > 0 { add(current, for: charger) }
        }
    }

    /// Calls `body` with every budget a charger's current counts against: its grid phases, then
    /// those phases of its circuit and of every circuit above it.
    func forEachConstraint(of charger: ChargerAllocation, _ body: (Int) -> Void) {
        let phases = charger.gridPhases.rawValue
        var offset = 0
        var circuit = charger.circuit
        var hops = 0
        while true {
            for phase in 0..<3 where phases & (1 << UInt8(phase)) != 0 { body(offset + phase) }
            guard let current = circuit, current < parents.count, hops <= parents.count else { return }
            offset = 3 + 3 * current
            circuit = parents[current]
            hops += 1
        }
    }

    func constraints(of charger: ChargerAllocation) -> [Int] {
        var result: [Int] = []
        forEachConstraint(of: charger) { result.append($0) }
        return result
    }

    func counts(_ charger: ChargerAllocation, on constraint: Int) -> Bool {
        var found = false
        forEachConstraint(of: charger) { if $0 == constraint { found = true } }
        return found
    }

    mutating func add(_ current: Double, for charger: ChargerAllocation) {
        var load = self.load
        self.load = []
        forEachConstraint(of: charger) { load[$0] += current }
        self.load = load
    }

    func over(_ constraint: Int) -> Double { load[constraint] - budget[constraint] }
    func room(_ constraint: Int) -> Double { budget[constraint] - load[constraint] }
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
    /// A charger cut below its target to make room for a probe gets its limit back in one step
    /// when the room returns within this many seconds; later, increases ramp as usual.
    public var probeLoanTime: Double = 300
    /// A lower target that breaks no budget is withheld (the charger keeps its limit until someone
    /// needs the room) when it is less than this many amperes lower; a larger cut goes out at once,
    /// so that shares stay fair after a limit drops.
    public var withheldDecrease: Double = 2
    /// A car drawing more than this many amperes below its limit does not use it: its increases
    /// wait, and it is the first to make room for others.
    public var unusedMargin: Double = 3
    /// ...once its limit is this many seconds old: a charger reports what its car draws every
    /// 10–60 s (OCPP MeterValueSampleInterval), so a fresh increase shows later.
    public var unusedAfter: Double = 60

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
