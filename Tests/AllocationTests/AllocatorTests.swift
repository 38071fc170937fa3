import Allocation
import Testing

@Suite struct AllocatorTests {
    let threePhase = Charger(id: "a", phases: 3, maxCurrent: 32)

    @Test func aLoneChargerGetsItsMaximumWhenThereIsRoom() {
        let state = siteState(site: Site(fuseCurrent: 63), chargers: [plugged(threePhase)], building: .zero)
        let allocation = allocate(state)
        #expect(allocation["a"]?.current == 32)
        #expect(allocation["a"]?.reason == .maximum)
        #expect(allocation.measurement == .fresh)
        #expect(!allocation.freezeIncreases)
    }

    @Test func buildingLoadIsGridMinusWhatChargersDrawThroughTheirRotation() {
        let oneA = Charger(id: "one", phases: 1, rotation: .l2l3l1, maxCurrent: 16)
        let state = siteState(
            site: Site(fuseCurrent: 63),
            chargers: [plugged(oneA, draw: 10)],
            building: PhaseCurrents(l1: 20, l2: 15, l3: 25)
        )
        let allocation = allocate(state)
        #expect(allocation.buildingLoad == PhaseCurrents(l1: 20, l2: 15, l3: 25))
        #expect(allocation["one"]?.gridPhases == PhaseSet([.l2]))
    }

    @Test func twoChargersShareTheTightestPhaseFairly() {
        let b = Charger(id: "b", phases: 3, maxCurrent: 32)
        let state = siteState(
            site: Site(fuseCurrent: 63, margin: 2),
            chargers: [plugged(threePhase), plugged(b)],
            building: PhaseCurrents(l1: 20, l2: 15, l3: 25)
        )
        let allocation = allocate(state)
        // L3: 63 − 25 − 2 = 36 A for both.
        #expect(allocation["a"]?.current == 18)
        #expect(allocation["b"]?.current == 18)
        #expect(allocation["a"]?.reason == .fairShare)
        #expect(allocation["a"]?.source == .fuse)
        #expect(allocation["a"]?.phase == .l3)
    }

    @Test func oneStrongPhaseIsLeftToOnePhaseChargersOnIt() {
        let onL1 = Charger(id: "l1", phases: 1, rotation: .l1l2l3, maxCurrent: 32)
        let state = siteState(
            site: Site(fuseCurrent: 63, margin: 2),
            chargers: [plugged(threePhase), plugged(onL1)],
            building: PhaseCurrents(l1: 10, l2: 40, l3: 40)
        )
        let allocation = allocate(state)
        // L2 and L3 leave 21 A for the three-phase charger; L1 has 51 A: 21 + 30.
        #expect(allocation["a"]?.current == 21)
        #expect(allocation["l1"]?.current == 30)
    }

    @Test func belowTheSumOfMinimumsSomePauseButNeverAll() {
        let chargers = (1...5).map { plugged(Charger(id: "c\($0)", phases: 3, maxCurrent: 16)) }
        let state = siteState(
            site: Site(fuseCurrent: 40, margin: 2),
            chargers: chargers,
            building: PhaseCurrents(all: 20)
        )
        let allocation = allocate(state)
        // 18 A: three minimums of 6 A.
        let running = allocation.chargers.filter { $0.current > 0 }
        #expect(running.count == 3)
        #expect(running.allSatisfy { $0.current == 6 })
        let waiting = allocation.chargers.filter { $0.current == 0 }
        #expect(waiting.allSatisfy { $0.reason == .waitingForTurn })
    }

    @Test func whenNotEvenOneMinimumFitsAllPauseForInsufficientSupply() {
        let state = siteState(
            site: Site(fuseCurrent: 30, margin: 2),
            chargers: [plugged(threePhase)],
            building: PhaseCurrents(all: 24)
        )
        let allocation = allocate(state)
        #expect(allocation["a"]?.current == 0)
        #expect(allocation["a"]?.reason == .insufficientSupply)
        #expect(allocation["a"]?.source == .fuse)
    }

