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

/// Per-charger facts gathered once: what the stages after stage 6 read for every charger, kept
/// small (stage 6 reads the rest from the charger's state).
private struct ChargerFacts {
    var gridPhases: PhaseSet
    /// Where the indices of the constraints the charger counts on lie in `AllocatorRun.constraintList`:
    /// site phases, then each ancestor circuit's phases. Chargers on the same phases and circuit
    /// share one list.
    var constraints: Range<Int>
    var draw: Double
    var offline: Bool
    var wantsCurrent: Bool
    // Copied from the charger's state once, so that later stages read plain values.
    var minCurrent: Double
    var maxCurrent: Double
    /// The charger's circuit (index into `Site.circuits`); nil: directly under the main fuse.
    var circuit: Int?
}

/// What a charger's car does now, as stage 6 reads it.
private struct CarReading {
    var draw: Double
    var measured: PhaseCurrents
    var terminalCount: Int
    var appliedLimit: Double?
    var minCurrent: Double
}

/// What bound a charger, as a plain value while the stages run (a `LimitSource` holds a string,
/// which every copy would retain); turned into a source and phase once, at the end.
private enum Binding {
    case none
    /// The constraint with this index (its source and phase are in `AllocatorRun.constraintSources`).
    case constraint(Int)
    case unbalance(GridPhase)
    case charger
    case vehicle
}

/// One charger's share while the stages run; a ``ChargerAllocation`` at the end.
private struct Outcome {
    var current: Double = 0
    var reason: AllocationReason
    var binding: Binding = .none
    var probing = false
}

