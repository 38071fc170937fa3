import Allocation

/// A small deterministic random generator, so a failing random case is reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: Int) {
        state = UInt64(bitPattern: Int64(seed))
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A charger with a car plugged in, drawing `draw` on each of its terminals.
func plugged(_ charger: Charger, draw: Double = 0, energy: Double = 0, now: Double = 0) -> ChargerState {
    ChargerState(
        charger: charger,
        status: .charging,
        measured: PhaseCurrents(
            l1: draw,
            l2: charger.phases >= 2 ? draw : 0,
            l3: charger.phases >= 3 ? draw : 0
        ),
        sessionEnergy: energy,
        lastReport: now
    )
}

/// A site state at `now` whose grid reading is the building load plus what the chargers draw.
func siteState(
    now: Double = 0,
    site: Site,
    settings: AllocationSettings = AllocationSettings(),
    chargers: [ChargerState],
    building: PhaseCurrents,
    limits: LimitInputs = LimitInputs(),
    memory: AllocationMemory = AllocationMemory()
) -> SiteState {
    var grid = building
    for state in chargers {
        grid += state.charger.rotation.toGrid(state.measured, terminalCount: state.charger.phases)
    }
    return SiteState(
        now: now,
        site: site,
        settings: settings,
        chargers: chargers,
        grid: GridReading(currents: grid, time: now),
        limits: limits,
        memory: memory
    )
}

/// What an allocation puts on each grid phase for the online chargers.
func load(of allocation: Allocation) -> PhaseCurrents {
    var total = PhaseCurrents.zero
    for charger in allocation.chargers where !charger.offline {
        total += charger.gridPhases.currents(charger.current)
    }
    return total
}

/// A random site with random chargers and cars, for property tests.
func randomState(seed: Int) -> SiteState {
    var random = SplitMix64(seed: seed)
    let fuse = Double(Int.random(in: 16...400, using: &random))
    let site = Site(
        fuse: PhaseCurrents(
            l1: fuse,
            l2: fuse - Double(Int.random(in: 0...10, using: &random)),
            l3: fuse
        ),
        margin: Double(Int.random(in: 0...5, using: &random)),
        maxUnbalance: Bool.random(using: &random) ? Double(Int.random(in: 10...32, using: &random)) : nil,
        circuits: Bool.random(using: &random)
            ? [Circuit(id: "feeder", limit: PhaseCurrents(all: Double(Int.random(in: 10...120, using: &random))))]
            : []
    )
    let count = Int.random(in: 1...24, using: &random)
    var chargers = [ChargerState]()
    for index in 0..<count {
        let phases = [1, 1, 2, 3, 3, 3].randomElement(using: &random)!
        let minimum = [6.0, 6, 6, 7, 8].randomElement(using: &random)!
        let charger = Charger(
            id: "c\(index)",
            phases: phases,
            rotation: PhaseRotation.allCases.randomElement(using: &random)!,
            minCurrent: minimum,
            maxCurrent: minimum + Double(Int.random(in: 0...26, using: &random)),
            priority: Int.random(in: 0...3, using: &random) == 0 ? 1 : 0,
            circuit: site.circuits.isEmpty || Bool.random(using: &random) ? nil : "feeder"
        )
        var state = plugged(
            charger,
            draw: Double(Int.random(in: 0...Int(charger.maxCurrent), using: &random)),
            energy: Double(Int.random(in: 0...30_000, using: &random))
        )
        if Int.random(in: 0...5, using: &random) == 0 { state.status = .available }
        chargers.append(state)
    }
    let building = PhaseCurrents(
        l1: Double(Int.random(in: 0...Int(fuse), using: &random)),
        l2: Double(Int.random(in: 0...Int(fuse), using: &random)),
        l3: Double(Int.random(in: 0...Int(fuse), using: &random))
    )
    var limits = LimitInputs()
    if Bool.random(using: &random) {
        limits.rippleControl = PhaseCurrents(all: fuse * Double(Int.random(in: 30...100, using: &random)) / 100)
    }
    if Bool.random(using: &random) {
        limits.apiCommands = [
            APICommand(id: "dso", maxCurrent: PhaseCurrents(all: Double(Int.random(in: 10...400, using: &random))))
        ]
    }
    return siteState(site: site, chargers: chargers, building: building, limits: limits)
}

/// Moves `state` to `time`: a fresh grid reading (same currents) and fresh charger reports.
func advance(_ state: inout SiteState, to time: Double) {
    state.now = time
    state.grid?.time = time
    for index in state.chargers.indices { state.chargers[index].lastReport = time }
}
