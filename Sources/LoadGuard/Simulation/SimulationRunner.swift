import Allocation

/// Runs a ``Scenario`` in closed loop: each simulated second the plant (building, chargers, cars)
/// is stepped, its readings go to the real allocator and dispatch rules, and the limits they send
/// go back to the plant. Far faster than real time; deterministic.
///
/// Per second, in order: scenario events at that second, plant step (the limits sent in the
/// previous second take effect subject to the chargers' PWM spacing and the cars' reaction
/// delays), measurement (unless the meter is faulted), allocation, dispatch.
public struct SimulationRunner: Sendable {
    public var scenario: Scenario
    /// A second counts as steady state when no event, arrival or departure happened in the
    /// preceding `steadyAfter` seconds.
    public var steadyAfter: Double = 300

    public init(scenario: Scenario) {
        self.scenario = scenario
    }

    public func run() -> SimulationResult {
        let scenario = self.scenario
        let site = scenario.site
        var plant = SitePlant(chargers: scenario.chargers, vehicles: scenario.vehicles, settings: scenario.plant)
        var dispatcher = LimitDispatcher(settings: scenario.dispatch)
        var memory = AllocationMemory()
        var chargerStates = scenario.chargers.map { ChargerState(charger: $0) }
        var chargerIndex = [ChargerID: Int]()
        for (offset, charger) in scenario.chargers.enumerated() { chargerIndex[charger.id] = offset }

        var pattern = scenario.initialInputs
        var apiCommands = [APICommand]()
        var buildingOverride: PhaseCurrents?
        var meterFaultUntil = -Double.infinity
        var offlineUntil = [ChargerID: Double]()
        var grid: GridReading?
        var eventPointer = 0

        // Moments that disturb the steady state.
        var disturbances = scenario.events.map(\.at) + scenario.vehicles.flatMap { [$0.arrive, $0.depart] }
        disturbances.sort()

        var recorder = SimulationRecorder(scenario: scenario, steadyAfter: steadyAfter, disturbances: disturbances)
        let seconds = Int(scenario.duration)
        for second in 0..<seconds {
            let now = Double(second)

            // Events.
            while eventPointer < scenario.events.count, scenario.events[eventPointer].at <= now {
                switch scenario.events[eventPointer].kind {
                case .inputs(let newPattern):
                    pattern = newPattern
                case .apiLimit(let id, let level, let expiresAfter):
                    apiCommands.removeAll { $0.id == id }
                    apiCommands.append(
                        APICommand(
                            id: id,
                            maxCurrent: level.currents(on: site),
                            expiresAt: expiresAfter.map { scenario.events[eventPointer].at + $0 }
                        )
                    )
                case .building(let load):
                    buildingOverride = load
                case .meterFault(let duration):
                    meterFaultUntil = max(meterFaultUntil, scenario.events[eventPointer].at + duration)
                case .chargerOffline(let id, let duration):
                    offlineUntil[id] = scenario.events[eventPointer].at + duration
                    plant.setOnline(false, charger: id)
                }
                eventPointer += 1
            }
            for (id, until) in offlineUntil where until <= now {
                offlineUntil[id] = nil
                plant.setOnline(true, charger: id)
                dispatcher.forget(id)
            }

            // Plant.
            let building = buildingOverride ?? scenario.building.load(at: now)
            let reading = plant.step(time: now, building: building)

            // Measurement.
            if now >= meterFaultUntil {
                grid = GridReading(currents: reading.grid, time: now)
            }
            for charger in reading.chargers {
                guard let offset = chargerIndex[charger.id] else { continue }
                var state = chargerStates[offset]
                state.connected = charger.online
                if charger.online {
                    state.status = charger.status
                    state.measured = charger.terminals
                    state.sessionEnergy = charger.sessionEnergy
                    state.lastReport = now
                }
                if let sent = dispatcher.sent[charger.id] {
                    state.appliedLimit = sent.current
                    state.appliedSince = sent.time
                } else {
                    state.appliedLimit = nil
                    state.appliedSince = nil
                }
                chargerStates[offset] = state
            }

            // Allocation and dispatch.
            var limits = LimitInputs(apiCommands: apiCommands)
            if let mapping = scenario.rippleControl, let level = mapping.level(for: pattern) {
                limits.rippleControl = level.currents(on: site)
            }
            let state = SiteState(
                now: now,
                site: site,
                settings: scenario.settings,
                chargers: chargerStates,
                grid: grid,
                limits: limits,
                memory: memory
            )
            let allocation = allocate(state)
            memory = allocation.memory
            let commands = dispatcher.step(allocation)
            for command in commands {
                plant.send(limit: command.current, to: command.chargerID)
            }
            recorder.record(
                time: now,
                reading: reading,
                allocation: allocation,
                commands: commands,
                sent: dispatcher.sent,
                plant: plant
            )
        }
        return recorder.result()
    }
}