    @Test func pausedSessionsTakeTurnsLeastEnergyFirstAfterTheRotationInterval() {
        let chargers = [
            plugged(Charger(id: "x", phases: 3, maxCurrent: 16), energy: 0),
            plugged(Charger(id: "y", phases: 3, maxCurrent: 16), energy: 0),
        ]
        let site = Site(fuseCurrent: 30, margin: 2)
        var allocator = SiteAllocator()
        var state = siteState(site: site, chargers: chargers, building: PhaseCurrents(all: 20))
        let first = allocator.allocate(state)
        #expect(first["x"]?.current == 8)
        #expect(first["y"]?.current == 0)
        #expect(first["y"]?.reason == .waitingForTurn)

        // Within its turn x keeps running.
        advance(&state, to: 600)
        state.chargers[0].sessionEnergy = 3000
        #expect(allocator.allocate(state)["x"]?.current == 8)

        // After 15 minutes y (less energy) starts and x (more energy) pauses.
        advance(&state, to: 900)
        state.chargers[0].sessionEnergy = 4500
        let rotated = allocator.allocate(state)
        #expect(rotated["x"]?.current == 0)
        #expect(rotated["y"]?.current == 8)

        // x waits at least the minimum pause time even if room appears.
        advance(&state, to: 960)
        state.grid?.currents = PhaseCurrents(all: 0)
        let roomy = allocator.allocate(state)
        #expect(roomy["x"]?.current == 0)
        #expect(roomy["x"]?.reason == .pauseDwell)
        advance(&state, to: 1100)
        #expect((allocator.allocate(state)["x"]?.current ?? 0) >= 6)
    }

    @Test func higherPriorityIsServedFirstAndLowerKeepsItsMinimum() {
        let vip = Charger(id: "vip", phases: 3, maxCurrent: 32, priority: 1)
        let normal = Charger(id: "normal", phases: 3, maxCurrent: 32)
        let state = siteState(
            site: Site(fuseCurrent: 40, margin: 0),
            chargers: [plugged(normal), plugged(vip)],
            building: PhaseCurrents(all: 10)
        )
        let allocation = allocate(state)
        #expect(allocation["vip"]?.current == 24)
        #expect(allocation["normal"]?.current == 6)
    }

    @Test func theLowestLimitSourceBindsAndExpiredCommandsAreIgnored() {
        var limits = LimitInputs(
            rippleControl: PhaseCurrents(all: 50),
            apiCommands: [
                APICommand(id: "dso", maxCurrent: PhaseCurrents(all: 40), expiresAt: 100),
                APICommand(id: "old", maxCurrent: PhaseCurrents(all: 10), expiresAt: 5),
            ],
            configuredCap: PhaseCurrents(all: 60)
        )
        var state = siteState(
            now: 10,
            site: Site(fuseCurrent: 63, margin: 0),
            chargers: [plugged(threePhase)],
            building: PhaseCurrents(all: 20),
            limits: limits
        )
        var allocation = allocate(state)
        #expect(allocation.effectiveLimit.allSatisfy { $0.current == 40 && $0.source == .apiCommand("dso") })
        #expect(allocation["a"]?.current == 20)
        #expect(allocation["a"]?.source == .apiCommand("dso"))

        // After expiry the next limit (ripple control) applies by itself.
        state.now = 100
        state.grid?.time = 100
        allocation = allocate(state)
        #expect(allocation.effectiveLimit[0].source == .rippleControl)
        #expect(allocation["a"]?.current == 30)

        limits.rippleControl = nil
        state.limits = limits
        allocation = allocate(state)
        #expect(allocation.effectiveLimit[0].source == .configuredCap)
    }

    @Test func staleMeasurementFreezesIncreasesAndLongerFallsBackToTheSafeBudget() {
        var settings = AllocationSettings()
        settings.safeCurrent = PhaseCurrents(all: 10)
        var state = siteState(
            now: 0,
            site: Site(fuseCurrent: 63),
            settings: settings,
            chargers: [plugged(threePhase, draw: 20)],
            building: PhaseCurrents(all: 20)
        )
        state.now = 5
        var allocation = allocate(state)
        #expect(allocation.measurement == .stale)
        #expect(allocation.freezeIncreases)
        #expect(allocation["a"]?.current == 32)

        state.now = 11
        allocation = allocate(state)
        #expect(allocation.measurement == .failSafe)
        #expect(allocation.chargingBudget == PhaseCurrents(all: 10))
        #expect(allocation["a"]?.current == 10)
        #expect(allocation["a"]?.source == .safeBudget)

        state.grid = nil
        allocation = allocate(state)
        #expect(allocation.measurement == .awaitingFirstReading)
        #expect(allocation["a"]?.current == 10)

        state.settings.safeCurrent = PhaseCurrents(all: 4)
        allocation = allocate(state)
        #expect(allocation["a"]?.current == 0)
        #expect(allocation["a"]?.reason == .failSafe)
    }

