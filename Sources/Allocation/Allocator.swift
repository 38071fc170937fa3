/// Computes every charger's limit for one moment: a pure, deterministic function of `state`.
///
/// The stages, each with one job (docs/allocation.md explains why each exists):
/// 1. Effective limit per phase: the lowest of fuse, configured cap, ripple-control level and every
///    unexpired API command, with its source.
/// 2. Measurement state: fresh, stale (increases frozen), or fail-safe (safe budget only).
/// 3. Offline chargers: their last allocation, later their maximum, is reserved; their last
///    measured draw (at most the reservation) is taken off the grid reading, so that
///    reservation plus estimated building load always covers what they may draw.
/// 4. Building load per phase: grid reading minus what the chargers draw (through their rotation);
///    a charger's draw above its limit (after a grace time) stays in the building load.
/// 5. Charging budget per phase: effective limit − building load − margin − reservations.
/// 6. Under-drawing cars are held at their draw plus a margin; probed back up later.
/// 7. Admission: in order of priority, then turn (rotation), each charger's minimum is admitted
///    while it fits; the others pause. Paused chargers wait out the minimum pause time.
/// 8. Fair share: the rest is water-filled among admitted chargers, tier by tier.
/// 9. Unbalance: one- and two-phase chargers on the heaviest phase are reduced.
/// 10. Rounding down to 0.1 A, reasons, and memory for the next call.
public func allocate(_ state: SiteState) -> Allocation {
    computeAllocation(state)
}

private func computeAllocation(_ state: SiteState) -> Allocation {
    var run = AllocatorRun(state: state)
    return run.allocate()
}

/// A value that computes every charger's limit and keeps the allocator's memory between calls.
///
/// A convenience over ``allocate(_:)`` for callers that do not keep the memory themselves.
public struct SiteAllocator: Sendable {
    public private(set) var memory: AllocationMemory

    public init(memory: AllocationMemory = AllocationMemory()) {
        self.memory = memory
    }

    /// Allocates for `state` (its `memory` is replaced by this allocator's) and keeps the new memory.
    public mutating func allocate(_ state: SiteState) -> Allocation {
        var state = state
        state.memory = memory
        let allocation = computeAllocation(state)
        memory = allocation.memory
        return allocation
    }
}

/// Per-charger facts gathered once.
private struct ChargerFacts {
    var gridPhases: PhaseSet
    /// Where the indices of the constraints the charger counts on lie in `AllocatorRun.constraintList`:
    /// site phases, then each ancestor circuit's phases.
    var constraints: Range<Int>
    var draw: Double
    var offline: Bool
    var wantsCurrent: Bool
    // Copied from the charger's state once, so that later stages read plain values.
    var minCurrent: Double
    var maxCurrent: Double
    var priority: Int
    var sessionEnergy: Double
    var terminalCount: Int
    var measured: PhaseCurrents
    var appliedLimit: Double?
}

private struct AllocatorRun {
    let state: SiteState
    let settings: AllocationSettings
    /// Each charger's memory, by its index in `state.chargers` (looked up once per call).
    /// A charger without memory has `hasEntry[index] == false` and a fresh entry in its slot
    /// (entries are large values: they are updated in place, not copied out and back).
    var entries: [ChargerMemory] = []
    var hasEntry: [Bool] = []
    var results: [ChargerAllocation] = []
    var facts: [ChargerFacts] = []
    /// Every charger's constraint indices, one after the other (see `ChargerFacts.constraints`).
    var constraintList: [Int] = []
    var circuitIndex: [String: Int] = [:]
    var circuitParent: [Int?] = []
    var capacity: [Double] = []
    var constraintSources: [(LimitSource, GridPhase)] = []

    init(state: SiteState) {
        self.state = state
        self.settings = state.settings
    }

