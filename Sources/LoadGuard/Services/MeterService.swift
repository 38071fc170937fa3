import Allocation
import Foundation
public import Hardware
public import Logging
public import Metering
public import ServiceLifecycle

/// What the meter last measured, for the API and the metrics.
public actor MeterState {
    public private(set) var latest: Metering.MeterReading?
    public private(set) var registers = RegisterSnapshot()
    public private(set) var readings = 0
    public private(set) var stale = true
    public private(set) var lastError: String?
    /// Completed 15-minute load-profile intervals, oldest first (the last 35 days are kept).
    public private(set) var profile: [LoadProfileInterval] = []
    /// The interval in progress.
    public private(set) var partialInterval: LoadProfileInterval?

    func recordProfile(completed: [LoadProfileInterval], partial: LoadProfileInterval?) {
        profile.append(contentsOf: completed)
        if profile.count > 35 * 96 { profile.removeFirst(profile.count - 35 * 96) }
        partialInterval = partial
    }

    func restoredProfile(_ intervals: [LoadProfileInterval]) { profile = intervals }

    public init() {}

    func update(_ reading: Metering.MeterReading, registers: RegisterSnapshot) {
        latest = reading
        self.registers = registers
        readings += 1
        stale = false
        lastError = nil
    }

    func failed(_ reason: String) {
        stale = true
        lastError = reason
    }

    func restored(_ registers: RegisterSnapshot) { self.registers = registers }
}

/// Energy registers on disk: written atomically (temporary file + rename) at least every 60 s
/// and on shutdown; on start the stored values are merged with a `max`, so the registers are
/// never lower after a restart than before it.
public struct RegisterStore: Sendable {
    public let path: String

    public init(directory: String) {
        self.path = (directory as NSString).appendingPathComponent("registers.json")
    }

    public func load() throws -> RegisterSnapshot? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(RegisterSnapshot.self, from: data)
    }

    var profilePath: String { (path as NSString).deletingLastPathComponent + "/load-profile.json" }

    public func loadProfile() -> [LoadProfileInterval] {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: profilePath)) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return (try? decoder.decode([LoadProfileInterval].self, from: data)) ?? []
    }

    public func saveProfile(_ intervals: [LoadProfileInterval]) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(intervals).write(to: URL(fileURLWithPath: profilePath), options: .atomic)
    }

    public func save(_ snapshot: RegisterSnapshot) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(snapshot).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// Runs the sample source through the measurement engine: one reading per second to the site
/// controller and the ``MeterState``; registers persisted.
///
/// Failure cases: the source throws (stale, unavailable) → logged as "Meter stale", the
/// controller's measurement goes stale by itself (no readings), and the source is opened again
/// with backoff (2 s doubling to 30 s).
public struct MeterService: Service {
    let makeSource: @Sendable () async throws -> any SampleSource
    let calibration: MeterCalibration
    let controller: SiteController
    let state: MeterState
    let store: RegisterStore?
    let logger: Logger

    public init(
        makeSource: @escaping @Sendable () async throws -> any SampleSource,
        calibration: MeterCalibration,
        controller: SiteController,
        state: MeterState,
        store: RegisterStore?,
        logger: Logger
    ) {
        self.makeSource = makeSource
        self.calibration = calibration
        self.controller = controller
        self.state = state
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        var engine = try MeteringEngine(calibration: calibration)
        if let store {
            do {
                if let saved = try store.load() {
                    engine.restore(saved)
                    await state.restored(engine.registers)
                    logger.info(
                        "Energy registers restored",
                        metadata: ["import.wh": "\(engine.registers.values.total.activeImportWh)"]
                    )
                }
            } catch {
                logger.error(
                    "Energy registers cannot be read; starting from the stored file is impossible",
                    metadata: ["path": "\(store.path)", "error": "\(error)"]
                )
                throw error
            }
        }
        if let store { await state.restoredProfile(store.loadProfile()) }
        let finalRegisters = await cancelWhenGracefulShutdown { [engine] in
            await self.measure(engine: engine)
        }
        save(finalRegisters)
        await saveProfile()
    }

