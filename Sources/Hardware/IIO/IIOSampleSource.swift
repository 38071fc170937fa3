import Foundation
public import Logging

/// The `iio` sample source: an ADC (an ADE9000 or any buffered IIO ADC) through libiio, on this
/// machine (`local:`) or through `iiod` on another (`ip:HOST`).
///
/// States:
/// - **capturing** from `init` on: a dedicated thread owns the libiio buffer, refills it (one block of
///   `buffer_size` samples per channel), converts the codes to sensor values with the configuration's
///   calibration, and hands the block to ``nextBlock()`` through an `AsyncThrowingStream` that keeps
///   the newest 2 s of blocks (older blocks are dropped, with a warning, if the consumer falls that
///   far behind; the sample clock then jumps ahead, so the gap is visible).
/// - **stale**: no block within `refill_timeout`. ``nextBlock()`` throws ``SampleSourceError/stale(seconds:)``.
/// - **failed**: libiio reported any other error (device gone, `iiod` connection lost).
///   ``nextBlock()`` throws ``SampleSourceError/unavailable(_:)``.
/// - **cancelled**: ``cancel()`` was called, the source was released, or the task waiting in
///   ``nextBlock()`` was cancelled. ``nextBlock()`` throws ``SampleSourceError/cancelled``.
///
/// Stale, failed and cancelled are final: the capture thread has ended and every later call throws
/// the same error. To recover, create a new source (a fresh context re-opens the device or the
/// connection). Errors opening the source (context, device, channels, sample rate) are thrown by `init`.
public actor IIOSampleSource: SampleSource {
    public nonisolated let sampleRate: Double
    public nonisolated let channelCount: Int
    /// The configuration the source was opened with.
    public nonisolated let configuration: IIOSourceConfiguration

    private let capture: IIOCapture
    private var blocks: AsyncThrowingStream<SampleBlock, any Error>.Iterator
    private var finalError: SampleSourceError?

    /// Opens the device and starts capturing.
    ///
    /// - Parameters:
    ///   - configuration: Where the ADC is and how its codes become sensor values; validated first.
    ///   - logger: Receives the opening, dropped blocks and the end of the capture.
    /// - Throws: ``SampleSourceError/unavailable(_:)`` for an invalid configuration, an unreachable
    ///   context, a missing device or a sample-rate mismatch; ``SampleSourceError/missingChannel(device:channel:)``
    ///   for a channel the device does not have.
    public init(configuration: IIOSourceConfiguration, logger: Logger) throws(SampleSourceError) {
        do {
            try configuration.validate()
        } catch {
            throw .unavailable("invalid configuration: \(error.description)")
        }
        let capture = try IIOCapture.open(configuration, logger: logger)
        let blockSeconds = Double(configuration.bufferSize) / configuration.sampleRate
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: SampleBlock.self,
            bufferingPolicy: .bufferingNewest(max(2, Int((2 / blockSeconds).rounded(.up))))
        )
        continuation.onTermination = { _ in capture.cancel() }
        let loop = IIOCaptureLoop(
            capture: capture,
            continuation: continuation,
            sampleRate: configuration.sampleRate,
            refillTimeout: configuration.refillTimeout,
            logger: logger
        )
        let thread = Thread { loop.run() }
        thread.name = "loadguard-iio"
        thread.start()

        self.sampleRate = configuration.sampleRate
        self.channelCount = configuration.sampleChannels.count
        self.configuration = configuration
        self.capture = capture
        self.blocks = stream.makeAsyncIterator()
        logger.info(
            "Capturing from IIO device",
            metadata: [
                "iio.device": "\(capture.origin)",
                "sample_rate": "\(configuration.sampleRate)",
                "block_samples": "\(configuration.bufferSize)",
                "channels": "\(configuration.sampleChannels.map { "\($0)=\(configuration.channels[$0]!)" })",
            ]
        )
    }

    deinit {
        capture.cancel()
    }

    /// The next block of sensor values, waiting for the ADC.
    ///
    /// Never returns `nil`: an ADC does not end. Throws ``SampleSourceError`` once the source is
    /// stale, failed or cancelled (see the type's states).
    public func nextBlock() async throws(SampleSourceError) -> SampleBlock? {
        if let finalError { throw finalError }
        do {
            // The iterator wraps shared storage: a copy awaits the same stream.
            var iterator = blocks
            let block = try await iterator.next(isolation: self)
            blocks = iterator
            if let block { return block }
            finalError = .cancelled
        } catch let error as SampleSourceError {
            finalError = error
        } catch {
            finalError = .unavailable("\(capture.origin): \(error)")
        }
        throw finalError!
    }

    /// Stops the capture; a waiting or later ``nextBlock()`` throws ``SampleSourceError/cancelled``.
    /// Safe from any context, idempotent.
    public nonisolated func cancel() {
        capture.cancel()
    }
}

/// The body of the capture thread: refill, convert, hand over, until an error or cancellation.
private struct IIOCaptureLoop: Sendable {
    let capture: IIOCapture
    let continuation: AsyncThrowingStream<SampleBlock, any Error>.Continuation
    let sampleRate: Double
    let refillTimeout: Double
    let logger: Logger

    func run() {
        var nextSample: UInt64 = 0
        var dropping = false
        while true {
            switch capture.refill() {
            case .success(let channels):
                let block = SampleBlock(sampleRate: sampleRate, firstSample: nextSample, channels: channels)
                nextSample += UInt64(block.count)
                switch continuation.yield(block) {
                case .dropped(let oldest):
                    if !dropping {
                        logger.warning(
                            "Sample consumer is more than 2 s behind the ADC; dropping the oldest blocks",
                            metadata: ["iio.device": "\(capture.origin)", "first_sample": "\(oldest.firstSample)"]
                        )
                    }
                    dropping = true
                case .terminated:
                    capture.cancel()
                    return
                default:
                    dropping = false
                }
            case .failure(.cancelled):
                logger.debug("IIO capture cancelled", metadata: ["iio.device": "\(capture.origin)"])
                continuation.finish(throwing: SampleSourceError.cancelled)
                return
            case .failure(.timedOut):
                logger.error(
                    "No samples from the IIO device within the refill timeout: the meter is stale",
                    metadata: ["iio.device": "\(capture.origin)", "refill_timeout": "\(refillTimeout)"]
                )
                continuation.finish(throwing: SampleSourceError.stale(seconds: refillTimeout))
                return
            case .failure(.failed(let errno, let message)):
                logger.error(
                    "IIO capture failed",
                    metadata: ["iio.device": "\(capture.origin)", "error": "\(message)", "errno": "\(errno)"]
                )
                continuation.finish(
                    throwing: SampleSourceError.unavailable("reading \(capture.origin) failed: \(message)")
                )
                return
            }
        }
    }
}