    mutating func allocate() -> Allocation {
        let now = state.now
        let site = state.site

        // Stage 1: the effective limit per phase.
        let effective = effectiveLimits()

        // Stage 2: how fresh the grid measurement is.
        let measurement: MeasurementState
        if let grid = state.grid {
            let age = now - grid.time
            if age > settings.failSafeAfter {
                measurement = .failSafe
            } else if age > settings.staleAfter {
                measurement = .stale
            } else {
                measurement = .fresh
            }
        } else {
            measurement = .awaitingFirstReading
        }
        let failSafe = measurement == .failSafe || measurement == .awaitingFirstReading

        // Circuits become constraints 3 + 3·c + phase.
        for (index, circuit) in site.circuits.enumerated() { circuitIndex[circuit.id] = index }
        circuitParent = site.circuits.map { $0.parent.flatMap { circuitIndex[$0] } }
        constraintSources = GridPhase.allCases.map { (LimitSource.fuse, $0) }
        for circuit in site.circuits {
            for phase in GridPhase.allCases { constraintSources.append((.circuit(circuit.id), phase)) }
        }
        capacity = [Double](repeating: 0, count: 3 + 3 * site.circuits.count)
        for (index, circuit) in site.circuits.enumerated() {
            for phase in GridPhase.allCases { capacity[3 + 3 * index + phase.rawValue] = circuit.limit[phase] }
        }

        // Stage 3: per-charger facts, offline reservations.
        var reserved = PhaseCurrents.zero
        var subtracted = PhaseCurrents.zero
        // Memory the last allocation wrote for the same chargers (ids distinct) is read by position;
        // other memory is looked up by charger id.
        let chargerIDs = state.chargers.map(\.charger.id)
        var idsAreDistinct: Bool?
        if state.memory.ids == chargerIDs {
            idsAreDistinct = state.memory.idsAreDistinct ?? (Set(chargerIDs).count == chargerIDs.count)
        }
        let fresh = ChargerMemory(running: false, since: now)
        if idsAreDistinct == true {
            entries = state.memory.entries
            hasEntry = state.memory.present
            for index in hasEntry.indices where !hasEntry[index] { entries[index] = fresh }
        } else {
            entries = [ChargerMemory](repeating: fresh, count: state.chargers.count)
            hasEntry = [Bool](repeating: false, count: state.chargers.count)
            let remembered = state.memory.chargers
            if !remembered.isEmpty {
                for index in state.chargers.indices {
                    if let entry = remembered[chargerIDs[index]] {
                        entries[index] = entry
                        hasEntry[index] = true
                    }
                }
            }
        }
        do {
            // The loop works on local arrays (stored back after it): appending to and writing into
            // this value's own arrays would check their uniqueness for every charger.
            var facts = [ChargerFacts]()
            var results = [ChargerAllocation]()
            var constraintList = [Int]()
            var capacity = self.capacity
            results.reserveCapacity(state.chargers.count)
            facts.reserveCapacity(state.chargers.count)
            constraintList.reserveCapacity(3 * state.chargers.count * (site.circuits.isEmpty ? 1 : 2))
            var entries = self.entries
            var hasEntry = self.hasEntry
            self.entries = []
            self.hasEntry = []
            let circuits = site.circuits
            let circuitNumbers = circuitIndex
            let parents = circuitParent
            let chargers = state.chargers
            for index in chargers.indices {
                let charger = chargers[index]
                let rotation = charger.charger.rotation
                let terminalCount = charger.charger.terminalCount
                let measured = charger.measured
                let draw = charger.draw
                let minCurrent = charger.charger.minCurrent
                let maxCurrent = charger.charger.maxCurrent
                var gridPhases = rotation.gridPhases(terminalCount: terminalCount)
                if hasEntry[index], let active = entries[index].activeTerminals, rotation != .unknown,
                    !(0..<terminalCount).contains(where: {
                        active & (1 << UInt8($0)) == 0 && measured[$0] >= 1
                    })
                {
                    gridPhases = PhaseSet(
                        (0..<terminalCount).filter { active & (1 << UInt8($0)) != 0 }
                            .compactMap { rotation.gridPhase(ofTerminal: $0) }
                    )
                }
                let firstConstraint = constraintList.count
                for phase in 0..<3 where gridPhases.rawValue & (1 << UInt8(phase)) != 0 { constraintList.append(phase) }
                let direct = constraintList.count - firstConstraint
                let leafCircuit = charger.charger.circuit.flatMap {
                    Self.circuitNumber($0, in: circuits, index: circuitNumbers)
                }
                var circuit = leafCircuit
                var hops = 0
                while let current = circuit, hops <= site.circuits.count {
                    for offset in 0..<direct {
                        constraintList.append(3 + 3 * current + constraintList[firstConstraint + offset])
                    }
                    circuit = parents[current]
                    hops += 1
                }
                let constraints = firstConstraint..<constraintList.count
                var offline = !charger.connected
                if let last = charger.lastReport, now - last > settings.chargerSilentAfter { offline = true }
                let wants = charger.status.hasVehicle && !offline
                facts.append(
                    ChargerFacts(
                        gridPhases: gridPhases,
                        constraints: constraints,
                        draw: draw,
                        offline: offline,
                        wantsCurrent: wants,
                        minCurrent: minCurrent,
                        maxCurrent: maxCurrent,
                        priority: charger.charger.priority,
                        sessionEnergy: charger.sessionEnergy,
                        terminalCount: terminalCount,
                        measured: measured,
                        appliedLimit: charger.appliedLimit
                    )
                )
                results.append(
                    ChargerAllocation(
                        id: charger.charger.id,
                        current: 0,
                        reason: .noVehicle,
                        gridPhases: gridPhases,
                        minCurrent: minCurrent,
                        draw: draw,
                        offline: offline,
                        circuit: leafCircuit
                    )
                )
                if offline {
                    hasEntry[index] = true
                    let since = entries[index].offlineSince ?? now
                    entries[index].offlineSince = since
                    let hold: Double
                    if now - since < settings.offlineReserveTime {
                        hold = entries[index].lastCurrent
                        results[index].reason = .offlineReserved
                    } else {
                        hold = maxCurrent
                        results[index].reason = .offlineAssumedMaximum
                    }
                    results[index].current = hold
                    // Its last measured draw (not more than the reservation) leaves the building load;
                    // whatever it draws now stays in the grid reading, so the reservation covers it.
                    let holding = gridPhases.currents(hold)
                    reserved += holding
                    subtracted += PhaseCurrents.combine(
                        Self.accountedDraw(charger, now: now, settings: settings),
                        holding,
                        min
                    )
                    for position in constraints where constraintList[position] >= 3 {
                        capacity[constraintList[position]] -= hold
                    }
                } else if wants {
                    subtracted += Self.accountedDraw(charger, now: now, settings: settings)
                }
            }
            self.facts = facts
            self.results = results
            self.constraintList = constraintList
            self.capacity = capacity
            self.entries = entries
            self.hasEntry = hasEntry
        }

        // Stage 4: building load per phase.
        var building = PhaseCurrents.zero
        if let grid = state.grid {
            building = PhaseCurrents.combine(grid.currents, subtracted) { max(0, $0 - $1) }
        }

        // Stage 5: the charging budget per phase.
        var budgetSources = [LimitSource]()
        for phase in GridPhase.allCases {
            let limit = effective[phase.rawValue]
            var budget = limit.current - building[phase] - site.margin
            var source = limit.source
            if failSafe {
                let safe = settings.safeCurrent[phase]
                if safe <= limit.current - site.margin {
                    budget = safe
                    source = .safeBudget
                } else {
                    budget = limit.current - site.margin
                }
            }
            capacity[phase.rawValue] = max(0, budget - reserved[phase])
            constraintSources[phase.rawValue] = (source, phase)
            budgetSources.append(source)
        }
        for index in 3..<capacity.count { capacity[index] = max(0, capacity[index]) }
        let budget = PhaseCurrents(l1: capacity[0], l2: capacity[1], l3: capacity[2])
        let circuitBudgets = site.circuits.indices.map { index in
            CircuitBudget(
                id: site.circuits[index].id,
                parent: circuitParent[index],
                budget: PhaseCurrents(
                    l1: capacity[3 + 3 * index],
                    l2: capacity[4 + 3 * index],
                    l3: capacity[5 + 3 * index]
                )
            )
        }

        // Stages 6–9.
        shareAmongCandidates(building: building, reserved: reserved, failSafe: failSafe)

        // Stage 10: memory for the next call; sessions that ended are forgotten.
        var allocated = PhaseCurrents.zero
        // (Entries are updated in place: a charger's memory is a large value.)
        for index in results.indices {
            let current = results[index].current
            allocated += results[index].gridPhases.currents(current)
            if facts[index].offline { continue }
            guard facts[index].wantsCurrent else {
                hasEntry[index] = false
                continue
            }
            hasEntry[index] = true
            Self.remember(current: current, now: now, in: &entries[index])
        }
        let memory = AllocationMemory(
            ids: chargerIDs,
            entries: entries,
            present: hasEntry,
            idsAreDistinct: idsAreDistinct
        )

        return Allocation(
            time: now,
            measurement: measurement,
            effectiveLimit: effective,
            buildingLoad: building,
            chargingBudget: budget,
            budgetSources: budgetSources,
            allocated: allocated,
            circuitBudgets: circuitBudgets,
            maxUnbalance: site.maxUnbalance,
            chargers: results,
            freezeIncreases: measurement != .fresh,
            memory: memory
        )
    }

