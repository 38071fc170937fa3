import Allocation

/// Accumulates the per-second series and the summary's integrals while a simulation runs.
struct SimulationRecorder {
    let scenario: Scenario
    let steadyAfter: Double
    let disturbances: [Double]
    var disturbancePointer = 0
    var lastDisturbance = -Double.infinity

    var samples: [SimulationSample] = []
    var messages: [SimulationMessage] = []
    var pauses: [SimulationPause] = []
    var openPauses: [ChargerID: (vehicle: String, start: Double)] = [:]

    var overloadAmpSeconds = 0.0
    var overloadRun = 0.0
    var maxOverloadRun = 0.0
    var excessAmpSeconds = 0.0
    var excessRun = 0.0
    var maxExcessRun = 0.0
    var maxPhaseCurrent = 0.0
    var deliveredWh = 0.0
    var possibleWh = 0.0
    var scarceDeliveredWh = 0.0
    var scarcePossibleWh = 0.0
    var scarceSeconds = 0.0
    let vehiclePhases: [String: Int]
    let chargerByID: [ChargerID: Charger]

    init(scenario: Scenario, steadyAfter: Double, disturbances: [Double]) {
        self.scenario = scenario
        self.steadyAfter = steadyAfter
        self.disturbances = disturbances
        self.vehiclePhases = Dictionary(scenario.vehicles.map { ($0.id, $0.phases) }, uniquingKeysWith: { a, _ in a })
        self.chargerByID = Dictionary(scenario.chargers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        samples.reserveCapacity(Int(scenario.duration))
    }

    mutating func record(
        time: Double,
        reading: SitePlant.Reading,
        allocation: Allocation,
        commands: [LimitCommand],
        sent: [ChargerID: LimitDispatcher.SentLimit],
        plant: SitePlant
    ) {
        let site = scenario.site
        let voltage = site.nominalVoltage
        while disturbancePointer < disturbances.count, disturbances[disturbancePointer] <= time {
            lastDisturbance = disturbances[disturbancePointer]
            disturbancePointer += 1
        }
        let steady = time >= steadyAfter && time - lastDisturbance >= steadyAfter

        // Safety: current above the fuse and above the effective limit.
        let limit = PhaseCurrents(
            l1: allocation.effectiveLimit[0].current,
            l2: allocation.effectiveLimit[1].current,
            l3: allocation.effectiveLimit[2].current
        )
        var overloaded = false
        var exceeded = false
        for phase in GridPhase.allCases {
            let current = reading.grid[phase]
            maxPhaseCurrent = max(maxPhaseCurrent, current)
            let over = current - site.fuse[phase]
            if over > 1e-6 {
                overloadAmpSeconds += over
                overloaded = true
            }
            let excess = current - limit[phase]
            if excess > 1e-6 {
                excessAmpSeconds += excess
                exceeded = true
            }
        }
        overloadRun = overloaded ? overloadRun + 1 : 0
        maxOverloadRun = max(maxOverloadRun, overloadRun)
        excessRun = exceeded ? excessRun + 1 : 0
        maxExcessRun = max(maxExcessRun, excessRun)

        // Usefulness: delivered versus what the limits allowed the cars present to take.
        var demandBySet = [UInt8: Double]()
        var demand = PhaseCurrents.zero
        var delivered = PhaseCurrents.zero
        for charger in reading.chargers {
            delivered += charger.grid
            guard let vehicle = charger.vehicle, let model = chargerByID[charger.id] else { continue }
            let terminals = min(vehiclePhases[vehicle] ?? 3, model.terminalCount)
            let wants = min(charger.acceptance, model.maxCurrent)
            guard wants > 0 else { continue }
            let rotation = model.rotation == .unknown ? PhaseRotation.l1l2l3 : model.rotation
            let phases = rotation.gridPhases(terminalCount: terminals)
            demandBySet[phases.rawValue, default: 0] += wants
            demand += phases.currents(wants)
        }
        var room = PhaseCurrents.zero
        var scarce = false
        for phase in GridPhase.allCases {
            room[phase] = max(0, limit[phase] - reading.building[phase] - site.margin)
            if demand[phase] > room[phase] + 0.5 { scarce = true }
        }
        let possible = Self.mostDeliverable(demandBySet, room: room)
        let deliveredNow = delivered.sum * voltage / 3600
        let possibleNow = possible * voltage / 3600
        deliveredWh += deliveredNow
        possibleWh += possibleNow
        if scarce {
            scarceSeconds += 1
            scarceDeliveredWh += deliveredNow
            scarcePossibleWh += possibleNow
        }

        // Messages and pauses.
        let readingByID = Dictionary(reading.chargers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for command in commands {
            messages.append(
                SimulationMessage(
                    time: time,
                    charger: command.chargerID,
                    current: command.current,
                    kind: command.kind,
                    steady: steady
                )
            )
            let chargerReading = readingByID[command.chargerID]
            if command.current == 0, let vehicle = chargerReading?.vehicle, (chargerReading?.acceptance ?? 0) > 0,
                openPauses[command.chargerID] == nil
            {
                openPauses[command.chargerID] = (vehicle, time)
            } else if command.current > 0, let open = openPauses[command.chargerID] {
                pauses.append(
                    SimulationPause(
                        charger: command.chargerID,
                        vehicle: open.vehicle,
                        start: open.start,
                        end: time,
                        endedBy: .restarted
                    )
                )
                openPauses[command.chargerID] = nil
            }
        }
        for (id, open) in openPauses where readingByID[id]?.vehicle != open.vehicle {
            pauses.append(
                SimulationPause(charger: id, vehicle: open.vehicle, start: open.start, end: time, endedBy: .departed)
            )
            openPauses[id] = nil
        }

        samples.append(
            SimulationSample(
                time: time,
                measurement: allocation.measurement,
                limit: limit,
                grid: reading.grid,
                building: reading.building,
                buildingEstimate: allocation.buildingLoad,
                allocation: allocation.chargers.map(\.current),
                sent: scenario.chargers.map { sent[$0.id]?.current ?? 0 },
                draw: reading.chargers.map { $0.terminals.maximum }
            )
        )
        lastPlant = plant
    }

    var lastPlant: SitePlant?

    /// The most current (summed over phases) the cars present could draw within `room` per phase:
    /// cars grouped by the set of grid phases they load, bigger sets served first. Serving a
    /// three-phase car before one-phase cars never loses anything (a unit it takes from a phase
    /// gives as much as a one-phase car would), so this is exact for one- and three-phase cars;
    /// with two-phase cars it is a lower bound.
    static func mostDeliverable(_ demand: [UInt8: Double], room: PhaseCurrents) -> Double {
        var room = room
        var total = 0.0
        for (raw, wants) in demand.sorted(by: { ($0.key.nonzeroBitCount, $0.key) > ($1.key.nonzeroBitCount, $1.key) }) {
            let phases = PhaseSet(rawValue: raw)
            let take = min(wants, phases.phases.map { room[$0] }.min() ?? 0)
            guard take > 0 else { continue }
            for phase in phases.phases { room[phase] -= take }
            total += take * Double(phases.count)
        }
        return total
    }

    mutating func result() -> SimulationResult {
        let end = scenario.duration
        for (id, open) in openPauses.sorted(by: { $0.key < $1.key }) {
            pauses.append(
                SimulationPause(
                    charger: id,
                    vehicle: open.vehicle,
                    start: open.start,
                    end: end,
                    endedBy: .simulationEnded
                )
            )
        }
        openPauses = [:]
        let vehicles = lastPlant?.vehicles ?? scenario.vehicles
        let evs = vehicles.map { vehicle in
            SimulationSummary.VehicleSummary(
                id: vehicle.id,
                charger: vehicle.charger,
                priority: chargerByID[vehicle.charger]?.priority ?? 0,
                arrive: vehicle.arrive,
                depart: vehicle.depart,
                energyRequestedWh: vehicle.energyRequested,
                energyDeliveredWh: vehicle.energyDelivered
            )
        }

        // Fairness among cars of equal priority present over the same interval.
        struct GroupKey: Hashable {
            var priority: Int
            var arrive: Double
            var depart: Double
        }
        var groups = [GroupKey: [SimulationSummary.VehicleSummary]]()
        for ev in evs {
            groups[GroupKey(priority: ev.priority, arrive: ev.arrive, depart: min(ev.depart, end)), default: []].append(
                ev
            )
        }
        var fairness = [SimulationSummary.FairnessGroup]()
        for (key, members) in groups where members.count >= 2 {
            let ratios = members.map { min(1, $0.energyDeliveredWh / $0.energyRequestedWh) }
            guard let jain = jainIndex(ratios) else { continue }
            fairness.append(
                SimulationSummary.FairnessGroup(
                    priority: key.priority,
                    arrive: key.arrive,
                    depart: key.depart,
                    evs: members.map(\.id),
                    jain: jain
                )
            )
        }
        fairness.sort { ($0.priority, $0.arrive, $0.depart) < ($1.priority, $1.arrive, $1.depart) }

        // Limit messages per charger and clock hour.
        var perCharger = [String: Int]()
        var perHour = [String: Int]()
        var perHourSteady = [String: Int]()
        for message in messages {
            perCharger[message.charger, default: 0] += 1
            let bucket = "\(message.charger)#\(Int(message.time / 3600))"
            perHour[bucket, default: 0] += 1
            if message.steady { perHourSteady[bucket, default: 0] += 1 }
        }
        let restartedPauses = pauses.filter { $0.endedBy == .restarted }

        let summary = SimulationSummary(
            scenario: scenario.name,
            durationSeconds: end,
            overloadAmpSeconds: overloadAmpSeconds,
            maxOverloadSeconds: maxOverloadRun,
            limitExceededAmpSeconds: excessAmpSeconds,
            maxLimitExceededSeconds: maxExcessRun,
            maxPhaseCurrent: maxPhaseCurrent,
            energyDeliveredWh: deliveredWh,
            energyRequestedWh: vehicles.reduce(0) { $0 + $1.energyRequested },
            evs: evs,
            headroomUsed: possibleWh > 0 ? deliveredWh / possibleWh : nil,
            headroomUsedScarce: scarcePossibleWh > 0 ? scarceDeliveredWh / scarcePossibleWh : nil,
            scarceSeconds: scarceSeconds,
            jainFairness: fairness.map(\.jain).min(),
            fairnessGroups: fairness,
            limitMessages: SimulationSummary.LimitMessages(
                total: messages.count,
                maxPerChargerPerHour: perHour.values.max() ?? 0,
                maxPerChargerPerHourSteady: perHourSteady.values.max() ?? 0,
                perCharger: perCharger
            ),
            pauses: SimulationSummary.Pauses(
                count: pauses.count,
                shortestSeconds: restartedPauses.map(\.duration).min(),
                minimumPauseTime: scenario.settings.minimumPauseTime
            ),
            settings: SimulationSummary.Settings(
                site: scenario.site,
                allocation: scenario.settings,
                dispatch: scenario.dispatch,
                plant: scenario.plant,
                steadyAfter: steadyAfter
            )
        )
        return SimulationResult(
            summary: summary,
            chargerIDs: scenario.chargers.map(\.id),
            samples: samples,
            messages: messages,
            pauses: pauses
        )
    }
}
