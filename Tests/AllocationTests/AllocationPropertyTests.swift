import Allocation
import PropertyBased
import Testing

/// Properties that must hold for every site and state, checked on random ones. A failure
/// reports the seed; `randomState(seed:)` rebuilds the case.
@Suite struct AllocationPropertyTests {
    static let seeds = Gen.int(in: 0...Int(Int32.max))
    let tolerance = 1e-6

    @Test func noPhaseIsAllocatedAboveWhatIsAvailable() async {
        await propertyCheck(count: 400, input: Self.seeds) { seed in
            let state = randomState(seed: seed)
            let allocation = allocate(state)
            let allocated = load(of: allocation)
            for phase in GridPhase.allCases {
                let available = max(
                    0,
                    allocation.effectiveLimit[phase.rawValue].current - allocation.buildingLoad[phase]
                        - state.site.margin
                )
                #expect(allocated[phase] <= allocation.chargingBudget[phase] + tolerance, "seed \(seed) \(phase)")
                #expect(allocated[phase] <= available + tolerance, "seed \(seed) \(phase)")
            }
            for circuit in state.site.circuits {
                var onCircuit = PhaseCurrents.zero
                for (index, charger) in allocation.chargers.enumerated()
                where state.chargers[index].charger.circuit == circuit.id {
                    onCircuit += charger.gridPhases.currents(charger.current)
                }
                for phase in GridPhase.allCases {
                    #expect(onCircuit[phase] <= circuit.limit[phase] + tolerance, "seed \(seed) circuit \(phase)")
                }
            }
        }
    }

    @Test func everyChargerGetsZeroOrBetweenItsMinimumAndMaximum() async {
        await propertyCheck(count: 400, input: Self.seeds) { seed in
            let state = randomState(seed: seed)
            let allocation = allocate(state)
            for (index, charger) in allocation.chargers.enumerated() {
                let model = state.chargers[index].charger
                #expect(
                    charger.current == 0
                        || (charger.current >= model.minCurrent - tolerance
                            && charger.current <= model.maxCurrent + tolerance),
                    "seed \(seed): \(charger.id) got \(charger.current) A, min \(model.minCurrent), max \(model.maxCurrent)"
                )
                if charger.current == 0 {
                    #expect(charger.reason.isPause || charger.reason == .vehicleDrawsLess, "seed \(seed)")
                }
            }
        }
    }

    @Test func allocationIsDeterministic() async {
        await propertyCheck(count: 200, input: Self.seeds) { seed in
            let state = randomState(seed: seed)
            #expect(allocate(state) == allocate(state), "seed \(seed)")
            #expect(allocate(randomState(seed: seed)) == allocate(state), "seed \(seed)")
        }
    }

    /// While the same chargers run, a lower limit never raises what any phase carries.
    /// (When it pauses a charger, what that charger freed on other phases or circuits may go to
    /// others; and per charger, max-min fairness over several constraints is not monotone: a
    /// three-phase charger frozen earlier by the lowered phase may leave a one-phase charger on
    /// another phase a little more. Safety does not depend on either: every allocation stays
    /// within the budget of the limits it was given, checked above.)
    @Test func aLowerLimitNeverRaisesAPhaseWhileTheSameChargersRun() async {
        await propertyCheck(count: 600, input: Self.seeds, Gen.double(in: 0.05...0.9)) { seed, cut in
            var state = randomState(seed: seed)
            state.site.maxUnbalance = nil
            let (before, after) = Self.beforeAndAfter(state, cut: cut)
            let loadBefore = load(of: before)
            let loadAfter = load(of: after)
            if before.chargers.map({ $0.current > 0 }) == after.chargers.map({ $0.current > 0 }) {
                for phase in GridPhase.allCases {
                    // Currents are rounded down to 0.1 A each: a phase total is exact to less than
                    // 0.1 A per running charger on it, so only the unrounded total cannot rise.
                    let running = before.chargers.filter { $0.current > 0 && $0.gridPhases.contains(phase) }.count
                    let rounding = 0.1 * Double(running)
                    #expect(
                        loadAfter[phase] <= loadBefore[phase] + rounding + tolerance,
                        "seed \(seed) cut \(cut) \(phase)"
                    )
                }
            }
        }
    }

    @Test func theUnbalanceLimitHoldsWheneverChargersCanMakeItHold() async {
        await propertyCheck(count: 600, input: Self.seeds) { seed in
            var state = randomState(seed: seed)
            state.site.maxUnbalance = 20
            let allocation = allocate(state)
            let totals = allocation.buildingLoad + load(of: allocation)
            let building = allocation.buildingLoad
            // Only where the building alone stays within the limit can the chargers be held to it.
            if building.maximum - building.minimum <= 20,
                !state.chargers.contains(where: { $0.charger.rotation == .unknown })
            {
                #expect(totals.maximum - totals.minimum <= 20 + 1e-6, "seed \(seed): \(totals)")
            }
        }
    }

    /// Where all chargers share the same constraints (three-phase, no circuits, no unbalance
    /// limit), a lower limit never raises anyone while the same chargers run.
    @Test func aLowerLimitNeverRaisesAnyoneWhoSharesItsConstraints() async {
        await propertyCheck(count: 400, input: Self.seeds, Gen.double(in: 0.05...0.9)) { seed, cut in
            var state = randomState(seed: seed)
            state.site.circuits = []
            state.site.maxUnbalance = nil
            for index in state.chargers.indices {
                state.chargers[index].charger.phases = 3
                state.chargers[index].charger.rotation = .l1l2l3
                state.chargers[index].charger.circuit = nil
                let draw = state.chargers[index].measured.l1
                state.chargers[index].measured = PhaseCurrents(all: draw)
            }
            let (before, after) = Self.beforeAndAfter(state, cut: cut)
            let runningBefore = before.chargers.map { $0.current > 0 }
            let runningAfter = after.chargers.map { $0.current > 0 }
            if runningBefore == runningAfter {
                for (old, new) in zip(before.chargers, after.chargers) {
                    #expect(new.current <= old.current + tolerance, "seed \(seed) cut \(cut) \(new.id)")
                }
            }
        }
    }

    /// The allocation for `state`, and for the same state with its lowest limit cut by `cut`.
    static func beforeAndAfter(_ state: SiteState, cut: Double) -> (Allocation, Allocation) {
        let before = allocate(state)
        var lowered = state
        let limit = before.effectiveLimit.map(\.current).min()! * (1 - cut)
        lowered.limits.apiCommands.append(APICommand(id: "zz-lower", maxCurrent: PhaseCurrents(all: limit)))
        return (before, allocate(lowered))
    }

    @Test func neverPausesEveryoneWhenOneMinimumFits() async {
        await propertyCheck(count: 400, input: Self.seeds) { seed in
            var state = randomState(seed: seed)
            state.site.maxUnbalance = nil
            let allocation = allocate(state)
            let budget = allocation.chargingBudget
            let oneFits = state.chargers.contains { charger in
                charger.status.hasVehicle && charger.charger.circuit == nil
                    && charger.charger.gridPhases.phases.allSatisfy { budget[$0] >= charger.charger.minCurrent }
            }
            if oneFits {
                #expect(allocation.chargers.contains { $0.current > 0 }, "seed \(seed)")
            }
        }
    }
}
