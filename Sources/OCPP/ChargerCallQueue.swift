/// The queue of calls towards one charger: the CSMS's calls and LoadGuard's injected calls share it, with
/// one call in flight at a time (OCPP-J: a party sends no new CALL before the previous one was answered or
/// timed out).
///
/// A sans-IO state machine: each event returns the actions the I/O layer performs, in order. Time is not
/// read here: the queue asks for timers with ``Action/startTimer(id:seconds:)`` and is told about their expiry
/// with ``timerFired(id:)``.
///
/// Rules:
/// - The CSMS's calls go out in the order they arrived and are never dropped while the charger is connected.
/// - A waiting CSMS call goes before any waiting injected call, so it waits at most for the one call in
///   flight (which may be an injected one) — never behind more than one injected call.
/// - Injected calls go out in the order they were enqueued; at most
///   ``Configuration/maximumQueuedInjectedCalls`` may wait (``ChargerCallQueueError/injectedQueueFull(limit:)``
///   beyond that).
/// - A response (CALLRESULT or CALLERROR) whose id is the call in flight completes it: to the CSMS if the CSMS
///   sent the call, to the injected call's waiter otherwise. Routing is by the queue's record of the call in
///   flight, never by the id's format. Every other response is forwarded to the CSMS unchanged, except a late
///   response to an injected call that timed out, which is consumed.
/// - A CALLRESULTERROR (2.1) answers a CALLRESULT, not a call towards the charger, so it never completes the
///   call in flight; it is forwarded to the CSMS.
/// - A call not answered within ``Configuration/callTimeout`` frees the slot and is reported.
/// - When the charger disconnects, every injected call fails with ``InjectedCallOutcome/chargerDisconnected``
///   and the CSMS's calls are reported abandoned (the CSMS connection of that charger closes too).
///
/// States: *idle* (connected, nothing in flight), *busy* (one call in flight, others may wait),
/// *disconnected* (after ``chargerDisconnected()``, until ``chargerConnected()``).
public struct ChargerCallQueue: Sendable {
    /// Limits of the queue.
    public struct Configuration: Sendable, Hashable {
        /// Seconds a call may stay in flight before it is given up. OCPP suggests the charger answer within a
        /// transport-dependent timeout; 30 s is common in CSMS implementations.
        public var callTimeout: Double
        /// How many injected calls may wait (not counting the one in flight).
        public var maximumQueuedInjectedCalls: Int
        /// How many timed-out injected ids are remembered, so that their late responses are consumed.
        public var rememberedTimedOutCalls: Int

        public init(callTimeout: Double = 30, maximumQueuedInjectedCalls: Int = 16, rememberedTimedOutCalls: Int = 32) {
            self.callTimeout = callTimeout
            self.maximumQueuedInjectedCalls = maximumQueuedInjectedCalls
            self.rememberedTimedOutCalls = rememberedTimedOutCalls
        }
    }

    /// Who sent a call towards the charger.
    public enum Source: Sendable, Hashable {
        case csms
        case controller
    }

    /// A call to send to the charger.
    public enum Call: Sendable, Hashable {
        /// A CALL from the CSMS, forwarded as the same bytes.
        case csms(id: String, frame: [UInt8])
        /// A CALL LoadGuard injects; its id should come from ``InjectedCallIDs``.
        case controller(id: String, frame: [UInt8])

        public var id: String {
            switch self {
            case .csms(let id, _), .controller(let id, _): id
            }
        }

        public var frame: [UInt8] {
            switch self {
            case .csms(_, let frame), .controller(_, let frame): frame
            }
        }

        public var source: Source {
            switch self {
            case .csms: .csms
            case .controller: .controller
            }
        }
    }

    /// What the I/O layer does.
    public enum Action: Sendable, Hashable {
        /// Send this frame to the charger.
        case sendToCharger(id: String, frame: [UInt8])
        /// Start a timer for the call in flight; when it expires call ``timerFired(id:)``.
        case startTimer(id: String, seconds: Double)
        /// Cancel the timer of a call that was answered or given up.
        case cancelTimer(id: String)
        /// Forward this response frame to the CSMS unchanged.
        case forwardToCSMS(frame: [UInt8])
        /// Complete an injected call's waiter.
        case completeInjected(id: String, outcome: InjectedCallOutcome)
        /// A call was not answered in time (log it; for injected calls ``completeInjected(id:outcome:)``
        /// follows).
        case reportTimeout(id: String, source: Source)
        /// A late response to a timed-out injected call arrived; it is consumed (log it).
        case discardLateResponse(id: String)
        /// The charger is gone: these CSMS calls were not answered and will not be.
        case abandonCSMSCalls(ids: [String])
    }

    public let configuration: Configuration
    private var inFlight: Call?
    private var waitingCSMS = FIFO<Call>()
    private var waitingInjected = FIFO<Call>()
    /// Ids of injected calls that timed out, oldest first (bounded).
    private var timedOutInjected: [String] = []
    /// `false` after ``chargerDisconnected()`` until ``chargerConnected()``.
    public private(set) var isConnected = true

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The id and source of the call in flight.
    public var callInFlight: (id: String, source: Source)? {
        inFlight.map { ($0.id, $0.source) }
    }

    /// Number of CSMS calls waiting (not counting the one in flight).
    public var waitingCSMSCount: Int { waitingCSMS.count }
    /// Number of injected calls waiting (not counting the one in flight).
    public var waitingInjectedCount: Int { waitingInjected.count }

