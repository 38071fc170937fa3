public import Allocation
import Foundation
public import Logging
import OCPP
public import OCPPProxy

/// The site control loop: measurement, ripple control, API limits and charger traffic in; OCPP
/// charging profiles out.
///
/// Each event (a 1-second meter reading, an input change, an API command, a charger event, a
/// profile answer) updates the state and runs the allocator and its dispatch rules at once, so
/// a reading becomes a `SetChargingProfile` on the wire within one pass of this actor (the
/// sense-to-send time is measured and exported as `loadguard_sense_to_send_seconds`).
///
/// Failure cases: meter silent (the allocator freezes increases after `stale_after` and falls back
/// to the safe budget after `fail_safe_after`); a charger that rejects or does not answer (retried
/// with backoff; accounted at its maximum until a limit is accepted); a CSMS that clears or replaces
/// LoadGuard's profile (installed again at once); an input fault (most restrictive level).
public actor SiteController {
    /// One ripple-control state as seen at the terminals.
    public struct RippleState: Sendable, Equatable, Codable {
        public var input1: Bool
        public var input2: Bool
        public var pattern: String
        public var level: String?
        public var fault: String?
    }

    /// A load-reduction command from the API.
    public struct LimitCommandRecord: Sendable, Equatable, Codable {
        public var source: String
        public var level: String
        /// Amperes per phase this command allows.
        public var current: Double
        public var expiresIn: Double?
    }

    private let configuration: LoadGuardConfiguration
    private let proxy: OCPPProxy
    private var logger: Logger
    private let clockStart = ContinuousClock.now
    private let site: Site
    private var settings: AllocationSettings
    private var records: [String: ChargerRecord] = [:]
    private var installers: [String: ProfileInstaller] = [:]
    private var stackLevels: [String: Int] = [:]
    /// The highest stack level a CSMS used for LoadGuard's purpose on each charger.
    private var csmsStackLevels: [String: Int] = [:]
    private var allocator = SiteAllocator()
    private var dispatcher = LimitDispatcher()
    private var grid: GridReading?
    private var gridReadingArrived: ContinuousClock.Instant?
    private var lastPower: (grid: Double, charging: Double) = (0, 0)
    private var ripple: RippleState
    private var rippleCurrent: PhaseCurrents?
    private var commands: [String: (level: LimitLevel, text: String, expiresAt: Double?)] = [:]
    public private(set) var lastAllocation: Allocation?
    /// A charger report arrived since the last evaluation.
    private var pendingEvaluation = false
    public private(set) var senseToSend: Double?
    /// Count of limits sent, by charger.
    public private(set) var limitsSent: [String: Int] = [:]

    /// LoadGuard's profile id on every charger (a reserved value a CSMS is unlikely to use).
    public static let profileID = 73_840_001
    /// Called each second in simulated mode with what the simulated grid meter must read:
    /// the building load plus what the chargers draw, on grid phases.
    private let simulatedMeter: (@Sendable (PhaseCurrents) async -> Void)?
    private var simulatedBuilding: PhaseCurrents

    public init(
        configuration: LoadGuardConfiguration,
        proxy: OCPPProxy,
        logger: Logger,
        simulatedMeter: (@Sendable (PhaseCurrents) async -> Void)? = nil
    ) {
        self.configuration = configuration
        self.proxy = proxy
        self.logger = logger
        self.site = configuration.site.site
        var settings = AllocationSettings()
        settings.staleAfter = configuration.meter.staleAfter.seconds
        settings.failSafeAfter = configuration.meter.failSafeAfter.seconds
        self.settings = settings
        self.simulatedMeter = simulatedMeter
        let building = configuration.meter.building
        self.simulatedBuilding = PhaseCurrents(l1: building[0], l2: building[1], l3: building[2])
        self.ripple = RippleState(input1: false, input2: false, pattern: "00", level: nil, fault: nil)
        for charger in configuration.chargers {
            records[charger.id] = ChargerRecord(model: charger.model)
            installers[charger.id] = ProfileInstaller()
        }
        let initial = Self.level(for: "00", in: configuration.inputs.levels)
        self.ripple.level = initial?.description
        self.rippleCurrent = initial.map { $0.currents(on: configuration.site.site) }
    }

    /// Seconds since the controller started: the allocator's clock.
    var now: Double {
        let elapsed = ContinuousClock.now - clockStart
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    // MARK: Running

    /// Consumes the proxy's events and ticks each second until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            let events = proxy.events
            group.addTask {
                for await event in events { await self.observed(event) }
            }
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .seconds(1)) } catch { return }
                    await self.tick()
                }
            }
            await group.waitForAll()
        }
    }

    /// Simulated mode: the simulated grid meter reads the building load plus what the chargers draw.
    private func updateSimulatedMeter() async {
        guard let simulatedMeter else { return }
        var load = simulatedBuilding
        if configuration.meter.buildingDayProfile {
            load = load.map { $0 * Self.dayFactor(seconds: now * configuration.demo.speedup) }
        }
        for record in records.values where record.connected {
            load += record.model.rotation.toGrid(record.measured, terminalCount: record.model.terminalCount)
        }
        await simulatedMeter(load)
    }

    private func tick() async {
        await updateSimulatedMeter()
        if pendingEvaluation { evaluate() }
        let time = now
        for (id, var installer) in installers where configuration.site.loadManagement {
            if let limit = installer.tick(now: time) { send(limit, to: id) }
            installers[id] = installer
        }
        evaluate()
    }

    /// A building-load shape over a day: low at night, peaks in the morning and the evening.
    static func dayFactor(seconds: Double) -> Double {
        let hour = (seconds / 3600).truncatingRemainder(dividingBy: 24)
        let morning = exp(-pow((hour - 8) / 2, 2))
        let evening = exp(-pow((hour - 19) / 2.5, 2))
        return 0.5 + 0.6 * morning + 0.8 * evening
    }

    // MARK: Inputs

    /// A 1-second meter reading: per-phase current, signed by the direction of active power.
    public func meterReading(currents: PhaseCurrents, gridPower: Double) {
        grid = GridReading(currents: currents, time: now)
        gridReadingArrived = .now
        lastPower.grid = gridPower
        evaluate()
    }

    /// The ripple-control inputs changed (levels as seen at the terminals).
    public func inputsChanged(input1: Bool, input2: Bool) {
        let nc = configuration.inputs.normallyClosed
        let active1 = input1 != nc[0]
        let active2 = input2 != nc[1]
        let pattern = "\(active1 ? 1 : 0)\(active2 ? 1 : 0)"
        let level = Self.level(for: pattern, in: configuration.inputs.levels)
        applyRipple(
            RippleState(input1: active1, input2: active2, pattern: pattern, level: level?.description, fault: nil),
            level: level
        )
    }

    /// The inputs cannot be read: the most restrictive level applies.
    public func inputsFailed(_ reason: String) {
        let levels = configuration.inputs.levels.values
        let strictest = levels.min {
            $0.current(fuse: site.fuse.l1, nominalVoltage: site.nominalVoltage)
                < $1.current(fuse: site.fuse.l1, nominalVoltage: site.nominalVoltage)
        }
        applyRipple(
            RippleState(
                input1: ripple.input1,
                input2: ripple.input2,
                pattern: "fault",
                level: strictest?.description,
                fault: reason
            ),
            level: strictest ?? .percentOfFuse(0)
        )
    }

    private func applyRipple(_ state: RippleState, level: LimitLevel?) {
        guard state != ripple else { return }
        logger.notice(
            "Ripple-control level changed",
            metadata: [
                "pattern": "\(state.pattern)",
                "level": "\(state.level ?? "none")",
                "previous.level": "\(ripple.level ?? "none")",
                "grid.power.before.w": "\(Int(lastPower.grid.rounded()))",
                "charging.power.before.w": "\(Int(chargingPower.rounded()))",
                "fault": "\(state.fault ?? "none")",
            ]
        )
        ripple = state
        rippleCurrent = level.map { $0.currents(on: site) }
        evaluate()
    }

    static func level(for pattern: String, in levels: [String: LimitLevel]) -> LimitLevel? {
        levels[pattern]
    }

    /// Adds or renews a load-reduction command. Returns the record as stored.
    public func setLimit(source: String, level: LimitLevel, expiresAfter: Double?) -> LimitCommandRecord {
        let expiry = expiresAfter ?? configuration.limits.defaultExpiry.seconds
        commands[source] = (level, level.description, expiry > 0 ? now + expiry : nil)
        logger.notice(
            "Load-reduction command",
            metadata: ["source": "\(source)", "level": "\(level)", "expires.in.s": "\(expiry)"]
        )
        evaluate()
        return limitRecords().first { $0.source == source }!
    }

    /// Removes a command; `false` when there was none with that source.
    public func removeLimit(source: String) -> Bool {
        guard commands.removeValue(forKey: source) != nil else { return false }
        logger.notice("Load-reduction command removed", metadata: ["source": "\(source)"])
        evaluate()
        return true
    }

    public func limitRecords() -> [LimitCommandRecord] {
        let time = now
        return commands.sorted { $0.key < $1.key }.compactMap { source, command in
            if let expiry = command.expiresAt, expiry <= time { return nil }
            return LimitCommandRecord(
                source: source,
                level: command.text,
                current: command.level.current(fuse: site.fuse.l1, nominalVoltage: site.nominalVoltage),
                expiresIn: command.expiresAt.map { $0 - time }
            )
        }
    }

    /// Simulated mode: the building load per phase, amperes.
    public func setSimulatedBuilding(_ load: PhaseCurrents) async {
        simulatedBuilding = load
        await updateSimulatedMeter()
        logger.notice(
            "Simulated building load set",
            metadata: ["l1": "\(load.l1)", "l2": "\(load.l2)", "l3": "\(load.l3)"]
        )
    }

    public func simulatedBuildingLoad() -> PhaseCurrents { simulatedBuilding }

    public func rippleState() -> RippleState { ripple }

    // MARK: Charger traffic

    private func observed(_ observed: ObservedEvent) async {
        apply(observed)
        if case .meterValues = observed.event {
            // The simulated grid meter sees a charger's new draw when it happens, as a real one does.
            await updateSimulatedMeter()
        }
    }

    private func apply(_ observed: ObservedEvent) {
        let id = observed.chargerID
        if records[id] == nil {
            // An unknown charger the proxy accepted: managed with the defaults.
            records[id] = ChargerRecord(model: ChargerSection(id: id).model)
            installers[id] = ProfileInstaller()
        }
        let time = now
        records[id]?.apply(observed.event, now: time, nominalVoltage: site.nominalVoltage)
        var charger = logger
        charger[metadataKey: "charger.id"] = "\(id)"
        switch observed.event {
        case .connected:
            dispatcher.forget(id)
            installers[id]?.disconnected()
            readStackLevel(of: id)
        case .disconnected:
            installers[id]?.disconnected()
            dispatcher.forget(id)
        case .boot(let info):
            charger.info("Charger booted", metadata: ["vendor": "\(info.vendor)", "model": "\(info.model)"])
            dispatcher.forget(id)
            reinstall(id, because: "boot")
        case .chargingProfileClearedByCSMS(let clear) where clear.accepted:
            if clearRemovesOurs(clear, chargerID: id) {
                charger.notice("CSMS cleared LoadGuard's charging profile; installing it again")
                reinstall(id, because: "cleared by the CSMS")
            }
        case .chargingProfileSetByCSMS(let set) where set.accepted:
            if set.profileID == Self.profileID {
                charger.notice("CSMS replaced LoadGuard's charging profile; installing it again")
                reinstall(id, because: "replaced by the CSMS")
            } else if set.purpose == ourPurpose(for: id), set.outlet.id == 0 || strategy(for: id) == .txdefault,
                set.stackLevel >= stackLevel(for: id)
            {
                // Of one purpose the highest stack level wins: LoadGuard's limit moves above the
                // CSMS's profile (it stays a ceiling, the CSMS's lower limits still apply elsewhere).
                csmsStackLevels[id] = max(csmsStackLevels[id] ?? 0, set.stackLevel)
                charger.notice(
                    "CSMS profile overrides LoadGuard's limit; installing it one stack level higher",
                    metadata: ["csms.stack.level": "\(set.stackLevel)", "stack.level": "\(stackLevel(for: id))"]
                )
                reinstall(id, because: "overridden by the CSMS")
            }
        case .meterValues, .status:
            // Frequent on a large site (one per charger per meter interval): the next meter
            // window (within 200 ms) or the 1-second tick picks the change up, so a site with a
            // thousand chargers does not run the allocator a thousand times a second.
            pendingEvaluation = true
            return
        default:
            break
        }
        evaluate()
    }

    private func clearRemovesOurs(_ clear: ProfileCleared, chargerID: String) -> Bool {
        if let profileID = clear.profileID { return profileID == Self.profileID }
        if let purpose = clear.purpose, purpose != ourPurpose(for: chargerID) { return false }
        if let level = clear.stackLevel, level != stackLevel(for: chargerID) { return false }
        if let outlet = clear.outlet, outlet.id != 0, strategy(for: chargerID) != .txdefault { return false }
        return true
    }

    private func reinstall(_ id: String, because reason: String) {
        guard configuration.site.loadManagement, var installer = installers[id] else { return }
        if let limit = installer.invalidate(now: now) { send(limit, to: id) }
        installers[id] = installer
    }

    // MARK: Allocation

    private var chargingPower: Double {
        records.values.reduce(0) { sum, record in
            sum + (0..<record.model.terminalCount).reduce(0) { $0 + record.measured[$1] } * site.nominalVoltage
        }
    }

    /// Builds the allocator's state, allocates, and sends what the dispatch rules say.
    private func evaluate() {
        pendingEvaluation = false
        let time = now
        commands = commands.filter { _, command in command.expiresAt.map { $0 > time } ?? true }
        let managed = records.values.filter { $0.connected || $0.lastReport != nil }
            .sorted { $0.model.id < $1.model.id }
        var chargers: [ChargerState] = []
        for record in managed {
            var state = record.allocatorState(now: time)
            if installers[record.model.id]?.isInstalled != true && record.connected {
                // No limit accepted yet: the charger may draw up to its maximum.
                state.appliedLimit = nil
            }
            chargers.append(state)
        }
        var capLimit: PhaseCurrents?
        if let cap = configuration.site.cap { capLimit = cap.currents(on: site) }
        // A charger that rejected its limit or did not answer may draw up to its maximum: what it
        // could add to its present draw is kept free until it accepts a limit.
        var reserve = PhaseCurrents.zero
        for record in managed where record.connected {
            guard let installer = installers[record.model.id], installer.failures > 0, !installer.isInstalled else {
                continue
            }
            var headroom = PhaseCurrents.zero
            for index in 0..<record.model.terminalCount {
                headroom[index] = max(0, record.model.maxCurrent - record.measured[index])
            }
            reserve += record.model.rotation.toGrid(headroom, terminalCount: record.model.terminalCount)
        }
        if reserve != .zero {
            let base = capLimit ?? site.fuse
            capLimit = PhaseCurrents(
                l1: max(0, base.l1 - reserve.l1),
                l2: max(0, base.l2 - reserve.l2),
                l3: max(0, base.l3 - reserve.l3)
            )
        }
        let apiCommands = commands.map { source, command in
            APICommand(id: source, maxCurrent: command.level.currents(on: site), expiresAt: command.expiresAt)
        }
        let state = SiteState(
            now: time,
            site: site,
            settings: settings,
            chargers: chargers,
            grid: grid,
            limits: LimitInputs(rippleControl: rippleCurrent, apiCommands: apiCommands, configuredCap: capLimit)
        )
        let allocation = allocator.allocate(state)
        lastAllocation = allocation
        guard configuration.site.loadManagement else { return }
        for command in dispatcher.step(allocation) {
            guard records[command.chargerID]?.connected == true, var installer = installers[command.chargerID] else {
                continue
            }
            if let limit = installer.want(command.current, now: time) { send(limit, to: command.chargerID) }
            installers[command.chargerID] = installer
        }
    }

    // MARK: Sending profiles

    private func strategy(for id: String) -> ProfileStrategy {
        configuration.chargers.first { $0.id == id }?.profile ?? .max
    }

    private func rateUnit(for id: String) -> RateUnit {
        configuration.chargers.first { $0.id == id }?.rateUnit ?? .A
    }

    private func ourPurpose(for id: String) -> String {
        let twoX = records[id]?.version?.isTwoX ?? false
        switch strategy(for: id) {
        case .max: return twoX ? ChargingProfilePurpose.chargingStationMax : ChargingProfilePurpose.chargePointMax
        case .txdefault: return ChargingProfilePurpose.txDefault
        case .external: return ChargingProfilePurpose.chargingStationExternalConstraints
        }
    }

    /// Stack level of LoadGuard's profile: the charger's highest for `txdefault` (above the
    /// CSMS's defaults), 1 otherwise (one profile per purpose).
    private func stackLevel(for id: String) -> Int {
        let base = strategy(for: id) == .txdefault ? (stackLevels[id] ?? 8) : 1
        guard let csms = csmsStackLevels[id] else { return base }
        return max(base, csms + 1)
    }

    private func send(_ limit: Double, to id: String) {
        guard let record = records[id], let version = record.version else { return }
        let phases = record.model.terminalCount
        let chargingLimit: ChargingLimit =
            rateUnit(for: id) == .W
            ? .watts(limit * site.nominalVoltage * Double(phases), numberPhases: phases)
            : .amperes(limit, numberPhases: phases)
        let payload: [UInt8]
        do {
            payload = try Self.profilePayload(
                version: version,
                strategy: strategy(for: id),
                limit: chargingLimit,
                stackLevel: stackLevel(for: id)
            )
        } catch {
            logger.error("Charging profile cannot be encoded", metadata: ["charger.id": "\(id)", "error": "\(error)"])
            return
        }
        limitsSent[id, default: 0] += 1
        if let arrived = gridReadingArrived {
            let elapsed = ContinuousClock.now - arrived
            senseToSend = Double(elapsed.components.attoseconds) * 1e-18 + Double(elapsed.components.seconds)
        }
        let proxy = self.proxy
        Task {
            let result: Result<InjectedCallOutcome, InjectedCallError>
            do {
                result = .success(try await proxy.call(chargerID: id, action: "SetChargingProfile", payload: payload))
            } catch let error as InjectedCallError {
                result = .failure(error)
            } catch {
                result = .failure(.rejected("\(error)"))
            }
            await self.profileAnswered(id: id, limit: limit, result: result)
        }
    }

    private func profileAnswered(id: String, limit: Double, result: Result<InjectedCallOutcome, InjectedCallError>) {
        var log = logger
        log[metadataKey: "charger.id"] = "\(id)"
        let accepted: Bool
        switch result {
        case .success(.result(let payload)):
            let status = Self.status(in: payload)
            accepted = status == "Accepted"
            if accepted {
                log.info("Limit accepted", metadata: ["limit.a": "\(limit)"])
                records[id]?.accepted(limit: limit, now: now)
            } else {
                log.warning(
                    "Limit rejected; retrying with backoff",
                    metadata: ["limit.a": "\(limit)", "status": "\(status ?? "none")"]
                )
            }
        case .success(.callError(let code, let description, _)):
            accepted = false
            log.warning(
                "Limit refused with an error",
                metadata: ["limit.a": "\(limit)", "code": "\(code)", "description": "\(description)"]
            )
        case .success(.timedOut):
            accepted = false
            log.warning("Limit not answered in time; retrying with backoff", metadata: ["limit.a": "\(limit)"])
        case .success(.chargerDisconnected), .failure:
            installers[id]?.disconnected()
            return
        }
        guard var installer = installers[id] else { return }
        if let next = installer.answered(accepted: accepted, now: now) { send(next, to: id) }
        installers[id] = installer
        if !accepted { dispatcher.forget(id) }
        evaluate()
    }

    /// The `status` of a result payload, read leniently (real chargers add fields the schema forbids).
    static func status(in payload: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any] else { return nil }
        return object["status"] as? String
    }

    static func profilePayload(
        version: OCPPVersion,
        strategy: ProfileStrategy,
        limit: ChargingLimit,
        stackLevel: Int
    ) throws -> [UInt8] {
        switch (version, strategy) {
        case (.v16, .txdefault):
            return try Frame.encodePayload(
                OCPP16.SetChargingProfileRequest.txDefaultProfile(
                    connectorID: 0,
                    limit: limit,
                    profileID: profileID,
                    stackLevel: stackLevel,
                    startSchedule: nil
                )
            )
        case (.v16, _):
            return try Frame.encodePayload(
                OCPP16.SetChargingProfileRequest.chargePointMaxProfile(
                    limit: limit,
                    profileID: profileID,
                    stackLevel: stackLevel,
                    startSchedule: nil
                )
            )
        case (_, .txdefault):
            return try Frame.encodePayload(
                OCPP2.SetChargingProfileRequest.txDefaultProfile(
                    evseID: 0,
                    limit: limit,
                    profileID: profileID,
                    stackLevel: stackLevel,
                    startSchedule: Date()
                )
            )
        case (_, .external):
            return try Frame.encodePayload(
                OCPP2.SetChargingProfileRequest.externalConstraints(
                    evseID: 0,
                    limit: limit,
                    profileID: profileID,
                    stackLevel: stackLevel,
                    startSchedule: Date()
                )
            )
        case (_, .max):
            return try Frame.encodePayload(
                OCPP2.SetChargingProfileRequest.chargingStationMaxProfile(
                    limit: limit,
                    profileID: profileID,
                    stackLevel: stackLevel,
                    startSchedule: Date()
                )
            )
        }
    }

    /// Reads the charger's highest stack level (1.6 `ChargeProfileMaxStackLevel`, 2.x
    /// `SmartChargingCtrlr.ProfileStackLevel`) for `txdefault` profiles.
    private func readStackLevel(of id: String) {
        guard configuration.site.loadManagement, strategy(for: id) == .txdefault, let version = records[id]?.version
        else { return }
        let proxy = self.proxy
        Task {
            let payload: [UInt8]
            let action: String
            if version == .v16 {
                action = "GetConfiguration"
                payload = Array("{\"key\":[\"ChargeProfileMaxStackLevel\"]}".utf8)
            } else {
                action = "GetVariables"
                payload = Array(
                    "{\"getVariableData\":[{\"component\":{\"name\":\"SmartChargingCtrlr\"},\"variable\":{\"name\":\"ProfileStackLevel\"}}]}"
                        .utf8
                )
            }
            guard case .result(let result) = try? await proxy.call(chargerID: id, action: action, payload: payload),
                let level = Self.stackLevel(in: result)
            else { return }
            await self.setStackLevel(level, for: id)
        }
    }

    private func setStackLevel(_ level: Int, for id: String) {
        stackLevels[id] = level
        reinstall(id, because: "stack level read")
    }

    static func stackLevel(in payload: [UInt8]) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any] else { return nil }
        if let keys = object["configurationKey"] as? [[String: Any]],
            let value = keys.first(where: { $0["key"] as? String == "ChargeProfileMaxStackLevel" })?["value"] as? String
        {
            return Int(value)
        }
        if let results = object["getVariableResult"] as? [[String: Any]],
            let value = results.first?["attributeValue"] as? String
        {
            return Int(value)
        }
        return nil
    }

    // MARK: Views for the API

    /// Per-charger view: configuration, state from traffic, allocation and its reason.
    public func chargerViews(connected: [ConnectedCharger]) -> [ChargerStatusView] {
        let online = Dictionary(uniqueKeysWithValues: connected.map { ($0.id, $0) })
        let allocation = lastAllocation
        return records.values.sorted { $0.model.id < $1.model.id }.map { record in
            let id = record.model.id
            let allocated = allocation?[id]
            return ChargerStatusView(
                id: id,
                connected: record.connected,
                ocppVersion: record.version?.number,
                remoteAddress: online[id]?.remoteAddress,
                upstreamConnected: online[id]?.upstreamConnected,
                vendor: record.vendor,
                model: record.chargerModel,
                status: record.status.rawValue,
                phases: record.model.phases,
                rotation: record.model.rotation.rawValue,
                draw: [record.measured.l1, record.measured.l2, record.measured.l3],
                measurement: record.measurementSource.rawValue,
                limit: record.acceptedLimit,
                limitInstalled: installers[id]?.isInstalled ?? false,
                allocated: allocated?.current,
                reason: allocated?.reason.rawValue,
                source: allocated?.source.map { "\($0)" },
                nonCompliant: record.nonCompliant,
                transactions: record.transactions.sorted(),
                limitsSent: limitsSent[id] ?? 0
            )
        }
    }
}

