import Allocation
import Testing

@Suite struct DispatchTests {
    /// An allocation with one entry per (id, target, draw), all three-phase.
    func allocation(
        at time: Double,
        _ chargers: [(ChargerID, Double, Double)],
        budget: Double = 1000,
        freeze: Bool = false,
        probing: Set<ChargerID> = []
    ) -> Allocation {
        Allocation(
            time: time,
            measurement: freeze ? .stale : .fresh,
            effectiveLimit: GridPhase.allCases.map { PhaseLimit(phase: $0, current: budget, source: .fuse) },
            buildingLoad: .zero,
            chargingBudget: PhaseCurrents(all: budget),
            budgetSources: [.fuse, .fuse, .fuse],
            allocated: .zero,
            chargers: chargers.map { id, target, draw in
                ChargerAllocation(
                    id: id,
                    current: target,
                    reason: .fairShare,
                    source: .fuse,
                    gridPhases: .all,
                    minCurrent: 6,
                    draw: draw,
                    probing: probing.contains(id)
                )
            },
            freezeIncreases: freeze,
            memory: AllocationMemory()
        )
    }

    @Test func theFirstLimitGoesOutAtOnce() {
        var dispatcher = LimitDispatcher()
        let commands = dispatcher.step(allocation(at: 0, [("a", 16, 32)]))
        #expect(commands.map(\.current) == [16])
        #expect(commands.first?.kind == .initial)
        #expect(dispatcher.pendingDecreases["a"] != nil)
    }

