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

    @Test func decreasesGoOutAtOnceToTheFullTarget() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 32, 32)]))
        let commands = dispatcher.step(allocation(at: 1, [("a", 10, 32)]))
        #expect(commands.map(\.current) == [10])
        #expect(commands.first?.kind == .decrease)
        let pause = dispatcher.step(allocation(at: 2, [("a", 0, 10)]))
        #expect(pause.map(\.kind) == [.pause])
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
        _ = dispatcher.step(allocation(at: 20, [("a", 6, 16), ("b", 20, 10)]))
        let result7 = dispatcher.step(allocation(at: 30, [("a", 6, 16), ("b", 20, 10)]))
        #expect(result7.isEmpty)
        let result8 = dispatcher.step(allocation(at: 41, [("a", 6, 16), ("b", 20, 10)]))
        #expect(result8.map(\.chargerID) == ["b"])
    }

    @Test func increasesAreFrozenWhileTheMeasurementIsStale() {
        var dispatcher = LimitDispatcher()
        _ = dispatcher.step(allocation(at: 0, [("a", 10, 10)]))
        let result9 = dispatcher.step(allocation(at: 20, [("a", 30, 10)], freeze: true))
        #expect(result9.isEmpty)
        let result10 = dispatcher.step(allocation(at: 21, [("a", 6, 10)], freeze: true))
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