    @Test func anOfflineChargerKeepsItsLastAllocationThenItsMaximumIsReserved() {
        let other = Charger(id: "b", phases: 3, maxCurrent: 32)
        var allocator = SiteAllocator()
        var state = siteState(
            site: Site(fuseCurrent: 63, margin: 0),
            chargers: [plugged(threePhase, draw: 10), plugged(other, draw: 10)],
            building: PhaseCurrents(all: 23)
        )
        let before = allocator.allocate(state)
        #expect(before["a"]?.current == 20)

        advance(&state, to: 10)
        state.chargers[0].connected = false
        let offline = allocator.allocate(state)
        #expect(offline["a"]?.reason == .offlineReserved)
        #expect(offline["a"]?.current == 20)
        #expect(offline["a"]?.offline == true)
        #expect(offline["b"]?.current == 20)

        advance(&state, to: 400)
        let longGone = allocator.allocate(state)
        #expect(longGone["a"]?.reason == .offlineAssumedMaximum)
        #expect(longGone["a"]?.current == 32)
        #expect(longGone["b"]?.current == 8)
    }

    @Test func aSilentChargerCountsAsOffline() {
        var state = siteState(
            now: 200,
            site: Site(fuseCurrent: 63),
            chargers: [plugged(threePhase, now: 10)],
            building: .zero
        )
        state.chargers[0].lastReport = 10
        #expect(allocate(state)["a"]?.offline == true)
    }

    @Test func aCarDrawingLessIsHeldAtItsDrawPlusMarginAndLiftedWhenItDrawsUpToIt() {
        let b = Charger(id: "b", phases: 3, maxCurrent: 32)
        var settings = AllocationSettings()
        settings.underdrawWindow = 60
        settings.probeInterval = 600
        var allocator = SiteAllocator()
        var state = siteState(
            site: Site(fuseCurrent: 50, margin: 0),
            settings: settings,
            chargers: [plugged(threePhase, draw: 0), plugged(b, draw: 0)],
            building: PhaseCurrents(all: 10)
        )
        #expect(allocator.allocate(state)["a"]?.current == 20)
        // a's car takes only 8 A of its 20 A; b takes all it gets.
        func at(_ time: Double, aDraws: Double = 8) -> Allocation {
            advance(&state, to: time)
            state.chargers[0].measured = PhaseCurrents(all: aDraws)
            state.chargers[0].appliedLimit = 20
            state.chargers[1].measured = PhaseCurrents(all: 20)
            state.chargers[1].appliedLimit = 20
            state.grid = GridReading(currents: PhaseCurrents(all: 38), time: time)
            return allocator.allocate(state)
        }
        #expect(at(10)["a"]?.current == 20)
        let held = at(71)
        #expect(held["a"]?.current == 11)
        #expect(held["a"]?.reason == .vehicleDrawsLess)
        #expect(held["b"]?.current == 29)
        state.chargers[0].appliedLimit = 11
        #expect(at(300)["a"]?.current == 11)
        // No timed probe: the 3 A above its draw is the probe. Hours later it is still held...
        #expect(at(7200)["a"]?.current == 11)
        // ...until the car draws up to its hold: then it gets its full share at once.
        let lifted = at(7201, aDraws: 10.5)
        #expect(lifted["a"]!.current >= 20)
        #expect(lifted["a"]?.reason != .vehicleDrawsLess)
    }

