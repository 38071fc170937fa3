/// Which inputs saw at least one edge since the last observation.
public struct InputEdges: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let input1 = InputEdges(rawValue: 1 << 0)
    public static let input2 = InputEdges(rawValue: 1 << 1)

    func contains(index: Int) -> Bool { contains(index == 0 ? .input1 : .input2) }
}

/// Software debounce of the two ripple-control inputs: a level counts only once it has held,
/// without any edge, for the debounce interval.
///
/// A pure state machine driven by the GPIO adapter, which calls ``observe(_:edges:at:)`` with the
/// levels it re-read after waking up (events, or the ``deadline``) and the edges it drained. Times
/// are offsets on one monotonic clock.
///
/// Per input, with `stable` the debounced level:
/// - a level equal to `stable`, with no edge, cancels a pending change;
/// - an edge restarts the wait: the level read after it must hold for the whole interval (contact
///   bounce, or a pulse shorter than one wake-up, never reaches `stable`);
/// - a level different from `stable` becomes `stable` once it has been read, without edges in
///   between, for at least `interval`. With a zero interval it is taken at once.
public struct InputDebouncer: Sendable, Equatable {
    /// How long a new level must hold.
    public let interval: Duration
    /// The debounced state.
    public private(set) var state: DigitalInputState
    private var pending: [Pending?] = [nil, nil]

    private struct Pending: Sendable, Equatable {
        var level: Bool
        var since: Duration
    }

    /// - Parameters:
    ///   - initial: The levels read when the inputs were opened, taken as debounced.
    ///   - interval: How long a new level must hold; negative values count as zero.
    public init(initial: DigitalInputState, interval: Duration) {
        self.state = initial
        self.interval = max(interval, .zero)
    }

    /// When the adapter must observe again to confirm a pending change, or `nil` if none is pending.
    public var deadline: Duration? {
        pending.compactMap { $0.map { $0.since + interval } }.min()
    }

    /// Takes the levels read at `now` and the edges seen since the previous observation.
    ///
    /// - Returns: The new debounced state if it changed, else `nil`.
    public mutating func observe(
        _ levels: DigitalInputState,
        edges: InputEdges = [],
        at now: Duration
    ) -> DigitalInputState? {
        let before = state
        for index in 0..<2 {
            let level = levels[index]
            if level == state[index] {
                pending[index] = nil
                continue
            }
            if edges.contains(index: index) || pending[index]?.level != level {
                pending[index] = Pending(level: level, since: now)
            }
            if let waiting = pending[index], now - waiting.since >= interval {
                state[index] = level
                pending[index] = nil
            }
        }
        return state == before ? nil : state
    }
}