    @Test func aDecreaseTheBudgetNeedsGoesOutAtOnceToTheFullTarget() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 32, 32)], budget: 32))
        let commands = dispatcher.step(allocation(at: 1, [("a", 10, 32)], budget: 10))
        #expect(commands.map(\.current) == [10])
        #expect(commands.first?.kind == .decrease)
        let pause = dispatcher.step(allocation(at: 2, [("a", 0, 10)]))
        #expect(pause.map(\.kind) == [.pause])
    }

    @Test func aSmallLowerTargetThatBreaksNoBudgetIsWithheldUntilSomeoneNeedsTheRoom() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 16, 16), ("b", 10, 10)], budget: 26))
        // a's target drops 1.5 A, b's rises: a keeps its limit until b's increase (due after the
        // settle time, at 10 s) has waited the persistence time.
        for time in stride(from: 1.0, to: 130, by: 1) {
            #expect(dispatcher.step(allocation(at: time, [("a", 14.5, 16), ("b", 11.5, 10)], budget: 26)).isEmpty)
        }
        let room = dispatcher.step(allocation(at: 130, [("a", 14.5, 16), ("b", 11.5, 10)], budget: 26))
        #expect(room.map(\.chargerID) == ["a"])
        #expect(room.first?.current == 14.5)
        // Break before make: b's increase follows once a's car follows.
        let increase = dispatcher.step(allocation(at: 135, [("a", 14.5, 14.5), ("b", 11.5, 10)], budget: 26))
        #expect(increase.map(\.chargerID) == ["b"])
        #expect(increase.first?.current == 11.5)
        // A cut of 2 A or more goes out at once, so that shares stay fair after a limit drops.
        let cut = dispatcher.step(allocation(at: 200, [("a", 12, 14.5), ("b", 11.5, 11.5)], budget: 26))
        #expect(cut.map(\.current) == [12])
    }

    /// Four chargers at 15 A share 60 A; the car at e is woken with its minimum (6 A), so every
    /// target drops by 1.5 A.
    func wake(at time: Double, bDraws: Double = 15, aDraws: Double = 15) -> Allocation {
        allocation(
            at: time,
            [("a", 13.5, aDraws), ("b", 13.5, bDraws), ("c", 13.5, 15), ("d", 13.5, 15), ("e", 6, 0)],
            budget: 60,
            probing: ["e"]
        )
    }

    func full(at time: Double, aDraws: Double = 15) -> Allocation {
        allocation(at: time, [("a", 15, aDraws), ("b", 15, 15), ("c", 15, 15), ("d", 15, 15), ("e", 0, 0)], budget: 60)
    }

    @Test func aStartGetsRoomAtOnceFromOneChargerWhichAloneMovesBackWhenTheProbeEnds() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(full(at: 0))
        // One charger makes all the room instead of four moving by 1.5 A each.
        let cut = dispatcher.step(wake(at: 100))
        #expect(cut.map(\.chargerID) == ["a"])
        #expect(cut.first?.current == 9)
        let start = dispatcher.step(wake(at: 105, aDraws: 9))
        #expect(start.map(\.chargerID) == ["e"])
        #expect(start.first?.current == 6)
        // The car takes nothing: e pauses, and only a gets back the limit it had, in one step
        // (a limit it drew a minute ago, not a new operating point to ramp to).
        let end = dispatcher.step(full(at: 165, aDraws: 9))
        #expect(end.map(\.chargerID) == ["e", "a"])
        #expect(end.map(\.current) == [0, 15])
        #expect(dispatcher.step(full(at: 175, aDraws: 15)).isEmpty)
    }

    @Test func aChargerCutForAProbeGetsItsLimitBackInOneStepOnlyWithinTheLoanTime() {
        /// The woken car takes its minimum and charges on: a stays cut until the others give up
        /// what they hold above their targets (after the persistence time and their cars'
        /// following), at about 250 s. Returns a's increases.
        func increasesOfA(loanTime: Double) -> [Double] {
            var settings = DispatchSettings()
            settings.probeLoanTime = loanTime
            var dispatcher = LimitDispatcher(settings: settings)
            _ = dispatcher.step(full(at: 0))
            var increases: [Double] = []
            for time in stride(from: 100.0, to: 500, by: 1) {
                let commands = dispatcher.step(wake(at: time, aDraws: time == 100 ? 15 : 9))
                increases += commands.filter { $0.chargerID == "a" && $0.kind == .increase }.map(\.current)
            }
            return increases
        }
        #expect(increasesOfA(loanTime: 300) == [13.5])
        // After the loan the way back is an ordinary ramp: half the gap (4.5 A) first.
        #expect(increasesOfA(loanTime: 60).first == 11.2)
    }

    @Test func aChargerWhoseCarDoesNotUseItsLimitMakesRoomFirst() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(full(at: 0))
        let cut = dispatcher.step(wake(at: 100, bDraws: 5))
        #expect(cut.map(\.chargerID) == ["b"])
        #expect(cut.map(\.current) == [9])
        // b's car draws less than its new limit: nothing to wait for, e starts at the next step.
        #expect(dispatcher.pendingDecreases.isEmpty)
        #expect(dispatcher.step(wake(at: 101, bDraws: 5)).map(\.chargerID) == ["e"])
    }

    @Test func aCarThatDoesNotUseItsLimitGetsNoIncrease() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 16, 16)]))
        // Within a minute of its limit the draw may not be reported yet: the increase goes out.
        var early = dispatcher
        #expect(early.step(allocation(at: 20, [("a", 32, 10)])).map(\.current) == [24])
        // A minute later the car still draws 6 A less than its limit: no increase...
        #expect(dispatcher.step(allocation(at: 60, [("a", 32, 10)])).isEmpty)
        // ...until it draws close to it.
        #expect(dispatcher.step(allocation(at: 70, [("a", 32, 15.5)])).map(\.current) == [24])
    }

    @Test func withheldDecreasesGoOutWhenACircuitWouldBeOverItsBudget() {
        var dispatcher = LimitDispatcher()
        func inCircuit(_ allocation: Allocation, budget: Double) -> Allocation {
            var allocation = allocation
            allocation.circuitBudgets = [CircuitBudget(id: "sub", parent: nil, budget: PhaseCurrents(all: budget))]
            for index in 0..<2 { allocation.chargers[index].circuit = 0 }
            return allocation
        }
        _ = dispatcher.step(inCircuit(allocation(at: 0, [("a", 10, 10), ("b", 10, 10), ("c", 10, 10)]), budget: 20))
        // Within the circuit's budget, lower targets are withheld; over it, they go out.
        #expect(
            dispatcher.step(inCircuit(allocation(at: 1, [("a", 9, 10), ("b", 9, 10), ("c", 10, 10)]), budget: 20))
                .isEmpty
        )
        let commands = dispatcher.step(
            inCircuit(allocation(at: 2, [("a", 8, 10), ("b", 8, 10), ("c", 10, 10)]), budget: 16)
        )
        #expect(Set(commands.map(\.chargerID)) == ["a", "b"])
        #expect(commands.map(\.current) == [8, 8])
    }

    @Test func withheldDecreasesGoOutWhenTheUnbalanceLimitWouldBreak() {
        var dispatcher = LimitDispatcher()
        func onePhase(_ allocation: Allocation) -> Allocation {
            var allocation = allocation
            allocation.maxUnbalance = 20
            allocation.buildingLoad = PhaseCurrents(l1: 30, l2: 20, l3: 25)
            allocation.chargers[0].gridPhases = PhaseSet([.l1])
            return allocation
        }
        _ = dispatcher.step(onePhase(allocation(at: 0, [("l1", 10, 10)])))
        // 0.5 A less is not worth a message (40 − 20 = 20 A stays within the limit)...
        #expect(dispatcher.step(onePhase(allocation(at: 1, [("l1", 9.5, 10)]))).isEmpty)
        // ...but the building's L1 load rose: with 10 A on L1 the unbalance would be 25 A.
        var heavier = onePhase(allocation(at: 2, [("l1", 5, 10)]))
        heavier.buildingLoad.l1 = 35
        #expect(dispatcher.step(heavier).map(\.current) == [5])
    }

    @Test func increasesWaitTheSettleTimeAndCloseHalfTheGap() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 10, 10)]))
        let result1 = dispatcher.step(allocation(at: 5, [("a", 30, 10)]))
        #expect(result1.isEmpty)
        let first = dispatcher.step(allocation(at: 10, [("a", 30, 10)]))
        #expect(first.map(\.current) == [20])
        #expect(first.first?.target == 30)
        let result2 = dispatcher.step(allocation(at: 15, [("a", 30, 20)]))
        #expect(result2.isEmpty)
        let result3 = dispatcher.step(allocation(at: 20, [("a", 30, 20)]))
        #expect(result3.map(\.current) == [25])
    }

    @Test func aRampDoesNotEndInAStepBelowOneAmpere() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 10, 10)]))
        // Gap 4.5: half is 2.25 (to 12.2), then a gap of 2.3 closes 1.15 (to 13.3), leaving 1.2.
        #expect(dispatcher.step(allocation(at: 10, [("a", 14.5, 10)])).map(\.current) == [12.2])
        #expect(dispatcher.step(allocation(at: 20, [("a", 14.5, 12.2)])).map(\.current) == [13.3])
        // 1.2 left: one step of at least 1 A would leave 0.2, so the whole gap goes out now.
        #expect(dispatcher.step(allocation(at: 30, [("a", 14.5, 13.3)])).map(\.current) == [14.5])
        #expect(dispatcher.step(allocation(at: 200, [("a", 14.5, 14.5)])).isEmpty)
    }

    @Test func changesBelowOneAmpereAreNotSent() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 10, 10)]))
        let result4 = dispatcher.step(allocation(at: 20, [("a", 10.8, 10)]))
        #expect(result4.isEmpty)
        let result5 = dispatcher.step(allocation(at: 40, [("a", 9.4, 10)]))
        #expect(result5.isEmpty)
    }

    @Test func aSmallDecreaseIsSentWhenThePhaseWouldOtherwiseBeOverBudget() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 10, 10), ("b", 10, 10)]))
        let commands = dispatcher.step(allocation(at: 20, [("a", 9.5, 10), ("b", 9.5, 10)], budget: 19.5))
        #expect(commands.count == 1)
        #expect(commands.first?.current == 9.5)
    }

    @Test func increasesWaitUntilDecreasesTookEffect() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 16, 16), ("b", 0, 0)]))
        // a must give way to b: a's decrease goes out, b waits while a still draws.
        let swap = dispatcher.step(allocation(at: 20, [("a", 0, 16), ("b", 16, 0)]))
        #expect(swap.map(\.chargerID) == ["a"])
        let result6 = dispatcher.step(allocation(at: 21, [("a", 0, 16), ("b", 16, 0)]))
        #expect(result6.isEmpty)
        let start = dispatcher.step(allocation(at: 25, [("a", 0, 0), ("b", 16, 0)]))
        #expect(start.map(\.chargerID) == ["b"])
        #expect(start.first?.kind == .start)
        #expect(start.first?.current == 8)
    }

    @Test func aDecreaseThatIsNeverFollowedStopsHoldingIncreasesAfterTheTimeout() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 16, 16), ("b", 10, 10)]))
        _ = dispatcher.step(allocation(at: 20, [("a", 0, 16), ("b", 20, 10)]))
        let result7 = dispatcher.step(allocation(at: 30, [("a", 0, 16), ("b", 20, 10)]))
        #expect(result7.isEmpty)
        let result8 = dispatcher.step(allocation(at: 41, [("a", 0, 16), ("b", 20, 10)]))
        #expect(result8.map(\.chargerID) == ["b"])
    }

    @Test func increasesAreFrozenWhileTheMeasurementIsStale() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 10, 10)]))
        let result9 = dispatcher.step(allocation(at: 20, [("a", 30, 10)], freeze: true))
        #expect(result9.isEmpty)
        let result10 = dispatcher.step(allocation(at: 21, [("a", 6, 10)], budget: 6, freeze: true))
        #expect(result10.map(\.current) == [6])
    }

    @Test func aProbeGoesOutInOneStep() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 9, 6)]))
        let result11 = dispatcher.step(allocation(at: 20, [("a", 32, 6)], probing: ["a"]))
        #expect(result11.map(\.current) == [32])
    }

    @Test func aForgottenChargerGetsItsLimitAgain() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 10, 10)]))
        let result12 = dispatcher.step(allocation(at: 1, [("a", 10, 10)]))
        #expect(result12.isEmpty)
        dispatcher.forget("a")
        let result13 = dispatcher.step(allocation(at: 2, [("a", 10, 10)]))
        #expect(result13.map(\.kind) == [.initial])
    }

    @Test func offlineChargersGetNothing() {
        var dispatcher = LimitDispatcher()
        var offline = allocation(at: 0, [("a", 10, 10)])
        offline.chargers[0].offline = true
        let commands = dispatcher.step(offline)
        #expect(commands.isEmpty)
    }
}
