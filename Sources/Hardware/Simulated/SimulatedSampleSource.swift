/// The `simulated` meter backend: a ``GridSignalModel`` delivered as a ``SampleSource``.
///
/// The load follows the configured script and can be changed at run time with
/// ``setLoad(l1:l2:l3:)`` (the API does this from another task); a change takes effect at the
/// next block. With `real_time: true` each block is delivered when its last sample would have been
/// taken by a real ADC, measured from the first call to ``nextBlock()``; otherwise as fast as asked.
public actor SimulatedSampleSource: SampleSource {
    public nonisolated let sampleRate: Double
    public nonisolated let channelCount: Int
    private var model: GridSignalModel
    private let blockSize: Int
    private let endSample: UInt64?
    private let realTime: Bool
    private var startedAt: ContinuousClock.Instant?

    public init(configuration: SimulatedGridConfiguration) throws(SimulatedGridConfigurationError) {
        model = try GridSignalModel(configuration: configuration)
        sampleRate = configuration.sampleRate
        channelCount = configuration.sampleNeutral ? 7 : 6
        blockSize = configuration.blockSize
        realTime = configuration.realTime
        endSample = configuration.duration.map { UInt64(($0 * configuration.sampleRate).rounded()) }
    }

    /// Sets the fundamental RMS current of each phase (amperes, primary side) from the next block on.
    public func setLoad(l1: Double, l2: Double, l3: Double) {
        model.setLoad(currents: [l1, l2, l3])
    }

    /// Sets the currents and the angles (degrees, current lagging voltage) of each phase.
    public func setLoad(currents: [Double], phaseAngles: [Double]) {
        model.setLoad(currents: currents, phaseAngles: phaseAngles)
    }

    /// What a perfect meter would read on each phase now.
    public func truth() -> [GridSignalModel.PhaseTruth] {
        (0..<3).map { model.truth(phase: $0) }
    }

    public func nextBlock() async throws -> SampleBlock? {
        var count = blockSize
        if let endSample {
            guard model.nextSample < endSample else { return nil }
            count = Int(min(UInt64(count), endSample - model.nextSample))
        }
        if realTime {
            let clock = ContinuousClock()
            let start = startedAt ?? clock.now
            startedAt = start
            let due = Double(model.nextSample + UInt64(count)) / sampleRate
            do {
                try await clock.sleep(until: start.advanced(by: .seconds(due)))
            } catch {
                throw SampleSourceError.cancelled
            }
        } else if Task.isCancelled {
            throw SampleSourceError.cancelled
        }
        return model.nextBlock(count: count)
    }
}
