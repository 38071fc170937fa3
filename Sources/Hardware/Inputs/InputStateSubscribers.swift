/// The subscribers of a ``DigitalInputs`` backend: each gets the state at subscription, then every
/// published change, until ``finish()``. Owned by the backend's actor.
struct InputStateSubscribers {
    private var continuations: [Int: AsyncStream<DigitalInputState>.Continuation] = [:]
    private var nextID = 0
    /// Whether the backend has stopped: later subscribers get the last state and an ended stream.
    private(set) var isFinished = false

    /// A stream that starts with `current`. Keeps the newest 16 states if its reader lags.
    mutating func subscribe(current: DigitalInputState) -> AsyncStream<DigitalInputState> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: DigitalInputState.self,
            bufferingPolicy: .bufferingNewest(16)
        )
        continuation.yield(current)
        if isFinished {
            continuation.finish()
        } else {
            continuations[nextID] = continuation
            nextID += 1
        }
        return stream
    }

    /// Hands `state` to every subscriber, forgetting those whose stream has ended.
    mutating func publish(_ state: DigitalInputState) {
        for (id, continuation) in continuations {
            if case .terminated = continuation.yield(state) {
                continuations[id] = nil
            }
        }
    }

    /// Ends every stream, now and for later subscribers.
    mutating func finish() {
        isFinished = true
        for continuation in continuations.values { continuation.finish() }
        continuations = [:]
    }

    /// Number of live subscribers (for tests and diagnostics).
    var count: Int { continuations.count }
}
