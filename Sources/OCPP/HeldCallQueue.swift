public import Foundation

/// A call from the charger kept for the CSMS while the upstream link is down.
public struct HeldCall: Sendable, Hashable, Codable {
    /// The call's message id (the CSMS answers with it).
    public var id: String
    /// The call's action, for logs and for stores that index by action.
    public var action: String
    /// The frame exactly as the charger sent it; it reaches the CSMS as the same bytes.
    public var frame: [UInt8]
    /// `true` if LoadGuard already answered the charger (then the CSMS's answer is consumed, not forwarded).
    public var answeredLocally: Bool
    /// When the call arrived.
    public var heldAt: Date

    public init(id: String, action: String, frame: [UInt8], answeredLocally: Bool, heldAt: Date) {
        self.id = id
        self.action = action
        self.frame = frame
        self.answeredLocally = answeredLocally
        self.heldAt = heldAt
    }
}

/// Where held calls are kept, oldest first. One store per charger.
///
/// The queue only appends at the end, reads the oldest and removes the oldest after the CSMS answered it, so
/// a durable store (a SQLite table with an autoincrement key) implements it with three statements, and a call
/// is removed only after it was delivered: at-least-once delivery across restarts.
public protocol HeldCallStore {
    /// Number of calls kept.
    var count: Int { get }
    /// The oldest call, or `nil` if none is kept.
    func oldest() throws(HeldCallStoreError) -> HeldCall?
    /// Keeps a call after all others.
    mutating func append(_ call: HeldCall) throws(HeldCallStoreError)
    /// Removes the oldest call (no effect if none is kept).
    mutating func removeOldest() throws(HeldCallStoreError)
}

/// A held call could not be kept or read.
public enum HeldCallStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The store is full; the call was not kept.
    case full(capacity: Int)
    /// The storage failed (a durable store's I/O error).
    case storageFailed(operation: String, reason: String)

    public var description: String {
        switch self {
        case .full(let capacity):
            "cannot hold the call for the CSMS: \(capacity) calls are already held for this charger (the limit); "
                + "the CSMS has been unreachable for long, the charger will have to retry"
        case .storageFailed(let operation, let reason):
            "cannot \(operation) a held call: \(reason)"
        }
    }
}

/// Held calls in memory, lost on restart. Bounded by `capacity`.
public struct InMemoryHeldCallStore: HeldCallStore, Sendable {
    private var calls = FIFO<HeldCall>()
    /// The most calls kept at once.
    public let capacity: Int

    public init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    public var count: Int { calls.count }

    public func oldest() -> HeldCall? { calls.first }

    public mutating func append(_ call: HeldCall) throws(HeldCallStoreError) {
        guard calls.count < capacity else { throw .full(capacity: capacity) }
        calls.append(call)
    }

    public mutating func removeOldest() { _ = calls.popFirst() }

    /// Every call kept, oldest first.
    public var all: [HeldCall] { Array(calls.elements) }
}

/// Charger→CSMS calls held while the upstream link is down, delivered in order, one at a time, when it is up.
///
/// A sans-IO state machine over a ``HeldCallStore``. States:
/// - *link down*: ``hold(_:)`` keeps calls; nothing is sent.
/// - *draining*: link up and calls kept: the oldest is in flight towards the CSMS; its answer (matched by id)
///   removes it and sends the next. New charger calls must be held too (``mustHoldNewCalls``) so that they
///   arrive after the older ones and the CSMS never has two of the charger's calls in flight.
/// - *idle*: link up, nothing kept: charger calls are forwarded directly.
///
/// Failure cases:
/// - The link drops while a call is in flight: it stays first and is sent again when the link is back (the
///   CSMS may see it twice: at-least-once, never lost).
/// - The CSMS does not answer within ``Configuration/responseTimeout``: the call is sent again, up to
///   ``Configuration/maximumAttempts`` times, then dropped with ``Action/gaveUp(call:attempts:)`` so that one
///   call the CSMS refuses to answer cannot block the charger's later calls forever.
/// - The store is full: ``hold(_:)`` throws; the proxy then does not answer the charger, which keeps the call
///   and retries by itself.
public struct HeldCallQueue<Store: HeldCallStore> {
    /// Timing of the delivery.
    public struct Configuration: Sendable, Hashable {
        /// Seconds to wait for the CSMS's answer to a delivered call.
        public var responseTimeout: Double
        /// Deliveries of one call (including the first) before it is given up.
        public var maximumAttempts: Int

        public init(responseTimeout: Double = 30, maximumAttempts: Int = 3) {
            self.responseTimeout = responseTimeout
            self.maximumAttempts = max(1, maximumAttempts)
        }
    }