    @Test func aCarThatTakesNothingIsWokenAtItsMinimumWithTheOthersOnTheProbeGrid() {
        let b = Charger(id: "b", phases: 3, maxCurrent: 32)
        let c = Charger(id: "c", phases: 3, maxCurrent: 32)
        var settings = AllocationSettings()
        settings.underdrawWindow = 60
        settings.probeInterval = 600
        var allocator = SiteAllocator()
        var state = siteState(
            site: Site(fuseCurrent: 50, margin: 0),
            settings: settings,
            chargers: [plugged(threePhase), plugged(b), plugged(c)],
            building: PhaseCurrents(all: 5)
        )
        #expect(allocator.allocate(state)["a"]?.current == 15)
        // a's car is full and takes nothing; b and c take all they get.
        func at(_ time: Double, aDraws: Double = 0) -> Allocation {
            advance(&state, to: time)
            let previous = allocator.memory.chargers
            for index in state.chargers.indices {
                let id = state.chargers[index].charger.id
                let offered = previous[id]?.lastCurrent ?? 0
                let draw = id == "a" ? min(aDraws, offered) : offered
                state.chargers[index].measured = PhaseCurrents(all: draw)
                state.chargers[index].appliedLimit = offered
                state.chargers[index].appliedSince = time - 1
            }
            state.grid = GridReading(
                currents: PhaseCurrents(all: 5 + state.chargers.map(\.draw).reduce(0, +)),
                time: time
            )
            return allocator.allocate(state)
        }
        var second = 1.0
        while second < 200, at(second)["a"]?.current ?? 0 > 0 { second += 1 }
        let idle = at(second)
        #expect(idle["a"]?.current == 0)
        #expect(idle["a"]?.reason == .vehicleDrawsLess)
        #expect(idle["b"]?.current == 22.5)
        // Due 600 s after it went idle, the probe waits for the next multiple of 600 s, so that
        // cars that went idle at different times are asked together (a full site moves its limits
        // once per batch).
        #expect(at(second + 600)["a"]?.current == 0)
        #expect(at(1199)["a"]?.current == 0)
        let probe = at(1200)
        #expect(probe["a"]?.current == 6)
        #expect(probe["a"]?.probing == true)
        #expect(probe["b"]?.current == 19.5)
        // Still nothing after the probe window: back to 0, the others get their share back.
        #expect(at(1230)["a"]?.current == 6)
        let after = at(1260)
        #expect(after["a"]?.current == 0)
        #expect(after["b"]?.current == 22.5)
        // The next probe is due 1200 s later (the backoff doubled), at 2460, on the grid of the
        // doubled interval: 3600. This time the car draws its minimum and gets its full share at once.
        #expect(at(2400)["a"]?.current == 0)
        #expect(at(3000)["a"]?.current == 0)
        #expect(at(3599)["a"]?.current == 0)
        #expect(at(3600)["a"]?.current == 6)
        let woken = at(3605, aDraws: 32)
        #expect(woken["a"]?.current == 15)
        #expect(woken["a"]?.probing == false)
    }

    @Test func unbalanceIsLimitedByReducingOnePhaseChargersOnTheHeavyPhase() {
        let onL1 = Charger(id: "l1", phases: 1, rotation: .l1l2l3, maxCurrent: 32)
        let state = siteState(
            site: Site(fuseCurrent: 100, margin: 0, maxUnbalance: 20),
            chargers: [plugged(onL1), plugged(threePhase)],
            building: PhaseCurrents(l1: 30, l2: 20, l3: 25)
        )
        let allocation = allocate(state)
        let totals = allocation.buildingLoad + load(of: allocation)
        #expect(totals.maximum - totals.minimum <= 20 + 1e-6)
        #expect(allocation["l1"]?.source == .unbalance)
        #expect(allocation["l1"]?.current == 10)
        #expect(allocation["a"]?.current == 32)
    }

    @Test func aCircuitLimitBindsTheChargersBelowIt() {
        let site = Site(fuseCurrent: 100, margin: 0, circuits: [Circuit(id: "sub", limit: PhaseCurrents(all: 20))])
        let underSub = Charger(id: "s", phases: 3, maxCurrent: 32, circuit: "sub")
        let state = siteState(site: site, chargers: [plugged(underSub), plugged(threePhase)], building: .zero)
        let allocation = allocate(state)
        #expect(allocation["s"]?.current == 20)
        #expect(allocation["s"]?.source == .circuit("sub"))
        #expect(allocation["a"]?.current == 32)
    }