    /// Reads blocks until cancelled; returns the registers at the end.
    private func measure(engine: MeteringEngine) async -> RegisterSnapshot {
        var engine = engine
        var recorder = LoadProfileRecorder(timeZone: .current)
        var lastWindowEnd = -Double.infinity
        var delay = 2.0
        var lastSaved = ContinuousClock.now
        while !Task.isCancelled {
            do {
                let source = try await makeSource()
                while let block = try await source.nextBlock() {
                    if Task.isCancelled { break }
                    let readings = engine.process(block)
                    // The control loop gets every 10-cycle window (200 ms at 50 Hz) as soon as it
                    // ends, so a load step reaches the allocator within a window, not a second.
                    if let window = engine.recentWindows.last, window.locked, window.end > lastWindowEnd {
                        lastWindowEnd = window.end
                        await controlReading(window.phases)
                    }
                    for reading in readings {
                        await deliver(reading, registers: engine.registers)
                        let completed = recorder.record(engine.registers, at: Date())
                        await state.recordProfile(completed: completed, partial: recorder.partialInterval())
                        delay = 2
                    }
                    if ContinuousClock.now - lastSaved >= .seconds(60) {
                        save(engine.registers)
                        await saveProfile()
                        lastSaved = .now
                    }
                }
                if Task.isCancelled { break }
                logger.notice("Meter source ended; opening it again")
            } catch {
                if Task.isCancelled { break }
                logger.warning("Meter stale", metadata: ["error": "\(error)", "retry.in.s": "\(delay)"])
                await state.failed("\(error)")
                try? await Task.sleep(for: .seconds(delay))
                delay = min(30, delay * 2)
            }
        }
        return engine.registers
    }

    private func deliver(_ reading: Metering.MeterReading, registers: RegisterSnapshot) async {
        await state.update(reading, registers: registers)
        await controlReading(reading.phases)
    }

    /// Per-phase current signed by the direction of active power, to the control loop.
    private func controlReading(_ phases: [PhaseReading]) async {
        var currents = PhaseCurrents.zero
        var power = 0.0
        for (index, phase) in phases.prefix(3).enumerated() {
            currents[index] = phase.activePower < 0 ? -phase.current : phase.current
            power += phase.activePower
        }
        await controller.meterReading(currents: currents, gridPower: power)
    }

    private func saveProfile() async {
        guard let store else { return }
        do {
            try store.saveProfile(await state.profile)
        } catch {
            logger.error(
                "Load profile cannot be saved",
                metadata: ["path": "\(store.profilePath)", "error": "\(error)"]
            )
        }
    }

    private func save(_ registers: RegisterSnapshot) {
        guard let store else { return }
        do {
            try store.save(registers)
        } catch {
            logger.error("Energy registers cannot be saved", metadata: ["path": "\(store.path)", "error": "\(error)"])
        }
    }
}

/// Runs the ripple-control inputs and tells the controller about every change; a failing input
/// backend means the most restrictive level.
public struct InputsService: Service {
    let inputs: any DigitalInputs
    let controller: SiteController
    let logger: Logger

    public init(inputs: any DigitalInputs, controller: SiteController, logger: Logger) {
        self.inputs = inputs
        self.controller = controller
        self.logger = logger
    }

    public func run() async throws {
        let inputs = self.inputs
        let controller = self.controller
        let logger = self.logger
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await inputs.run()
                    } catch is CancellationError {
                    } catch {
                        logger.error(
                            "Ripple-control inputs failed: the most restrictive level applies",
                            metadata: ["error": "\(error)"]
                        )
                        await controller.inputsFailed("\(error)")
                    }
                }
                group.addTask {
                    for await state in await inputs.states() {
                        await controller.inputsChanged(input1: state.input1, input2: state.input2)
                    }
                }
                await group.waitForAll()
            }
        }
    }
}

/// The site controller as a service.
public struct ControllerService: Service {
    let controller: SiteController

    public init(controller: SiteController) { self.controller = controller }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await controller.run() }
    }
}