    /// What the I/O layer does.
    public enum Action: Sendable, Hashable {
        /// Send this held call's frame to the CSMS.
        case sendToCSMS(id: String, frame: [UInt8])
        /// Start the response timer; on expiry call ``timerFired(id:)``.
        case startTimer(id: String, seconds: Double)
        /// Cancel the response timer.
        case cancelTimer(id: String)
        /// Send the CSMS's answer to the charger (the call was not answered locally).
        case forwardToCharger(frame: [UInt8])
        /// The CSMS's answer to a call answered locally: consumed (log it).
        case consumeResponse(id: String)
        /// The CSMS did not answer this call after `attempts` deliveries; it was dropped (log it loudly).
        case gaveUp(call: HeldCall, attempts: Int)
    }

    public let configuration: Configuration
    /// The calls kept.
    public private(set) var store: Store
    /// Whether the upstream link is up.
    public private(set) var isLinkUp = false
    private var inFlight: (id: String, attempts: Int)?
    /// Deliveries already made of the oldest call, when it is to be sent again.
    private var pendingAttempts: (id: String, attempts: Int)?

    public init(store: Store, configuration: Configuration = Configuration()) {
        self.store = store
        self.configuration = configuration
    }

    /// Number of calls kept (including the one in flight).
    public var count: Int { store.count }

    /// The id of the held call in flight towards the CSMS.
    public var idInFlight: String? { inFlight?.id }

    /// `true` while new charger calls must be held instead of forwarded: the link is down, or older calls are
    /// still being delivered.
    public var mustHoldNewCalls: Bool { !isLinkUp || store.count > 0 }

    /// Keeps a call; sends it at once if the link is up and nothing else is kept.
    public mutating func hold(_ call: HeldCall) throws(HeldCallStoreError) -> [Action] {
        try store.append(call)
        var actions: [Action] = []
        try sendNextIfIdle(into: &actions)
        return actions
    }

    /// The upstream link is up: start delivering.
    public mutating func linkUp() throws(HeldCallStoreError) -> [Action] {
        isLinkUp = true
        var actions: [Action] = []
        try sendNextIfIdle(into: &actions)
        return actions
    }

    /// The upstream link is down: stop delivering; the call in flight stays first and is sent again later.
    public mutating func linkDown() -> [Action] {
        isLinkUp = false
        guard let (id, attempts) = inFlight else { return [] }
        inFlight = nil
        // A delivery cut off by the link does not count as an attempt the CSMS refused.
        pendingAttempts = (id, max(0, attempts - 1))
        return [.cancelTimer(id: id)]
    }

    /// A response came from the CSMS. Returns `nil` if it does not answer the held call in flight (the proxy
    /// then routes it as usual).
    public mutating func responseReceived(_ frame: [UInt8], envelope: Envelope) throws(HeldCallStoreError)
        -> [Action]?
    {
        guard envelope.messageType == .callResult || envelope.messageType == .callError,
            let (id, _) = inFlight, id == envelope.messageID
        else { return nil }
        let call = try store.oldest()
        try store.removeOldest()
        inFlight = nil
        var actions: [Action] = [.cancelTimer(id: id)]
        if call?.answeredLocally == true {
            actions.append(.consumeResponse(id: id))
        } else {
            actions.append(.forwardToCharger(frame: frame))
        }
        try sendNextIfIdle(into: &actions)
        return actions
    }

    /// The response timer of `id` expired. Timers of calls no longer in flight are ignored.
    public mutating func timerFired(id: String) throws(HeldCallStoreError) -> [Action] {
        guard let (current, attempts) = inFlight, current == id else { return [] }
        inFlight = nil
        var actions: [Action] = []
        if attempts >= configuration.maximumAttempts {
            if let call = try store.oldest() {
                actions.append(.gaveUp(call: call, attempts: attempts))
            }
            try store.removeOldest()
        } else {
            pendingAttempts = (id, attempts)
        }
        try sendNextIfIdle(into: &actions)
        return actions
    }

    private mutating func sendNextIfIdle(into actions: inout [Action]) throws(HeldCallStoreError) {
        guard isLinkUp, inFlight == nil, let call = try store.oldest() else { return }
        let previous = pendingAttempts?.id == call.id ? pendingAttempts?.attempts ?? 0 : 0
        pendingAttempts = nil
        inFlight = (call.id, previous + 1)
        actions.append(.sendToCSMS(id: call.id, frame: call.frame))
        actions.append(.startTimer(id: call.id, seconds: configuration.responseTimeout))
    }
}

extension HeldCallQueue: Sendable where Store: Sendable {}