    @Test func aOnePhaseCarOnAThreePhaseChargerIsCountedOnItsPhaseOnly() {
        var allocator = SiteAllocator()
        var car = plugged(threePhase)
        car.measured = PhaseCurrents(l1: 16, l2: 0, l3: 0)
        var state = siteState(site: Site(fuseCurrent: 63), chargers: [car], building: .zero)
        #expect(allocator.allocate(state)["a"]?.gridPhases == .all)
        advance(&state, to: 31)
        // Confirmed now; counted on L1 only from the next decision on.
        #expect(allocator.allocate(state)["a"]?.gridPhases == .all)
        advance(&state, to: 32)
        #expect(allocator.allocate(state)["a"]?.gridPhases == PhaseSet([.l1]))
        // Current on another terminal ends it at once.
        state.chargers[0].measured = PhaseCurrents(l1: 16, l2: 16, l3: 16)
        #expect(allocator.allocate(state)["a"]?.gridPhases == .all)
    }

    @Test func drawAboveTheLimitAfterTheGraceTimeStaysInTheBuildingLoad() {
        var car = plugged(threePhase, draw: 20)
        car.appliedLimit = 10
        car.appliedSince = 0
        var state = siteState(now: 30, site: Site(fuseCurrent: 63), chargers: [car], building: PhaseCurrents(all: 5))
        #expect(allocate(state).buildingLoad == PhaseCurrents(all: 14))
        state.chargers[0].appliedSince = 20
        #expect(allocate(state).buildingLoad == PhaseCurrents(all: 5))
    }

    @Test func sessionsThatEndAreForgotten() {
        var allocator = SiteAllocator()
        var state = siteState(site: Site(fuseCurrent: 63), chargers: [plugged(threePhase)], building: .zero)
        _ = allocator.allocate(state)
        #expect(allocator.memory.chargers["a"] != nil)
        state.chargers[0].status = .available
        let allocation = allocator.allocate(state)
        #expect(allocation["a"]?.reason == .noVehicle)
        #expect(allocator.memory.chargers["a"] == nil)
    }

    @Test func exportedLimitsCarryPowerAndLeaveOfflineChargersOut() {
        var offline = plugged(Charger(id: "b", phases: 1, maxCurrent: 16))
        offline.connected = false
        let state = siteState(site: Site(fuseCurrent: 63), chargers: [plugged(threePhase), offline], building: .zero)
        let exported = allocate(state).exportedLimits(site: state.site, chargers: state.chargers.map(\.charger))
        #expect(exported.map(\.id) == ["a"])
        #expect(exported[0].power == 32 * 230 * 3)
    }

    @Test func invalidModelsAreRejectedWithActionableMessages() {
        let site = Site(fuseCurrent: 63)
        #expect(throws: SiteModelError.minimumAboveMaximum(charger: "a", minCurrent: 10, maxCurrent: 8)) {
            try site.validate(chargers: [Charger(id: "a", minCurrent: 10, maxCurrent: 8)])
        }
        #expect(throws: SiteModelError.invalidPhaseCount(charger: "a", found: 4)) {
            try site.validate(chargers: [Charger(id: "a", phases: 4)])
        }
        #expect(throws: SiteModelError.duplicateCharger("a")) {
            try site.validate(chargers: [Charger(id: "a"), Charger(id: "a")])
        }
        #expect(throws: SiteModelError.unknownCircuit("x", referencedBy: "charger a")) {
            try site.validate(chargers: [Charger(id: "a", circuit: "x")])
        }
        let cyclic = Site(
            fuseCurrent: 63,
            circuits: [
                Circuit(id: "p", parent: "q", limit: PhaseCurrents(all: 10)),
                Circuit(id: "q", parent: "p", limit: PhaseCurrents(all: 10)),
            ]
        )
        #expect(throws: SiteModelError.circuitCycle("p")) { try cyclic.validate(chargers: []) }
        let message = SiteModelError.minimumAboveMaximum(charger: "a", minCurrent: 10, maxCurrent: 8).description
        #expect(message == "charger a: min_current 10.0 A is above max_current 8.0 A")
    }
}
