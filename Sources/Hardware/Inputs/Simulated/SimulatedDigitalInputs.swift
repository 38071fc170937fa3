/// The `simulated` digital inputs: levels set at run time (by the REST API, the simulator or a
/// test) instead of read from GPIO lines. No debounce: every change that ``set(input1:input2:)``
/// makes is published at once.
public actor SimulatedDigitalInputs: DigitalInputs {
    private var current: DigitalInputState
    private var subscribers = InputStateSubscribers()

    public init(initial: DigitalInputState = .inactive) {
        current = initial
    }

    public var state: DigitalInputState { current }

    public func states() -> AsyncStream<DigitalInputState> {
        subscribers.subscribe(current: current)
    }

    /// Sets one or both inputs; `nil` leaves an input as it is. Publishes the new state if it changed.
    ///
    /// - Returns: The state after the change.
    @discardableResult
    public func set(input1: Bool? = nil, input2: Bool? = nil) -> DigitalInputState {
        var next = current
        if let input1 { next.input1 = input1 }
        if let input2 { next.input2 = input2 }
        if next != current {
            current = next
            subscribers.publish(next)
        }
        return current
    }

    /// Waits until the calling task is cancelled, then ends the streams. Never throws.
    public func run() async throws {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
        subscribers.finish()
    }
}
