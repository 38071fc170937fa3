import Allocation
import Foundation
import Yams

extension ScenarioFile {
    /// Checks the decoded file and builds the scenario; every error names the file, line and key.
    func scenario(
        file: String,
        root: Node,
        readFile: (String) throws(ScenarioError) -> (String, String)
    ) throws(ScenarioError) -> Scenario {
        func fail(_ path: [any CodingKey], _ message: String) -> ScenarioError {
            let mark = ScenarioLocator.locate(path, in: root)
            return ScenarioError(
                file: file,
                line: mark?.line,
                column: mark?.column,
                key: ScenarioLocator.keyPath(path),
                message: message
            )
        }
        func key(_ text: String) -> any CodingKey { ConfigCodingKey(stringValue: text) }
        func index(_ value: Int) -> any CodingKey { ConfigCodingKey(intValue: value) }

        guard duration.seconds >= 1 else {
            throw fail([key("duration")], "expected at least 1s, found \(duration.seconds) s")
        }
        let length = duration.seconds.rounded(.down)

        // Site and circuits.
        let circuits = (site.circuits ?? []).map { Circuit(id: $0.id, parent: $0.parent, limit: $0.limit.currents) }
        let siteModel = Site(
            fuse: site.fuseCurrent.currents,
            margin: site.margin ?? 2,
            nominalVoltage: site.nominalVoltage ?? 230,
            maxUnbalance: site.maxUnbalance,
            circuits: circuits
        )
        var settings = AllocationSettings()
        allocation?.apply(to: &settings)
        var dispatchSettings = DispatchSettings()
        if let value = dispatch?.settleTime { dispatchSettings.settleTime = value.seconds }
        if let value = dispatch?.increaseFraction {
            guard value > 0, value <= 1 else {
                throw fail([key("dispatch"), key("increase_fraction")], "expected a number in (0, 1], found \(value)")
            }
            dispatchSettings.increaseFraction = value
        }
        if let value = dispatch?.deadband { dispatchSettings.deadband = value }
        if let value = dispatch?.smallGapPersistence { dispatchSettings.smallGapPersistence = value.seconds }
        if let value = dispatch?.withheldDecrease { dispatchSettings.withheldDecrease = value }
        if let value = dispatch?.unusedMargin { dispatchSettings.unusedMargin = value }
        if let value = dispatch?.probeLoanTime { dispatchSettings.probeLoanTime = value.seconds }

        // Chargers.
        var chargerModels = [Charger]()
        for (offset, section) in chargers.enumerated() {
            var rotation = PhaseRotation.l1l2l3
            if let text = section.rotation {
                guard let parsed = PhaseRotation(parsing: text) else {
                    throw fail(
                        [key("chargers"), index(offset), key("rotation")],
                        "expected a rotation such as L1L2L3, L2L3L1, L3L1L2 or unknown, found \"\(text)\""
                    )
                }
                rotation = parsed
            }
            chargerModels.append(
                Charger(
                    id: section.id,
                    phases: section.phases ?? 3,
                    rotation: rotation,
                    minCurrent: section.minCurrent ?? 6,
                    maxCurrent: section.maxCurrent ?? 16,
                    priority: section.priority ?? 0,
                    circuit: section.circuit
                )
            )
        }
        do {
            try siteModel.validate(chargers: chargerModels, settings: settings)
        } catch {
            var path: [any CodingKey] = [key("site")]
            switch error {
            case .invalidPhaseCount(let id, _), .minimumAboveMaximum(let id, _, _), .duplicateCharger(let id):
                if let offset = chargerModels.lastIndex(where: { $0.id == id }) {
                    path = [key("chargers"), index(offset)]
                }
            case .unknownCircuit(_, let referencedBy):
                if referencedBy.hasPrefix("charger "),
                    let offset = chargerModels.firstIndex(where: { "charger \($0.id)" == referencedBy })
                {
                    path = [key("chargers"), index(offset), key("circuit")]
                } else {
                    path = [key("site"), key("circuits")]
                }
            case .duplicateCircuit, .circuitCycle:
                path = [key("site"), key("circuits")]
            case .runTimeAboveRotation:
                path = [key("allocation")]
            case .invalidValue(let name, _, _):
                if name.hasPrefix("charger ") {
                    let id = name.dropFirst("charger ".count).split(separator: " ").first.map(String.init)
                    if let offset = chargerModels.firstIndex(where: { $0.id == id }) {
                        path = [key("chargers"), index(offset)]
                    }
                }
            }
            throw fail(path, error.description)
        }
        let chargerByID = Dictionary(chargerModels.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

        // Cars.
        var vehicles = [SitePlant.Vehicle]()
        for (offset, section) in evs.enumerated() {
            let path: [any CodingKey] = [key("evs"), index(offset)]
            guard let charger = chargerByID[section.charger] else {
                throw fail(
                    path + [key("charger")],
                    "expected the id of a charger in `chargers`, found \"\(section.charger)\""
                )
            }
            let arrive = section.arrive?.seconds ?? 0
            let depart = section.depart?.seconds ?? length
            guard depart > arrive else {
                throw fail(
                    path + [key("depart")],
                    "expected a departure after the arrival (\(arrive) s), found \(depart) s"
                )
            }
            guard section.energyWh > 0 else {
                throw fail(path + [key("energy_wh")], "expected a positive energy in Wh, found \(section.energyWh)")
            }
            let phases = section.phases ?? charger.phases
            guard (1...3).contains(phases) else {
                throw fail(path + [key("phases")], "expected 1, 2 or 3, found \(phases)")
            }
            let vehicle = SitePlant.Vehicle(
                id: section.id ?? "ev\(offset + 1)",
                charger: charger.id,
                arrive: arrive,
                depart: depart,
                energyRequested: section.energyWh,
                maxCurrent: section.maxCurrent ?? charger.maxCurrent,
                phases: phases,
                reactionDelay: section.reactionDelay?.seconds ?? 2
            )
            if let clash = vehicles.first(where: {
                $0.charger == vehicle.charger && $0.arrive < vehicle.depart && vehicle.arrive < $0.depart
            }) {
                throw fail(path, "charger \(charger.id) already has \(clash.id) plugged in at that time")
            }
            vehicles.append(vehicle)
        }

        // Ripple-control mapping.
        var mapping: RippleControlMapping?
        var initialInputs = "00"
        if let inputs {
            let levels = try Self.rippleLevels(root: root, file: file)
            mapping = RippleControlMapping(levels: levels)
            initialInputs = inputs.initial ?? String(repeating: "0", count: levels.keys.first?.count ?? 2)
        }

        // Events.
        var scenarioEvents = [ScenarioEvent]()
        for (offset, section) in (events ?? []).enumerated() {
            let path: [any CodingKey] = [key("events"), index(offset)]
            let at = section.at.seconds
            guard at < length else {
                throw fail(path + [key("at")], "expected a time before the end (\(length) s), found \(at) s")
            }
            if let pattern = section.inputs {
                guard let mapping else {
                    throw fail(
                        path + [key("inputs")],
                        "an inputs event needs `inputs.levels` (the ripple-control mapping)"
                    )
                }
                guard mapping.level(for: pattern) != nil else {
                    let known = mapping.levels.keys.sorted().joined(separator: ", ")
                    throw fail(
                        path + [key("inputs")],
                        "expected one of the patterns in inputs.levels (\(known)), found \"\(pattern)\""
                    )
                }
                scenarioEvents.append(ScenarioEvent(at: at, kind: .inputs(pattern)))
            } else if let limit = section.apiLimit {
                scenarioEvents.append(
                    ScenarioEvent(
                        at: at,
                        kind: .apiLimit(
                            id: limit.id ?? "api-\(offset + 1)",
                            level: limit.maxCurrent.level,
                            expiresAfter: limit.expiresAfter?.seconds
                        )
                    )
                )
            } else if let load = section.building {
                scenarioEvents.append(ScenarioEvent(at: at, kind: .building(load.currents)))
            } else if let fault = section.meterFault {
                scenarioEvents.append(ScenarioEvent(at: at, kind: .meterFault(duration: fault.seconds)))
            } else if let offline = section.chargerOffline {
                guard chargerByID[offline.charger] != nil else {
                    throw fail(
                        path + [key("charger_offline"), key("charger")],
                        "expected the id of a charger in `chargers`, found \"\(offline.charger)\""
                    )
                }
                scenarioEvents.append(
                    ScenarioEvent(
                        at: at,
                        kind: .chargerOffline(charger: offline.charger, duration: offline.duration.seconds)
                    )
                )
            }
        }

        // Building load.
        var buildingLoad = BuildingLoad.constant(.zero)
        switch building {
        case .none:
            break
        case .constant(let value):
            buildingLoad = .constant(value.currents)
        case .csv(let path):
            let (fullPath, text) = try readFile(path)
            buildingLoad = .series(try Self.parseBuildingCSV(text, file: fullPath))
        }

        var plant = SitePlant.Settings()
        plant.nominalVoltage = siteModel.nominalVoltage
        return Scenario(
            name: name ?? file.split(separator: "/").last.map(String.init) ?? file,
            duration: length,
            site: siteModel,
            settings: settings,
            dispatch: dispatchSettings,
            plant: plant,
            building: buildingLoad,
            chargers: chargerModels,
            vehicles: vehicles,
            rippleControl: mapping,
            initialInputs: initialInputs,
            events: scenarioEvents
        )
    }

    /// Reads `inputs.levels`: input pattern (text of 0 and 1) → limit level.
    static func rippleLevels(root: Node, file: String) throws(ScenarioError) -> [String: LimitLevel] {
        guard case .mapping(let mapping)? = root["inputs"]?["levels"] else {
            let mark = root["inputs"]?["levels"]?.mark ?? root["inputs"]?.mark
            throw ScenarioError(
                file: file,
                line: mark?.line,
                column: mark?.column,
                key: "inputs.levels",
                message: "expected a mapping of input patterns to levels, such as \"10\": \"60%\""
            )
        }
        var levels = [String: LimitLevel]()
        for (keyNode, valueNode) in mapping {
            let pattern = keyNode.scalar?.string ?? ""
            guard !pattern.isEmpty, pattern.allSatisfy({ $0 == "0" || $0 == "1" }) else {
                throw ScenarioError(
                    file: file,
                    line: keyNode.mark?.line,
                    column: keyNode.mark?.column,
                    key: "inputs.levels",
                    message: "expected an input pattern of 0 and 1 such as \"10\", found \"\(pattern)\""
                )
            }
            let text = valueNode.scalar?.string ?? ""
            let level: LimitLevel
            do throws(LimitLevelError) {
                if let amperes = Double(text) {
                    level = .amperes(amperes)
                } else {
                    level = try LimitLevel(parsing: text)
                }
            } catch {
                throw ScenarioError(
                    file: file,
                    line: valueNode.mark?.line,
                    column: valueNode.mark?.column,
                    key: "inputs.levels.\(pattern)",
                    message: error.description
                )
            }
            levels[pattern] = level
        }
        let lengths = Set(levels.keys.map(\.count))
        guard lengths.count <= 1 else {
            let mark = root["inputs"]?["levels"]?.mark
            throw ScenarioError(
                file: file,
                line: mark?.line,
                column: mark?.column,
                key: "inputs.levels",
                message: "expected patterns of one length (one digit per input), found lengths "
                    + lengths.sorted().map(String.init).joined(separator: " and ")
            )
        }
        return levels
    }

    /// Parses `seconds,l1,l2,l3` rows (a header row and `#` comments are skipped).
    static func parseBuildingCSV(_ text: String, file: String) throws(ScenarioError) -> [BuildingSample] {
        var samples = [BuildingSample]()
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = fields.compactMap(Double.init)
            if samples.isEmpty, numbers.isEmpty { continue }  // header
            guard fields.count == 4, numbers.count == 4 else {
                throw ScenarioError(
                    file: file,
                    line: lineNumber,
                    message: "expected a row of four numbers `seconds,l1,l2,l3`, found \"\(trimmed)\""
                )
            }
            if let last = samples.last, numbers[0] <= last.time {
                throw ScenarioError(
                    file: file,
                    line: lineNumber,
                    message: "expected seconds after \(last.time), found \(numbers[0]); rows must be in time order"
                )
            }
            samples.append(
                BuildingSample(time: numbers[0], load: PhaseCurrents(l1: numbers[1], l2: numbers[2], l3: numbers[3]))
            )
        }
        guard !samples.isEmpty else {
            throw ScenarioError(file: file, message: "expected rows `seconds,l1,l2,l3`, found none")
        }
        return samples
    }
}
