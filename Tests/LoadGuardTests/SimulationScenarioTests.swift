import Allocation
import LoadGuard
import Testing

/// The shipped scenarios, run through the real allocator and dispatch rules, against the
/// targets LoadGuard promises (docs/allocation.md, "Targets").
@Suite struct SimulationScenarioTests {
    static let scenarios: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/LoadGuardTests/<file>
        return parts.joined(separator: "/") + "/Examples/scenarios/"
    }()

    /// Each scenario runs once per test process; the tests read its result.
    static let cache = ScenarioCache()

    static func run(_ name: String) async throws -> (Scenario, SimulationResult) {
        try await cache.result(scenarios + name + ".yaml")
    }

    /// The largest number of limits one charger got within a clock hour, counting only steady state.
    static func steadyMessagesPerChargerPerHour(_ result: SimulationResult) -> Int {
        var counts = [String: Int]()
        for message in result.messages where message.steady {
            counts["\(message.charger)#\(Int(message.time / 3600))", default: 0] += 1
        }
        return counts.values.max() ?? 0
    }

    @Test(arguments: ["house-63a", "depot-night", "ripple-control", "api-limit", "meter-fault", "garage-250a"])
    func noScenarioWithoutAStepOverloadsTheFuse(name: String) async throws {
        let (_, result) = try await Self.run(name)
        #expect(result.summary.overloadAmpSeconds == 0, "\(name)")
        #expect(result.summary.maxOverloadSeconds == 0, "\(name)")
    }

    @Test(arguments: ["house-63a", "depot-night", "ripple-control", "api-limit", "building-step", "garage-250a"])
    func demandAboveSupplyUsesAtLeast95PercentOfTheHeadroom(name: String) async throws {
        let (_, result) = try await Self.run(name)
        let scarce = try #require(result.summary.headroomUsedScarce, "\(name): demand never exceeded supply")
        #expect(scarce >= 0.95, "\(name): headroom used when scarce \(scarce)")
    }

    @Test(arguments: ["depot-night", "ripple-control", "api-limit", "building-step"])
    func equalPriorityCarsPresentTogetherGetFairShares(name: String) async throws {
        let (_, result) = try await Self.run(name)
        let jain = try #require(result.summary.jainFairness, "\(name): no group of cars present together")
        #expect(jain >= 0.95, "\(name): Jain index \(jain)")
    }

    @Test(arguments: [
        "house-63a", "depot-night", "ripple-control", "api-limit", "meter-fault", "building-step", "garage-250a",
    ])
    func steadyStateSendsAtMostSixLimitsPerChargerPerHour(name: String) async throws {
        let (_, result) = try await Self.run(name)
        let steady = Self.steadyMessagesPerChargerPerHour(result)
        #expect(steady <= 6, "\(name): \(steady) limits per charger per hour in steady state")
        #expect(result.summary.limitMessages.maxPerChargerPerHourSteady == steady)
    }

    @Test(arguments: [
        "house-63a", "depot-night", "ripple-control", "api-limit", "meter-fault", "building-step", "garage-250a",
    ])
    func noPauseIsShorterThanTheDwellTime(name: String) async throws {
        let (scenario, result) = try await Self.run(name)
        for pause in result.pauses where pause.endedBy == .restarted {
            #expect(pause.duration >= scenario.settings.minimumPauseTime, "\(name): \(pause)")
        }
    }

    @Test func theDepotTakesTurnsEveryFifteenMinutes() async throws {
        let (_, result) = try await Self.run("depot-night")
        #expect(result.summary.pauses.count > 0)
        let shortest = try #require(result.summary.pauses.shortestSeconds)
        #expect(shortest >= 900)
        // Every van got a share: nobody waited the whole night.
        #expect(result.summary.evs.allSatisfy { $0.energyDeliveredWh > 1000 })
    }

    @Test func aBuildingStepOverloadClearsWithinFifteenSeconds() async throws {
        let (scenario, result) = try await Self.run("building-step")
        let step = try #require(scenario.events.first?.at)
        #expect(result.summary.maxOverloadSeconds <= 15)
        for sample in result.samples where GridPhase.allCases.contains(where: { sample.grid[$0] > 200 + 1e-6 }) {
            #expect(sample.time >= step && sample.time < step + 15, "overload at \(sample.time)")
        }
        // Before the step and after it cleared the site is safe.
        let late = result.samples.filter { $0.time >= step + 15 }
        #expect(late.allSatisfy { $0.grid.maximum <= 200 })
    }

    @Test func rippleControlAndAPILimitsTakeEffectWithinSeconds() async throws {
        for name in ["ripple-control", "api-limit"] {
            let (_, result) = try await Self.run(name)
            #expect(result.summary.maxLimitExceededSeconds <= 10, "\(name)")
            // Long after each change the effective limit holds.
            var lastChange = -Double.infinity
            var previous: PhaseCurrents?
            for sample in result.samples {
                if sample.limit != previous { lastChange = sample.time }
                previous = sample.limit
                if sample.time - lastChange > 10 {
                    #expect(sample.grid.maximum <= sample.limit.maximum + 1e-6, "\(name) at \(sample.time)")
                }
            }
        }
    }

    @Test func theAPILimitExpiresBackToTheFuse() async throws {
        let (_, result) = try await Self.run("api-limit")
        let during = try #require(result.samples.first { $0.time == 2400 })
        let after = try #require(result.samples.first { $0.time == 3300 })
        #expect(during.limit == PhaseCurrents(all: 100))
        #expect(after.limit == PhaseCurrents(all: 160))
        #expect(after.grid.maximum > 140)
    }

    @Test func aMeterFaultFallsBackToTheSafeBudgetAndAnOfflineChargerKeepsItsReservation() async throws {
        let (scenario, result) = try await Self.run("meter-fault")
        let fault = result.samples.filter { $0.time >= 1800 && $0.time < 1920 }
        #expect(fault.contains { $0.measurement == .stale })
        #expect(fault.contains { $0.measurement == .failSafe })
        // In fail-safe the chargers together stay within the safe budget once the cars followed.
        for sample in fault where sample.measurement == .failSafe && sample.time >= 1800 + 10 + 10 {
            let charging = sample.grid - sample.building
            #expect(charging.maximum <= scenario.settings.safeCurrent.maximum + 1e-6, "at \(sample.time)")
        }
        #expect(result.summary.overloadAmpSeconds == 0)
    }

    @Test func oneAndThreePhaseChargersOnRotatedPhasesShareAGarageWithoutOverload() async throws {
        let (_, result) = try await Self.run("garage-250a")
        #expect(result.summary.overloadAmpSeconds == 0)
        #expect(result.summary.maxPhaseCurrent <= 250)
        #expect(result.summary.energyDeliveredWh > 0.6 * result.summary.energyRequestedWh)
    }

    @Test func runsAreDeterministic() async throws {
        let (scenario, first) = try await Self.run("house-63a")
        let second = SimulationRunner(scenario: scenario).run()
        #expect(first.summary == second.summary)
        #expect(first.samples == second.samples)
    }
}

/// Runs each scenario file once, however many tests ask for it at the same time.
actor ScenarioCache {
    private var runs: [String: Task<(Scenario, SimulationResult), any Error>] = [:]

    func result(_ path: String) async throws -> (Scenario, SimulationResult) {
        if let run = runs[path] { return try await run.value }
        let run = Task {
            let scenario = try ScenarioLoader.load(path: path)
            return (scenario, SimulationRunner(scenario: scenario).run())
        }
        runs[path] = run
        return try await run.value
    }
}
