import Allocation
import Foundation
import Hardware
public import Logging
import Metering
import NIOCore
import NIOPosix
import OCPP
import OCPPProxy
import ServiceLifecycle
import UnixSignals

/// Builds LoadGuard's services from a validated configuration and runs them until SIGINT/SIGTERM.
///
/// Order of the ServiceGroup (started in order, shut down in reverse): the OCPP proxy, the site
/// controller, the meter, the ripple-control inputs, the REST API, then the demo chargers.
public enum LoadGuardRuntime {
    public static func run(configuration: LoadGuardConfiguration, configFile: String, logger: Logger) async throws {
        var configuration = configuration
        let demoChargers = try DemoChargers.prepare(&configuration)
        let base = (configFile as NSString).deletingLastPathComponent
        let proxyConfiguration = configuration.proxyConfiguration(configFile: configFile)
        var trace: TraceSink?
        if let path = configuration.ocpp.trace {
            trace = try TraceSink(
                path: LoadGuardConfiguration.resolve(path, relativeTo: base),
                redaction: configuration.ocpp.traceRedaction == .none ? .none : .secrets,
                logger: logger
            )
        }
        let proxy = try OCPPProxy(configuration: proxyConfiguration, trace: trace, logger: logger)

        // The meter: simulated (closing the loop over what the chargers report), a recording, or an ADC.
        let simulatedSource: SimulatedSampleSource?
        let makeSource: @Sendable () async throws -> any SampleSource
        switch configuration.meter.source {
        case .simulated:
            var grid = configuration.meter.simulated
            grid.realTime = true
            grid.duration = nil
            if grid.phases.count == 1 { grid.phases = Array(repeating: grid.phases[0], count: 3) }
            for index in grid.phases.indices {
                grid.phases[index].current = configuration.meter.building[index]
                grid.phases[index].phaseAngle = grid.phases[index].phaseAngle
            }
            let source = try SimulatedSampleSource(configuration: grid)
            simulatedSource = source
            makeSource = { source }
        case .recording:
            simulatedSource = nil
            let recording = configuration.meter.recording!
            let path = LoadGuardConfiguration.resolve(recording.file, relativeTo: base)
            makeSource = { PacedSampleSource(inner: try RecordingSampleSource(path: path)) }
        case .iio:
            simulatedSource = nil
            let iio = configuration.meter.iio!
            makeSource = { try IIOSampleSource(configuration: iio, logger: logger) }
        }
        let controller = SiteController(
            configuration: configuration,
            proxy: proxy,
            logger: logger,
            simulatedMeter: simulatedSource.map { source in
                { @Sendable load in await source.setLoad(l1: load.l1, l2: load.l2, l3: load.l3) }
            }
        )
        let meterState = MeterState()
        let store = RegisterStore(
            directory: LoadGuardConfiguration.resolve(configuration.store.directory, relativeTo: base)
        )

        // Ripple-control inputs.
        let inputs: any DigitalInputs
        var simulatedInputs: SimulatedDigitalInputs?
        switch configuration.inputs.source {
        case .simulated:
            let simulated = SimulatedDigitalInputs()
            simulatedInputs = simulated
            inputs = simulated
        case .gpiod:
            inputs = try GPIODInputs(configuration: configuration.inputs.gpiod!, logger: logger)
        }

        var services: [any Service] = [
            ProxyService(proxy: proxy, trace: trace),
            ControllerService(controller: controller),
            MeterService(
                makeSource: makeSource,
                calibration: configuration.meter.calibration,
                controller: controller,
                state: meterState,
                store: store,
                logger: logger
            ),
            InputsService(inputs: inputs, controller: controller, logger: logger),
        ]
        if let listen = configuration.api.listen {
            services.append(
                LoadGuardAPI.application(
                    listen: listen.host,
                    port: listen.port,
                    token: configuration.api.token,
                    publicRead: configuration.api.publicRead,
                    context: .init(
                        proxy: proxy,
                        controller: controller,
                        meter: meterState,
                        simulatedInputs: simulatedInputs,
                        simulatedMeter: simulatedSource != nil,
                        metrics: LoadGuardMetrics()
                    ),
                    logger: logger
                )
            )
        }
        if let demo = try DemoChargers.service(chargers: demoChargers, configuration: configuration, logger: logger) {
            services.append(demo)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// Plays a finite source at the pace of its sample clock, so a recording behaves like a meter.
actor PacedSampleSource: SampleSource {
    let inner: any SampleSource
    nonisolated let sampleRate: Double
    nonisolated let channelCount: Int
    private var start: ContinuousClock.Instant?

    init(inner: any SampleSource) {
        self.inner = inner
        self.sampleRate = inner.sampleRate
        self.channelCount = inner.channelCount
    }

    func nextBlock() async throws -> SampleBlock? {
        guard let block = try await inner.nextBlock() else { return nil }
        let start = self.start ?? .now
        self.start = start
        let due = start + .seconds(Double(block.firstSample + UInt64(block.count)) / block.sampleRate)
        try await Task.sleep(until: due, clock: .continuous)
        return block
    }
}