    /// Adds a call; sends it at once if nothing is in flight.
    ///
    /// - Throws: for injected calls only: ``ChargerCallQueueError/injectedQueueFull(limit:)``,
    ///   ``ChargerCallQueueError/duplicateID(_:)`` (an injected call with this id is in flight or waiting),
    ///   ``ChargerCallQueueError/chargerDisconnected``. A CSMS call is never refused; while the charger is
    ///   disconnected it is reported abandoned.
    public mutating func enqueue(_ call: Call) throws(ChargerCallQueueError) -> [Action] {
        switch call {
        case .csms(let id, _):
            guard isConnected else { return [.abandonCSMSCalls(ids: [id])] }
            waitingCSMS.append(call)
        case .controller(let id, _):
            guard isConnected else { throw .chargerDisconnected }
            if inFlight?.id == id && inFlight?.source == .controller
                || waitingInjected.contains(where: { $0.id == id })
            {
                throw .duplicateID(id)
            }
            guard waitingInjected.count < configuration.maximumQueuedInjectedCalls else {
                throw .injectedQueueFull(limit: configuration.maximumQueuedInjectedCalls)
            }
            waitingInjected.append(call)
        }
        var actions: [Action] = []
        sendNextIfIdle(into: &actions)
        return actions
    }

    /// A response frame arrived from the charger.
    ///
    /// - Parameters:
    ///   - frame: the frame's bytes, forwarded unchanged where it goes to the CSMS.
    ///   - envelope: its parsed envelope. Frames that are not responses are returned as
    ///     ``Action/forwardToCSMS(frame:)``, like any frame the queue has no business with.
    public mutating func responseReceived(_ frame: [UInt8], envelope: Envelope) -> [Action] {
        let id = envelope.messageID
        let completes = envelope.messageType == .callResult || envelope.messageType == .callError
        guard completes, let call = inFlight, call.id == id else {
            if completes, let index = timedOutInjected.firstIndex(of: id) {
                timedOutInjected.remove(at: index)
                return [.discardLateResponse(id: id)]
            }
            return [.forwardToCSMS(frame: frame)]
        }
        inFlight = nil
        var actions: [Action] = [.cancelTimer(id: id)]
        switch call.source {
        case .csms:
            actions.append(.forwardToCSMS(frame: frame))
        case .controller:
            let details = Array(envelope.payload(of: frame))
            let outcome: InjectedCallOutcome =
                if let error = envelope.error {
                    .callError(code: error.code, description: error.description, details: details)
                } else {
                    .result(payload: details)
                }
            actions.append(.completeInjected(id: id, outcome: outcome))
        }
        sendNextIfIdle(into: &actions)
        return actions
    }

    /// The timer of call `id` expired. A timer of a call no longer in flight is ignored.
    public mutating func timerFired(id: String) -> [Action] {
        guard let call = inFlight, call.id == id else { return [] }
        inFlight = nil
        var actions: [Action] = [.reportTimeout(id: id, source: call.source)]
        if call.source == .controller {
            actions.append(.completeInjected(id: id, outcome: .timedOut))
            timedOutInjected.append(id)
            if timedOutInjected.count > configuration.rememberedTimedOutCalls {
                timedOutInjected.removeFirst(timedOutInjected.count - configuration.rememberedTimedOutCalls)
            }
        }
        sendNextIfIdle(into: &actions)
        return actions
    }

    /// The charger's connection closed: fail every injected call, abandon the CSMS's calls, stop timers.
    public mutating func chargerDisconnected() -> [Action] {
        var actions: [Action] = []
        var abandoned: [String] = []
        var failed: [String] = []
        if let call = inFlight {
            actions.append(.cancelTimer(id: call.id))
            switch call.source {
            case .csms: abandoned.append(call.id)
            case .controller: failed.append(call.id)
            }
        }
        abandoned.append(contentsOf: waitingCSMS.elements.map(\.id))
        failed.append(contentsOf: waitingInjected.elements.map(\.id))
        actions.append(contentsOf: failed.map { .completeInjected(id: $0, outcome: .chargerDisconnected) })
        if !abandoned.isEmpty {
            actions.append(.abandonCSMSCalls(ids: abandoned))
        }
        inFlight = nil
        waitingCSMS.removeAll()
        waitingInjected.removeAll()
        timedOutInjected.removeAll()
        isConnected = false
        return actions
    }

    /// The charger connected again: the queue accepts calls again.
    public mutating func chargerConnected() {
        isConnected = true
    }

    private mutating func sendNextIfIdle(into actions: inout [Action]) {
        guard inFlight == nil, let next = waitingCSMS.popFirst() ?? waitingInjected.popFirst() else { return }
        inFlight = next
        actions.append(.sendToCharger(id: next.id, frame: next.frame))
        actions.append(.startTimer(id: next.id, seconds: configuration.callTimeout))
    }
}

/// How an injected call ended.
public enum InjectedCallOutcome: Sendable, Hashable {
    /// The charger answered with a CALLRESULT; its payload bytes.
    case result(payload: [UInt8])
    /// The charger answered with a CALLERROR.
    case callError(code: String, description: String, details: [UInt8])
    /// No answer within the queue's timeout.
    case timedOut
    /// The charger disconnected before answering.
    case chargerDisconnected
}

/// An injected call the queue refused.
public enum ChargerCallQueueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// More than `limit` injected calls would wait for this charger.
    case injectedQueueFull(limit: Int)
    /// An injected call with this id is already in flight or waiting.
    case duplicateID(String)
    /// The charger is not connected.
    case chargerDisconnected

    public var description: String {
        switch self {
        case .injectedQueueFull(let limit):
            "injected call refused: \(limit) injected calls already wait for this charger (the limit); "
                + "the charger answers too slowly or the controller sends too often"
        case .duplicateID(let id):
            "injected call refused: id '\(id)' is already in flight or waiting; use a fresh id from InjectedCallIDs"
        case .chargerDisconnected:
            "injected call refused: the charger is not connected"
        }
    }
}