    /// Stage 10 for one charger that may take current: whether it runs, since when, and its current.
    static func remember(current: Double, now: Double, in entry: inout ChargerMemory) {
        entry.offlineSince = nil
        let running = current > 0
        if running != entry.running {
            entry.running = running
            entry.since = now
        }
        if running { entry.hasRun = true }
        if !running {
            entry.underdrawCap = nil
            entry.underdrawSince = nil
        }
        entry.lastCurrent = current
    }

    /// The index of the circuit with this id. Most sites have a few circuits: comparing short ids
    /// is cheaper than hashing them (the last match wins, as in `circuitIndex`).
    static func circuitNumber(_ id: String, in circuits: [Circuit], index circuitIndex: [String: Int]) -> Int? {
        guard circuits.count <= 16 else { return circuitIndex[id] }
        return circuits.lastIndex { $0.id == id }
    }

    /// Stage 1: per phase, the lowest limit and its source (ties go to the first in this order:
    /// fuse, configured cap, ripple control, API commands by id).
    func effectiveLimits() -> [PhaseLimit] {
        var candidates: [(PhaseCurrents, LimitSource)] = [(state.site.fuse, .fuse)]
        if let cap = state.limits.configuredCap { candidates.append((cap, .configuredCap)) }
        if let ripple = state.limits.rippleControl { candidates.append((ripple, .rippleControl)) }
        let commands = state.limits.apiCommands
            .filter { command in command.expiresAt.map { $0 > state.now } ?? true }
            .sorted { $0.id < $1.id }
        for command in commands { candidates.append((command.maxCurrent, .apiCommand(command.id))) }
        return GridPhase.allCases.map { phase in
            var best = PhaseLimit(phase: phase, current: candidates[0].0[phase], source: candidates[0].1)
            for (currents, source) in candidates.dropFirst() where currents[phase] < best.current {
                best = PhaseLimit(phase: phase, current: max(0, currents[phase]), source: source)
            }
            return best
        }
    }