/// One charger as `GET /api/v1/chargers` shows it.
public struct ChargerStatusView: Sendable, Codable, Equatable {
    public var id: String
    public var connected: Bool
    public var ocppVersion: String?
    public var remoteAddress: String?
    public var upstreamConnected: Bool?
    public var vendor: String?
    public var model: String?
    public var status: String
    public var phases: Int
    public var rotation: String
    /// Current per terminal (charger L1 L2 L3), amperes.
    public var draw: [Double]
    /// Where the draw comes from: phase_currents, total_current, power, none.
    public var measurement: String
    /// The limit the charger accepted, amperes.
    public var limit: Double?
    public var limitInstalled: Bool
    /// What the allocator gives it now, amperes.
    public var allocated: Double?
    public var reason: String?
    public var source: String?
    public var nonCompliant: Bool
    public var transactions: [String]
    public var limitsSent: Int

    enum CodingKeys: String, CodingKey {
        case id, connected, vendor, model, status, phases, rotation, draw, measurement, limit, allocated, reason,
            source,
            transactions
        case ocppVersion = "ocpp_version"
        case remoteAddress = "remote_address"
        case upstreamConnected = "upstream_connected"
        case limitInstalled = "limit_installed"
        case nonCompliant = "non_compliant"
        case limitsSent = "limits_sent"
    }
}
