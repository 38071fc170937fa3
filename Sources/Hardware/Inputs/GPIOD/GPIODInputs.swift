import Foundation
import Glibc
public import Logging
import Synchronization

/// The `gpiod` digital inputs: two GPIO lines watched through libgpiod 1.6 (v1 API).
///
/// `init` opens the chip, requests both lines for both-edge events and reads their levels, so a
/// missing chip or line is reported before anything runs. ``run()`` starts a thread that blocks in
/// `poll` on the two lines' event descriptors and a wake-up pipe; after every wake-up it drains the
/// events, re-reads both levels (the level is the truth, events only say *when* to look) and feeds
/// them to an ``InputDebouncer``, waking again at the debouncer's deadline. Debounced changes go to
/// the subscribers of ``states()``. Cancelling the task in `run()` writes to the pipe, the thread
/// ends, and the lines are released when the object goes away.
public actor GPIODInputs: DigitalInputs {
    public nonisolated let configuration: GPIODInputsConfiguration
    private let lines: GPIODLines
    private let logger: Logger
    private var current: DigitalInputState
    private var subscribers = InputStateSubscribers()
    private var running = false

    /// Opens the chip and requests the lines.
    ///
    /// - Throws: ``DigitalInputsError/chipNotFound(chip:reason:)``,
    ///   ``DigitalInputsError/lineNotFound(chip:line:lineCount:)`` or
    ///   ``DigitalInputsError/lineUnavailable(chip:line:reason:)``.
    public init(configuration: GPIODInputsConfiguration, logger: Logger) throws(DigitalInputsError) {
        let lines = try GPIODLines.open(configuration)
        let initial = try lines.readLevels()
        self.current = initial
        self.lines = lines
        self.configuration = configuration
        self.logger = logger
        logger.info(
            "Watching ripple-control inputs",
            metadata: [
                "gpio.chip": "\(configuration.chip)",
                "gpio.lines": "\(configuration.input1),\(configuration.input2)",
                "state": "\(initial)",
            ]
        )
    }

    public var state: DigitalInputState { current }

    public func states() -> AsyncStream<DigitalInputState> {
        subscribers.subscribe(current: current)
    }

    /// Watches the lines until the calling task is cancelled.
    ///
    /// - Throws: ``DigitalInputsError/failed(_:)`` if reading the lines fails,
    ///   ``DigitalInputsError/alreadyRunning`` if called twice at once.
    public func run() async throws(DigitalInputsError) {
        guard !running else { throw .alreadyRunning }
        running = true
        defer { running = false }
        let (events, continuation) = AsyncStream.makeStream(of: Result<DigitalInputState, DigitalInputsError>.self)
        let watcher = try GPIODWatcher(
            lines: lines,
            initial: current,
            debounce: .seconds(configuration.debounce),
            continuation: continuation
        )
        let thread = Thread { watcher.run() }
        thread.name = "loadguard-gpiod"
        thread.start()

        var failure: DigitalInputsError?
        await withTaskCancellationHandler {
            for await event in events {
                switch event {
                case .success(let state):
                    current = state
                    logger.info("Ripple-control inputs changed", metadata: ["state": "\(state)"])
                    subscribers.publish(state)
                case .failure(let error):
                    logger.error("Ripple-control inputs failed", metadata: ["error": "\(error)"])
                    failure = error
                }
            }
        } onCancel: {
            watcher.stop()
        }
        subscribers.finish()
        if let failure { throw failure }
    }
}

/// The body of the watch thread, and the pipe that wakes it for shutdown.
private final class GPIODWatcher: @unchecked Sendable {
    // Only the watch thread touches `lines`; `stop()` only sets the flag and writes to the pipe.
    private let lines: GPIODLines
    private let initial: DigitalInputState
    private let debounce: Duration
    private let continuation: AsyncStream<Result<DigitalInputState, DigitalInputsError>>.Continuation
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let stopped = Atomic<Bool>(false)

    init(
        lines: GPIODLines,
        initial: DigitalInputState,
        debounce: Duration,
        continuation: AsyncStream<Result<DigitalInputState, DigitalInputsError>>.Continuation
    ) throws(DigitalInputsError) {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else {
            throw .failed("cannot create the wake-up pipe: \(GPIODLines.describe(errno: errno))")
        }
        self.lines = lines
        self.initial = initial
        self.debounce = debounce
        self.continuation = continuation
        self.wakeRead = descriptors[0]
        self.wakeWrite = descriptors[1]
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Wakes the thread and makes it end. Any thread, idempotent.
    func stop() {
        if stopped.exchange(true, ordering: .acquiringAndReleasing) == false {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    func run() {
        defer { continuation.finish() }
        let clock = ContinuousClock()
        let start = clock.now
        var debouncer = InputDebouncer(initial: initial, interval: debounce)
        var descriptors = lines.eventDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        descriptors.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
        do {
            // Catch a change between `init` reading the levels and this thread starting.
            if let changed = debouncer.observe(try lines.readLevels(), edges: [], at: clock.now - start) {
                continuation.yield(.success(changed))
            }
            while !stopped.load(ordering: .acquiring) {
                let timeout: Int32
                if let deadline = debouncer.deadline {
                    let remaining = deadline - (clock.now - start)
                    timeout = remaining <= .zero ? 0 : Int32(min(remaining / .milliseconds(1), 60_000).rounded(.up))
                } else {
                    timeout = -1
                }
                for index in descriptors.indices { descriptors[index].revents = 0 }
                let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
                if ready < 0 {
                    if errno == EINTR { continue }
                    throw DigitalInputsError.failed("waiting for GPIO events: \(GPIODLines.describe(errno: errno))")
                }
                if stopped.load(ordering: .acquiring) { return }
                var edges: InputEdges = []
                for index in 0..<2 where descriptors[index].revents != 0 {
                    if try lines.drainEvents(line: index) { edges.insert(index == 0 ? .input1 : .input2) }
                }
                let levels = try lines.readLevels()
                if let changed = debouncer.observe(levels, edges: edges, at: clock.now - start) {
                    continuation.yield(.success(changed))
                }
            }
        } catch let error as DigitalInputsError {
            continuation.yield(.failure(error))
        } catch {
            continuation.yield(.failure(.failed("\(error)")))
        }
    }
}