    /// What a charger's draw takes off the grid reading to give the building load: its measured
    /// current through its rotation, but not more than its limit (plus tolerance) once it had time
    /// to follow it. Excess beyond that stays in the building load, so others make room for it.
    static func accountedDraw(_ charger: ChargerState, now: Double, settings: AllocationSettings) -> PhaseCurrents {
        var terminals = charger.measured
        if let limit = charger.appliedLimit, let since = charger.appliedSince, now - since >= settings.followGrace {
            terminals = terminals.map { min($0, limit + settings.followTolerance) }
        }
        let count = charger.charger.terminalCount
        for terminal in count..<3 { terminals[terminal] = 0 }
        return charger.charger.rotation.toGrid(terminals, terminalCount: count)
    }

    /// Stages 6 to 9 for the chargers whose car may take current.
    mutating func shareAmongCandidates(building: PhaseCurrents, reserved: PhaseCurrents, failSafe: Bool) {
        let now = state.now

        struct Candidate {
            var index: Int
            var floor: Double
            var ceiling: Double
            var capped: Bool
            var priority: Int
            var turnClass: Int
            var energy: Double
        }
        var candidates = [Candidate]()
        candidates.reserveCapacity(state.chargers.count)

        // Stage 6: under-drawing cars.
        for index in facts.indices where facts[index].wantsCurrent {
            hasEntry[index] = true
            if Self.followDraw(facts[index], &entries[index], now: now, settings: settings) {
                // It takes nothing: held at 0 until its next probe.
                results[index].reason = .vehicleDrawsLess
                results[index].source = .vehicle
                continue
            }
            results[index].probing = entries[index].probeUntil != nil
            let fact = facts[index]
            let running = entries[index].running
            let hasRun = entries[index].hasRun
            let since = entries[index].since
            let underdrawCap = entries[index].underdrawCap

            // Stage 7 (first half): each session's place in the turn order.
            let pausedRecently = hasRun && !running && now - since < settings.minimumPauseTime
            if pausedRecently {
                results[index].reason = .pauseDwell
                continue
            }
            // 0: running, its turn not over; 1: waited a full turn (or never ran); 2: running, its
            // turn is over; 3: paused, dwell over but not a full turn yet (starts only into free room).
            let turnClass: Int
            let elapsed = now - since
            if running {
                turnClass = elapsed < settings.rotationInterval ? 0 : 2
            } else if !hasRun || elapsed >= settings.rotationInterval {
                turnClass = 1
            } else {
                turnClass = 3
            }
            var ceiling = min(fact.maxCurrent, underdrawCap ?? .infinity)
            if entries[index].probeFromIdle == true { ceiling = fact.minCurrent }
            candidates.append(
                Candidate(
                    index: index,
                    floor: fact.minCurrent,
                    ceiling: max(fact.minCurrent, ceiling),
                    capped: entries[index].probeFromIdle == true
                        || (underdrawCap.map { $0 < fact.maxCurrent } ?? false),
                    priority: fact.priority,
                    turnClass: turnClass,
                    energy: fact.sessionEnergy
                )
            )
        }

        // Stage 7 (second half): admit minimums in turn order while they fit.
        // The order is (priority, highest first; turn class; energy; position). Priorities are few
        // tiers: ordered by energy in linear time, then grouped by (priority tier, turn class).
        var priorities = [Int]()
        for candidate in candidates where !priorities.contains(candidate.priority) {
            priorities.append(candidate.priority)
            if priorities.count > 16 { break }
        }
        if candidates.count >= KeyOrder.radixThreshold, priorities.count <= 16,
            let byEnergy = KeyOrder.ascending(candidates.map(\.energy))
        {
            priorities.sort(by: >)
            let groups = candidates.map { candidate in
                priorities.firstIndex(of: candidate.priority)! * 4 + candidate.turnClass
            }
            let order = KeyOrder.grouped(groups, groupCount: 4 * priorities.count, within: byEnergy)
            candidates = order.map { candidates[$0] }
        } else {
            // Few candidates, many tiers or an energy that is not a number: compact keys (~priority reverses the
            // order without overflow); the position makes the order total.
            var order = [(Int, Int, Double, Int)]()
            order.reserveCapacity(candidates.count)
            for (position, candidate) in candidates.enumerated() {
                order.append((~candidate.priority, candidate.turnClass, candidate.energy, position))
            }
            order.sort { $0 < $1 }
            candidates = order.map { candidates[$0.3] }
        }
        var floorUse = [Double](repeating: 0, count: capacity.count)
        var admitted = [Candidate]()
        admitted.reserveCapacity(candidates.count)
        let tolerance = 1e-9
        for candidate in candidates {
            let constraints = facts[candidate.index].constraints
            var blockingConstraint: Int?
            for position in constraints {
                let constraint = constraintList[position]
                if floorUse[constraint] + candidate.floor > capacity[constraint] + tolerance {
                    blockingConstraint = constraint
                    break
                }
            }
            if let blocking = blockingConstraint {
                let (source, phase) = constraintSources[blocking]
                if failSafe {
                    results[candidate.index].reason = .failSafe
                } else if candidate.floor > capacity[blocking] + tolerance {
                    results[candidate.index].reason = .insufficientSupply
                } else {
                    results[candidate.index].reason = .waitingForTurn
                }
                results[candidate.index].source = source
                results[candidate.index].phase = phase
                continue
            }
            for position in constraints { floorUse[constraintList[position]] += candidate.floor }
            admitted.append(candidate)
        }

        // Stage 8: water-fill tier by tier; lower tiers keep their admitted minimum.
        var finalUse = [Double](repeating: 0, count: capacity.count)
        var values = [Double](repeating: 0, count: state.chargers.count)
        var tierStart = 0
        while tierStart < admitted.count {
            var tierEnd = tierStart
            while tierEnd < admitted.count, admitted[tierEnd].priority == admitted[tierStart].priority { tierEnd += 1 }
            let tier = admitted[tierStart..<tierEnd]
            for candidate in tier {
                for position in facts[candidate.index].constraints {
                    floorUse[constraintList[position]] -= candidate.floor
                }
            }
            let room = (0..<capacity.count).map { capacity[$0] - finalUse[$0] - floorUse[$0] }
            let items = tier.map { candidate in
                WaterFilling.Item(
                    floor: candidate.floor,
                    ceiling: candidate.ceiling,
                    constraints: facts[candidate.index].constraints
                )
            }
            let filled = WaterFilling.fill(items, constraintList: constraintList, capacity: room)
            for (offset, candidate) in tier.enumerated() {
                let outcome = filled[offset]
                values[candidate.index] = outcome.value
                for position in facts[candidate.index].constraints {
                    finalUse[constraintList[position]] += outcome.value
                }
                record(outcome, for: candidate.index, capped: candidate.capped)
            }
            tierStart = tierEnd
        }

        // Stage 9: unbalance between phases.
        if let maxUnbalance = state.site.maxUnbalance {
            var reduced = false
            for _ in 0..<12 {
                var totals = building + reserved
                for candidate in admitted {
                    totals += facts[candidate.index].gridPhases.currents(values[candidate.index])
                }
                let light = GridPhase.allCases.min { totals[$0] < totals[$1] }!
                // Heaviest phase first; a phase whose excess no charger can reduce (building load
                // alone, or three-phase chargers only) is skipped for the next one.
                var changed = false
                for heavy in GridPhase.allCases.sorted(by: { totals[$0] > totals[$1] }) where heavy != light {
                    let excess = totals[heavy] - totals[light] - maxUnbalance
                    guard excess > 1e-6 else { continue }
                    let onHeavy = admitted.filter { candidate in
                        let phases = facts[candidate.index].gridPhases
                        return values[candidate.index] > 0 && phases.contains(heavy) && !phases.contains(light)
                    }
                    guard !onHeavy.isEmpty else { continue }
                    let level = Self.reductionLevel(onHeavy.map { values[$0.index] }, removing: excess)
                    for candidate in onHeavy where values[candidate.index] > level {
                        let index = candidate.index
                        if level + 1e-9 < candidate.floor {
                            values[index] = 0
                            results[index].reason = .insufficientSupply
                        } else {
                            values[index] = level
                            results[index].reason = .fairShare
                        }
                        results[index].source = .unbalance
                        results[index].phase = heavy
                        reduced = true
                        changed = true
                    }
                    break
                }
                guard changed else { break }
            }
            if reduced {
                topUpAllPhaseChargers(admitted: admitted.map { ($0.index, $0.ceiling, $0.priority) }, values: &values)
            }
        }

        // Stage 10 (first half): round down to 0.1 A, never below the minimum.
        for candidate in admitted {
            let index = candidate.index
            var value = values[index]
            if value > 0 {
                value = (value * 10 + 1e-6).rounded(.down) / 10
                value = max(value, candidate.floor)
            }
            results[index].current = value
        }
    }