private struct AllocatorRun {
    let state: SiteState
    let settings: AllocationSettings
    /// Each charger's memory, by its index in `state.chargers` (looked up once per call).
    /// A charger without memory has `hasEntry[index] == false` and a fresh entry in its slot
    /// (entries are large values: they are updated in place, not copied out and back).
    var entries: [ChargerMemory] = []
    var hasEntry: [Bool] = []
    var outcomes: [Outcome] = []
    var facts: [ChargerFacts] = []
    /// The constraint indices of every combination of grid phases and circuit that a charger has,
    /// one list after the other (see `ChargerFacts.constraints`).
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
            var outcomes = [Outcome]()
            var constraintList = [Int]()
            var capacity = self.capacity
            outcomes.reserveCapacity(state.chargers.count)
            facts.reserveCapacity(state.chargers.count)
            // The list of (circuit, grid phases) at `8 * (circuit + 1) + phases` (circuit −1: none), once
            // a charger has it. Sites have far fewer such combinations than chargers: each list is
            // built once.
            var sharedLists = [Range<Int>?](repeating: nil, count: 8 * (site.circuits.count + 1))
            var entries = self.entries
            var hasEntry = self.hasEntry
            self.entries = []
            self.hasEntry = []
            let circuits = site.circuits
            let circuitNumbers = circuitIndex
            let parents = circuitParent
            let chargers = state.chargers
            for index in chargers.indices {
                // Fields are read in place: copying a charger's state would retain its strings.
                let rotation = chargers[index].charger.rotation
                let terminalCount = chargers[index].charger.terminalCount
                let measured = chargers[index].measured
                // (`ChargerState.draw`, from the fields read above: calling it copied the charger's state.)
                var draw = 0.0
                for terminal in 0..<terminalCount { draw = max(draw, measured[terminal]) }
                let minCurrent = chargers[index].charger.minCurrent
                let maxCurrent = chargers[index].charger.maxCurrent
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
                let leafCircuit = chargers[index].charger.circuit.flatMap {
                    Self.circuitNumber($0, in: circuits, index: circuitNumbers)
                }
                let shared = 8 * ((leafCircuit ?? -1) + 1) + Int(gridPhases.rawValue)
                let constraints: Range<Int>
                if let list = sharedLists[shared] {
                    constraints = list
                } else {
                    let firstConstraint = constraintList.count
                    for phase in 0..<3 where gridPhases.rawValue & (1 << UInt8(phase)) != 0 {
                        constraintList.append(phase)
                    }
                    let direct = constraintList.count - firstConstraint
                    var circuit = leafCircuit
                    var hops = 0
                    while let current = circuit, hops <= site.circuits.count {
                        for offset in 0..<direct {
                            constraintList.append(3 + 3 * current + constraintList[firstConstraint + offset])
                        }
                        circuit = parents[current]
                        hops += 1
                    }
                    constraints = firstConstraint..<constraintList.count
                    sharedLists[shared] = constraints
                }
                var offline = !chargers[index].connected
                if let last = chargers[index].lastReport, now - last > settings.chargerSilentAfter { offline = true }
                let wants = chargers[index].status.hasVehicle && !offline
                facts.append(
                    ChargerFacts(
                        gridPhases: gridPhases,
                        constraints: constraints,
                        draw: draw,
                        offline: offline,
                        wantsCurrent: wants,
                        minCurrent: minCurrent,
                        maxCurrent: maxCurrent,
                        circuit: leafCircuit
                    )
                )
                outcomes.append(Outcome(reason: .noVehicle))
                if offline {
                    hasEntry[index] = true
                    let since = entries[index].offlineSince ?? now
                    entries[index].offlineSince = since
                    let hold: Double
                    if now - since < settings.offlineReserveTime {
                        hold = entries[index].lastCurrent
                        outcomes[index].reason = .offlineReserved
                    } else {
                        hold = maxCurrent
                        outcomes[index].reason = .offlineAssumedMaximum
                    }
                    outcomes[index].current = hold
                    // Its last measured draw (not more than the reservation) leaves the building load;
                    // whatever it draws now stays in the grid reading, so the reservation covers it.
                    let holding = gridPhases.currents(hold)
                    reserved += holding
                    subtracted += PhaseCurrents.combine(
                        Self.accountedDraw(chargers[index], now: now, settings: settings),
                        holding,
                        min
                    )
                    for position in constraints where constraintList[position] >= 3 {
                        capacity[constraintList[position]] -= hold
                    }
                } else if wants {
                    subtracted += Self.accountedDraw(chargers[index], now: now, settings: settings)
                }
            }
            self.facts = facts
            self.outcomes = outcomes
            // Every constraint index is checked once here: the loops over (charger, constraint) pairs
            // read them without checks.
            precondition(constraintList.allSatisfy { capacity.indices.contains($0) })
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