    /// Stage 6 for one charger whose car may take current: follows what the car draws. A car
    /// drawing clearly less than offered for a while is held at its draw plus a margin; one that
    /// takes nothing at all is held at 0; both are probed back up later.
    /// - Returns: true when the car takes nothing and is held at 0 until its next probe.
    static func followDraw(
        _ fact: ChargerFacts,
        _ entry: inout ChargerMemory,
        now: Double,
        settings: AllocationSettings
    ) -> Bool {
        let draw = fact.draw
        detectPhases(fact, &entry, now: now, settings: settings)
        if let idleSince = entry.idleSince {
            let interval = min(settings.probeInterval * Double(1 << min(entry.probes, 16)), settings.maxProbeInterval)
            let due = idleSince + interval
            // Probes of idle cars start together, on a clock grid of their interval (30 and 60 min
            // with the defaults): in a full site each probe moves someone else's limit, once per
            // batch rather than once per car, and at most a few batches an hour.
            let slot = interval > 0 ? (now / interval).rounded(.down) * interval : now
            if now < due || slot < due {
                return true
            }
            // Probe: offer the car its minimum again to see whether it takes current.
            entry.idleSince = nil
            entry.probes += 1
            entry.probeUntil = now + settings.underdrawWindow
            entry.probeFromIdle = true
        }
        if entry.probeFromIdle == true {
            if draw >= fact.minCurrent - 1 {
                // The woken car takes its minimum: it wants current, and gets its full share now.
                entry.probeFromIdle = nil
                entry.probeUntil = nil
                entry.probes = 0
            } else if let until = entry.probeUntil, now >= until, draw < 1 {
                // Offered its minimum for a whole window and still taking nothing: back to 0.
                entry.probeFromIdle = nil
                entry.probeUntil = nil
                entry.idleSince = now
                return true
            }
        }
        if entry.running, entry.underdrawCap != nil, draw < 1 {
            // Held at its minimum and still taking nothing: give the current to others.
            entry.idleSince = now
            return true
        }
        if entry.running {
            if let cap = entry.underdrawCap {
                // The margin above its draw is the probe of a held car: one that wants more draws
                // up to its hold and is lifted at once. (A timed probe of its full share would move
                // everyone else's limit twice to learn what the margin shows anyway.)
                if draw >= cap - 1 {
                    entry.probes = 0
                    entry.underdrawCap = nil
                    entry.underdrawSince = nil
                } else if draw + settings.underdrawMargin < 0.5 * min(cap, fact.appliedLimit ?? cap) {
                    // A car that draws less and less (tapering as it fills up) is held ever
                    // lower: its hold follows its draw down in steps of at least 1 A.
                    let since = entry.underdrawSince ?? now
                    entry.underdrawSince = since
                    if now - since >= settings.underdrawWindow {
                        entry.underdrawCap = max(fact.minCurrent, draw + settings.underdrawMargin)
                        entry.underdrawSince = nil
                    }
                } else {
                    entry.underdrawSince = nil
                }
            } else {
                let offered = fact.appliedLimit ?? entry.lastCurrent
                if offered > 0, draw + settings.underdrawMargin < offered {
                    let since = entry.underdrawSince ?? now
                    entry.underdrawSince = since
                    if now - since >= settings.underdrawWindow {
                        entry.underdrawCap = max(fact.minCurrent, draw + settings.underdrawMargin)
                    }
                } else {
                    entry.underdrawSince = nil
                }
            }
        }
        if let until = entry.probeUntil, now >= until || entry.underdrawCap != nil {
            entry.probeUntil = nil
            entry.probeFromIdle = nil
        }
        return false
    }

    /// Learns which terminals the car uses: a one-phase car on a three-phase charger loads one
    /// grid phase only, and counting it on all three would waste two phases' headroom.
    /// A pattern must hold for `phaseDetectionTime` while the car clearly charges; current on a
    /// terminal outside the pattern ends it at once.
    static func detectPhases(
        _ charger: ChargerFacts,
        _ entry: inout ChargerMemory,
        now: Double,
        settings: AllocationSettings
    ) {
        let count = charger.terminalCount
        guard count > 1 else { return }
        var pattern: UInt8 = 0
        for terminal in 0..<count where charger.measured[terminal] >= 1 { pattern |= 1 << UInt8(terminal) }
        if let active = entry.activeTerminals, pattern & ~active != 0 {
            entry.activeTerminals = nil
        }
        let full: UInt8 = (1 << UInt8(count)) - 1
        guard charger.draw >= 4, pattern != full, pattern != 0 else {
            entry.phaseCandidate = nil
            entry.phaseCandidateSince = nil
            return
        }
        if entry.phaseCandidate != pattern {
            entry.phaseCandidate = pattern
            entry.phaseCandidateSince = now
        } else if let since = entry.phaseCandidateSince, now - since >= settings.phaseDetectionTime {
            entry.activeTerminals = pattern
        }
    }