        // Stage 10: the results, and memory for the next call; sessions that ended are forgotten.
        var allocated = PhaseCurrents.zero
        // (Entries are updated in place: a charger's memory is a large value.)
        for index in outcomes.indices {
            let current = outcomes[index].current
            allocated += facts[index].gridPhases.currents(current)
            if facts[index].offline { continue }
            guard facts[index].wantsCurrent else {
                hasEntry[index] = false
                continue
            }
            hasEntry[index] = true
            Self.remember(current: current, now: now, in: &entries[index])
        }
        let constraintSources = constraintSources
        let results = outcomes.indices.map { index in
            let (source, phase) = Self.limitSource(outcomes[index].binding, constraintSources: constraintSources)
            return ChargerAllocation(
                id: chargerIDs[index],
                current: outcomes[index].current,
                reason: outcomes[index].reason,
                source: source,
                phase: phase,
                gridPhases: facts[index].gridPhases,
                minCurrent: facts[index].minCurrent,
                draw: facts[index].draw,
                offline: facts[index].offline,
                probing: outcomes[index].probing,
                circuit: facts[index].circuit
            )
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

    /// The source and phase a charger's result names for what bound it.
    static func limitSource(
        _ binding: Binding,
        constraintSources: [(LimitSource, GridPhase)]
    ) -> (LimitSource?, GridPhase?) {
        switch binding {
        case .none: (nil, nil)
        case .constraint(let constraint): constraintSources[constraint]
        case .unbalance(let phase): (.unbalance, phase)
        case .charger: (.charger, nil)
        case .vehicle: (.vehicle, nil)
        }
    }

    /// Stage 10 for one charger that may take current: whether it runs, since when, and its current.
    @inline(__always)  // (called once per charger: inlined, it updates the entry in place instead of copying it)
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
    @inline(__always)
    static func accountedDraw(_ charger: borrowing ChargerState, now: Double, settings: AllocationSettings)
        -> PhaseCurrents
    {
        var terminals = charger.measured
        if let limit = charger.appliedLimit, let since = charger.appliedSince, now - since >= settings.followGrace {
            terminals = terminals.map { min($0, limit + settings.followTolerance) }
        }
        let count = charger.charger.terminalCount
        for terminal in count..<3 { terminals[terminal] = 0 }
        return charger.charger.rotation.toGrid(terminals, terminalCount: count)
    }

    /// Stages 6 to 9 for the chargers whose car may take current.
    ///
    /// The loops over chargers and over (charger, constraint) pairs read and write through spans
    /// of local arrays: writing into this value's own arrays would check their uniqueness at every
    /// write, which cost more than the arithmetic. The pair loops read and write unchecked: every
    /// position in a charger's range lies in `constraintList`, and every index there lies in
    /// `capacity` (checked once, when the lists are built), the size of every per-constraint array.
    mutating func shareAmongCandidates(building: PhaseCurrents, reserved: PhaseCurrents, failSafe: Bool) {
        let now = state.now
        let chargers = state.chargers
        let facts = self.facts
        let constraintList = self.constraintList
        let capacity = self.capacity
        var entries = [ChargerMemory]()
        var hasEntry = [Bool]()
        var outcomes = [Outcome]()
        swap(&entries, &self.entries)
        swap(&hasEntry, &self.hasEntry)
        swap(&outcomes, &self.outcomes)
        defer {
            self.entries = entries
            self.hasEntry = hasEntry
            self.outcomes = outcomes
        }

        var candidates = [Candidate]()
        candidates.reserveCapacity(state.chargers.count)

        // Stage 6: under-drawing cars.
        do {
            var entries = entries.mutableSpan
            var hasEntry = hasEntry.mutableSpan
            var outcomes = outcomes.mutableSpan
            for index in facts.indices where facts[index].wantsCurrent {
                hasEntry[index] = true
                let car = CarReading(
                    draw: facts[index].draw,
                    measured: chargers[index].measured,
                    terminalCount: chargers[index].charger.terminalCount,
                    appliedLimit: chargers[index].appliedLimit,
                    minCurrent: facts[index].minCurrent
                )
                if Self.followDraw(car, &entries[index], now: now, settings: settings) {
                    // It takes nothing: held at 0 until its next probe.
                    outcomes[index].reason = .vehicleDrawsLess
                    outcomes[index].binding = .vehicle
                    continue
                }
                outcomes[index].probing = entries[index].probeUntil != nil
                let running = entries[index].running
                let hasRun = entries[index].hasRun
                let since = entries[index].since
                let underdrawCap = entries[index].underdrawCap

                // Stage 7 (first half): each session's place in the turn order.
                let pausedRecently = hasRun && !running && now - since < settings.minimumPauseTime
                if pausedRecently {
                    outcomes[index].reason = .pauseDwell
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
                let minCurrent = facts[index].minCurrent
                let maxCurrent = facts[index].maxCurrent
                let wokenFromIdle = entries[index].probeFromIdle == true
                var ceiling = min(maxCurrent, underdrawCap ?? .infinity)
                if wokenFromIdle { ceiling = minCurrent }
                candidates.append(
                    Candidate(
                        index: index,
                        floor: minCurrent,
                        ceiling: max(minCurrent, ceiling),
                        capped: wokenFromIdle || (underdrawCap.map { $0 < maxCurrent } ?? false),
                        priority: chargers[index].charger.priority,
                        turnClass: turnClass,
                        energy: chargers[index].sessionEnergy
                    )
                )
            }
        }

        // Stage 7 (second half): admit minimums in turn order while they fit.
        candidates = Self.turnOrder(candidates)
        var floorUse = [Double](repeating: 0, count: capacity.count)
        var admitted = [Candidate]()
        admitted.reserveCapacity(candidates.count)
        do {
            let facts = facts.span
            let constraintList = constraintList.span
            let capacity = capacity.span
            var floorUse = floorUse.mutableSpan
            var outcomes = outcomes.mutableSpan
            let tolerance = 1e-9
            for candidate in candidates {
                let constraints = facts[candidate.index].constraints
                var blockingConstraint: Int?
                for position in constraints {
                    let constraint = constraintList[unchecked: position]
                    if floorUse[unchecked: constraint] + candidate.floor > capacity[unchecked: constraint] + tolerance {
                        blockingConstraint = constraint
                        break
                    }
                }
                if let blocking = blockingConstraint {
                    if failSafe {
                        outcomes[candidate.index].reason = .failSafe
                    } else if candidate.floor > capacity[blocking] + tolerance {
                        outcomes[candidate.index].reason = .insufficientSupply
                    } else {
                        outcomes[candidate.index].reason = .waitingForTurn
                    }
                    outcomes[candidate.index].binding = .constraint(blocking)
                    continue
                }
                for position in constraints {
                    floorUse[unchecked: constraintList[unchecked: position]] += candidate.floor
                }
                admitted.append(candidate)
            }
        }

        // Stage 8: water-fill tier by tier; lower tiers keep their admitted minimum.
        var finalUse = [Double](repeating: 0, count: capacity.count)
        var values = [Double](repeating: 0, count: state.chargers.count)
        var tierStart = 0
        while tierStart < admitted.count {
            var tierEnd = tierStart
            while tierEnd < admitted.count, admitted[tierEnd].priority == admitted[tierStart].priority { tierEnd += 1 }
            let tier = admitted[tierStart..<tierEnd]
            var items = [WaterFilling.Item]()
            items.reserveCapacity(tier.count)
            var room = [Double](repeating: 0, count: capacity.count)
            do {
                let facts = facts.span
                let constraintList = constraintList.span
                let capacity = capacity.span
                let finalUse = finalUse.span
                var floorUse = floorUse.mutableSpan
                var room = room.mutableSpan
                for candidate in tier {
                    let constraints = facts[candidate.index].constraints
                    for position in constraints {
                        floorUse[unchecked: constraintList[unchecked: position]] -= candidate.floor
                    }
                    items.append(
                        WaterFilling.Item(floor: candidate.floor, ceiling: candidate.ceiling, constraints: constraints)
                    )
                }
                for constraint in room.indices {
                    room[constraint] = capacity[constraint] - finalUse[constraint] - floorUse[constraint]
                }
            }
            let filled = WaterFilling.fill(items, constraintList: constraintList, capacity: room)
            do {
                let facts = facts.span
                let constraintList = constraintList.span
                var finalUse = finalUse.mutableSpan
                var values = values.mutableSpan
                var outcomes = outcomes.mutableSpan
                for (offset, candidate) in tier.enumerated() {
                    let result = filled[offset]
                    values[candidate.index] = result.value
                    for position in facts[candidate.index].constraints {
                        finalUse[unchecked: constraintList[unchecked: position]] += result.value
                    }
                    Self.record(result, capped: candidate.capped, in: &outcomes[candidate.index])
                }
            }
            tierStart = tierEnd
        }

        // Stage 9: unbalance between phases.
        if let maxUnbalance = state.site.maxUnbalance {
            var reduced = false
            for _ in 0..<12 {
                var totals = building + reserved
                for candidate in admitted {
                    // (What `gridPhases.currents(value)` adds, without building the value.)
                    let phases = facts[candidate.index].gridPhases.rawValue
                    let value = values[candidate.index]
                    totals.l1 += phases & 1 != 0 ? value : 0
                    totals.l2 += phases & 2 != 0 ? value : 0
                    totals.l3 += phases & 4 != 0 ? value : 0
                }
                let light = GridPhase.allCases.min { totals[$0] < totals[$1] }!
                // Heaviest phase first; a phase whose excess no charger can reduce (building load
                // alone, or three-phase chargers only) is skipped for the next one.
                var changed = false
                for heavy in GridPhase.allCases.sorted(by: { totals[$0] > totals[$1] }) where heavy != light {
                    let excess = totals[heavy] - totals[light] - maxUnbalance
                    guard excess > 1e-6 else { continue }
                    var onHeavy = [(index: Int, floor: Double)]()
                    onHeavy.reserveCapacity(admitted.count)
                    for candidate in admitted {
                        let phases = facts[candidate.index].gridPhases
                        if values[candidate.index] > 0 && phases.contains(heavy) && !phases.contains(light) {
                            onHeavy.append((candidate.index, candidate.floor))
                        }
                    }
                    guard !onHeavy.isEmpty else { continue }
                    let level = Self.reductionLevel(onHeavy.map { values[$0.index] }, removing: excess)
                    for (index, floor) in onHeavy where values[index] > level {
                        if level + 1e-9 < floor {
                            values[index] = 0
                            outcomes[index].reason = .insufficientSupply
                        } else {
                            values[index] = level
                            outcomes[index].reason = .fairShare
                        }
                        outcomes[index].binding = .unbalance(heavy)
                        reduced = true
                        changed = true
                    }
                    break
                }
                guard changed else { break }
            }
            if reduced {
                Self.topUpAllPhaseChargers(
                    admitted: admitted,
                    values: &values,
                    outcomes: &outcomes,
                    facts: facts,
                    constraintList: constraintList,
                    capacity: capacity
                )
            }
        }

        // Stage 10 (first half): round down to 0.1 A, never below the minimum.
        do {
            var outcomes = outcomes.mutableSpan
            for candidate in admitted {
                let index = candidate.index
                var value = values[index]
                if value > 0 {
                    value = (value * 10 + 1e-6).rounded(.down) / 10
                    value = max(value, candidate.floor)
                }
                outcomes[index].current = value
            }
        }
    }

    /// A charger that may start: its minimum (floor), what it may take at most (ceiling) and its
    /// place in the turn order.
    struct Candidate {
        var index: Int
        var floor: Double
        var ceiling: Double
        var capped: Bool
        var priority: Int
        var turnClass: Int
        var energy: Double
    }

    /// Stage 7: candidates in turn order: priority (highest first), turn class, energy, position.
    /// Priorities are few tiers: ordered by energy in linear time, then grouped by (priority tier,
    /// turn class).
    static func turnOrder(_ candidates: [Candidate]) -> [Candidate] {
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
            return order.map { candidates[$0] }
        }
        // Few candidates, many tiers or an energy that is not a number: compact keys (~priority
        // reverses the order without overflow); the position makes the order total.
        var order = [(Int, Int, Double, Int)]()
        order.reserveCapacity(candidates.count)
        for (position, candidate) in candidates.enumerated() {
            order.append((~candidate.priority, candidate.turnClass, candidate.energy, position))
        }
        order.sort { $0 < $1 }
        return order.map { candidates[$0.3] }
    }

    /// Stage 6 for one charger whose car may take current: follows what the car draws. A car
    /// drawing clearly less than offered for a while is held at its draw plus a margin; one that
    /// takes nothing at all is held at 0; both are probed back up later.
    /// - Returns: true when the car takes nothing and is held at 0 until its next probe.
    @inline(__always)  // (called once per charger: inlined, it updates the entry in place instead of copying it)
    static func followDraw(
        _ fact: CarReading,
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
    @inline(__always)
    static func detectPhases(
        _ charger: CarReading,
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

    /// Writes the reason and what bound a water-filled charger.
    static func record(_ result: WaterFilling.Result, capped: Bool, in outcome: inout Outcome) {
        switch result.bound {
        case .ceiling:
            outcome.reason = capped ? .vehicleDrawsLess : .maximum
            outcome.binding = capped ? .vehicle : .charger
        case .constraint(let constraint):
            outcome.reason = .fairShare
            outcome.binding = .constraint(constraint)
        }
    }

    /// After unbalance reductions, three-phase (and unknown-rotation) chargers may take what the
    /// reductions freed: they load every phase alike, so they do not change the unbalance.
    static func topUpAllPhaseChargers(
        admitted: [Candidate],
        values: inout [Double],
        outcomes: inout [Outcome],
        facts: [ChargerFacts],
        constraintList: [Int],
        capacity: [Double]
    ) {
        // The positions in `admitted` of the chargers that may rise.
        var risers = [Int]()
        risers.reserveCapacity(admitted.count)
        for (position, candidate) in admitted.enumerated()
        where facts[candidate.index].gridPhases.count == 3 && values[candidate.index] > 0
            && values[candidate.index] < candidate.ceiling - 1e-9
        {
            risers.append(position)
        }
        guard !risers.isEmpty else { return }
        var use = [Double](repeating: 0, count: capacity.count)
        do {
            let facts = facts.span
            let constraintList = constraintList.span
            let values = values.span
            var use = use.mutableSpan
            for candidate in admitted {
                let value = values[candidate.index]
                for position in facts[candidate.index].constraints {
                    use[unchecked: constraintList[unchecked: position]] += value
                }
            }
        }
        // Tier by tier, highest priority first: chargers are admitted in priority order, so each
        // tier's risers follow each other.
        assert(zip(admitted, admitted.dropFirst()).allSatisfy { $0.priority >= $1.priority })
        var tierStart = 0
        while tierStart < risers.count {
            var tierEnd = tierStart
            let priority = admitted[risers[tierStart]].priority
            while tierEnd < risers.count, admitted[risers[tierEnd]].priority == priority { tierEnd += 1 }
            let tier = risers[tierStart..<tierEnd].map { admitted[$0] }
            tierStart = tierEnd
            var items = [WaterFilling.Item]()
            items.reserveCapacity(tier.count)
            var room = [Double](repeating: 0, count: capacity.count)
            do {
                let facts = facts.span
                let constraintList = constraintList.span
                let capacity = capacity.span
                let values = values.span
                var use = use.mutableSpan
                var room = room.mutableSpan
                for candidate in tier {
                    let value = values[candidate.index]
                    let constraints = facts[candidate.index].constraints
                    for position in constraints { use[unchecked: constraintList[unchecked: position]] -= value }
                    items.append(WaterFilling.Item(floor: value, ceiling: candidate.ceiling, constraints: constraints))
                }
                for constraint in room.indices { room[constraint] = capacity[constraint] - use[constraint] }
            }
            let filled = WaterFilling.fill(items, constraintList: constraintList, capacity: room)
            do {
                let facts = facts.span
                let constraintList = constraintList.span
                var values = values.mutableSpan
                var use = use.mutableSpan
                var outcomes = outcomes.mutableSpan
                for (offset, candidate) in tier.enumerated() {
                    let index = candidate.index
                    let value = max(values[index], filled[offset].value)
                    if value > values[index] + 1e-9 { Self.record(filled[offset], capped: false, in: &outcomes[index]) }
                    values[index] = value
                    for position in facts[index].constraints {
                        use[unchecked: constraintList[unchecked: position]] += value
                    }
                }
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