    /// Writes the reason and source for a water-filled charger.
    mutating func record(_ outcome: WaterFilling.Result, for index: Int, capped: Bool) {
        switch outcome.bound {
        case .ceiling:
            if capped {
                results[index].reason = .vehicleDrawsLess
                results[index].source = .vehicle
            } else {
                results[index].reason = .maximum
                results[index].source = .charger
            }
            results[index].phase = nil
        case .constraint(let constraint):
            let (source, phase) = constraintSources[constraint]
            results[index].reason = .fairShare
            results[index].source = source
            results[index].phase = phase
        }
    }

    /// After unbalance reductions, three-phase (and unknown-rotation) chargers may take what the
    /// reductions freed: they load every phase alike, so they do not change the unbalance.
    mutating func topUpAllPhaseChargers(
        admitted: [(index: Int, ceiling: Double, priority: Int)],
        values: inout [Double]
    ) {
        let risers = admitted.filter { entry in
            facts[entry.index].gridPhases.count == 3 && values[entry.index] > 0
                && values[entry.index] < entry.ceiling - 1e-9
        }
        guard !risers.isEmpty else { return }
        var use = [Double](repeating: 0, count: capacity.count)
        for entry in admitted {
            for position in facts[entry.index].constraints { use[constraintList[position]] += values[entry.index] }
        }
        var priorities = [Int]()
        for riser in risers where !priorities.contains(riser.priority) { priorities.append(riser.priority) }
        priorities.sort(by: >)
        var previousPriority: Int?
        for priority in priorities where priority != previousPriority {
            previousPriority = priority
            let tier = risers.filter { $0.priority == priority }
            for entry in tier {
                for position in facts[entry.index].constraints { use[constraintList[position]] -= values[entry.index] }
            }
            let room = (0..<capacity.count).map { capacity[$0] - use[$0] }
            let items = tier.map { entry in
                WaterFilling.Item(
                    floor: values[entry.index],
                    ceiling: entry.ceiling,
                    constraints: facts[entry.index].constraints
                )
            }
            let filled = WaterFilling.fill(items, constraintList: constraintList, capacity: room)
            for (offset, entry) in tier.enumerated() {
                let value = max(values[entry.index], filled[offset].value)
                if value > values[entry.index] + 1e-9 { record(filled[offset], for: entry.index, capped: false) }
                values[entry.index] = value
                for position in facts[entry.index].constraints { use[constraintList[position]] += value }
            }
        }
    }

    /// The level λ such that cutting every value down to λ removes `excess` in total
    /// (0 when even cutting all to zero is not enough).
    static func reductionLevel(_ values: [Double], removing excess: Double) -> Double {
        let sorted = values.sorted(by: >)
        var removed = 0.0
        for (offset, value) in sorted.enumerated() {
            let next = offset + 1 < sorted.count ? sorted[offset + 1] : 0
            let step = (value - next) * Double(offset + 1)
            if removed + step >= excess {
                return value - (excess - removed) / Double(offset + 1)
            }
            removed += step
        }
        return 0
    }
}
