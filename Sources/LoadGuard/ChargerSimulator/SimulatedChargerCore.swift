public import Foundation
public import OCPP

/// The simulated charger as a value-type state machine: it is told that its connection opened or closed, that a
/// frame arrived, or that time passed, and answers with the frames to send and the events to log.
///
/// No I/O and no clock: every input carries the current time, so tests drive it through hours in microseconds.
/// ``SimulatedChargerRunner`` connects it to a WebSocket.
///
/// States of the link to the CSMS (``SimulatedChargerState/Connection``):
/// - **disconnected**: nothing is sent; transaction messages wait in the queue, the car keeps charging at the
///   last limit.
/// - **booting**: connected; a BootNotification is in flight or due (after `Pending`/`Rejected` at the interval
///   the CSMS gave, after a timeout or CALLERROR 10 s later). Nothing else is sent; CSMS calls are answered,
///   except while `Rejected`.
/// - **accepted**: StatusNotification, Heartbeat at the CSMS's interval, the session's messages; one call in
///   flight at a time, oldest first.
///
/// The car's visit: **arrived** (1.6 `Preparing` / 2.x `Occupied`) → Authorize → **session** (1.6
/// StartTransaction, 2.x TransactionEvent `Started`; `Charging`, or `SuspendedEVSE` while the limit is below 6 A)
/// → **ended** (full, departure time, RemoteStop/RequestStop, refused id) → the car leaves (`Available`), and
/// the next one arrives after its arrival delay.
public struct SimulatedChargerCore: Sendable {
    /// What the I/O layer must do.
    public enum Action: Sendable, Hashable {
        /// Send this text frame to the CSMS.
        case send([UInt8])
        /// Log this event.
        case event(SimulatorEvent)
    }

    /// The outlet the car uses: connector 1 (1.6) or EVSE 1 / connector 1 (2.x).
    static let outlet = 1
    /// How long a charger waits before it sends a BootNotification again after a timeout or CALLERROR.
    static let bootRetryAfterFailure: TimeInterval = 10
    /// How often a transaction message is sent before it is dropped.
    static let transactionMessageAttempts = 3
    /// The most calls that wait for the link; the oldest meter values give way first.
    static let queueCapacity = 1000

    public let configuration: SimulatedChargerConfiguration

    // Link and registration.
    var version: OCPPVersion?
    var registration: Registration = .offline
    var rejected = false
    var heartbeatInterval: TimeInterval = 300
    var nextHeartbeat: Date?
    var meterInterval: TimeInterval
    var measurands: [Measurand] = Measurand.allCases

    // Calls from the charger.
    var queue: [OutgoingCall] = []
    var inFlight: InFlight?
    var messageCounter = 0

    // Car and session.
    var nextCarIndex = 0
    var nextArrival: Date?
    var car: SimulatedCar?
    var authorizing = false
    var carDone = false
    var session: Session?
    var sessionCounter = 0
    var energyRegister: Double
    var lastTime: Date

    // Profiles and what was reported.
    var profiles = SimulatedProfileStore()
    var limit: EffectiveLimit
    var reportedStatus: String?
    var output: [Action] = []

    enum Registration: Hashable {
        case offline
        case bootDue(at: Date, reason: String)
        case bootSent
        case accepted
    }

    struct InFlight: Hashable {
        var id: String
        var call: OutgoingCall
        var sentAt: Date
    }

    struct Session: Hashable {
        var localID: Int
        /// 1.6: assigned by the CSMS (`nil` until the StartTransaction answer); 2.x: chosen by the charger.
        var transactionID: String?
        var idTag: String
        var start: Date
        var meterStart: Double
        var seqNo = 0
        var nextMeter: Date
        var chargingState: String
        var remoteStartID: Int?
    }

    /// Creates a charger that starts its simulation at `start` (the first car arrives its arrival delay later).
    public init(configuration: SimulatedChargerConfiguration, start: Date) {
        self.configuration = configuration
        self.meterInterval = configuration.meterInterval.inSeconds
        self.energyRegister = configuration.initialEnergyRegister
        self.lastTime = start
        self.limit = EffectiveLimit(amperes: configuration.maxCurrent, source: "charger maximum")
        if let first = configuration.cars.first {
            nextArrival = start.addingTimeInterval(first.arrivalDelay.inSeconds)
        }
    }

    // MARK: Inputs

    /// The WebSocket opened with `version`: the charger boots.
    public mutating func connected(version: OCPPVersion, at now: Date) -> [Action] {
        begin(now)
        self.version = version
        registration = .bootDue(at: now, reason: "PowerUp")
        rejected = false
        emit(.connected(version: version))
        return finish(now)
    }

    /// The WebSocket closed.
    public mutating func disconnected(at now: Date) -> [Action] {
        begin(now)
        if version != nil { emit(.disconnected) }
        version = nil
        registration = .offline
        nextHeartbeat = nil
        if let inFlight, inFlight.call.isTransactionRelated {
            queue.insert(inFlight.call, at: 0)
        } else if case .authorize = inFlight?.call {
            authorizing = false
        }
        inFlight = nil
        queue.removeAll { !$0.isTransactionRelated }
        if authorizing, !queue.contains(where: { if case .authorize = $0 { true } else { false } }) {
            authorizing = false
        }
        reportedStatus = nil
        return finish(now)
    }

    /// A text frame arrived from the CSMS.
    public mutating func received(_ frame: [UInt8], at now: Date) -> [Action] {
        begin(now)
        let envelope: Envelope
        do {
            envelope = try Envelope(parsing: frame)
        } catch {
            emit(.unexpectedFrame(reason: error.description))
            return finish(now)
        }
        switch envelope.messageType {
        case .call:
            handleCall(envelope, frame: frame, at: now)
        case .callResult, .callError:
            handleResponse(envelope, frame: frame, at: now)
        case .callResultError, .send:
            break
        }
        return finish(now)
    }

    /// Time passed: cars arrive, charge and leave, meter values and heartbeats fall due, calls time out.
    public mutating func tick(at now: Date) -> [Action] {
        begin(now)
        return finish(now)
    }

    /// The charger's state now (after the last input).
    public var state: SimulatedChargerState {
        let connection: SimulatedChargerState.Connection =
            switch registration {
            case .offline: .disconnected
            case .bootDue, .bootSent: .booting
            case .accepted: .accepted
            }
        return SimulatedChargerState(
            id: configuration.id,
            version: version ?? configuration.version,
            connection: connection,
            status: derivedStatus16,
            limit: limit,
            currents: phaseCurrents,
            power: power,
            energyRegister: energyRegister,
            carPresent: car != nil,
            sessionEnergy: session.map { energyRegister - $0.meterStart },
            transactionID: session?.transactionID
        )
    }

    /// The next time something is due without input (a timer, an arrival, a car reacting); the runner may sleep
    /// until then. Schedules with several periods are followed at the runner's tick.
    public var nextDeadline: Date? {
        var times: [Date] = []
        if case .bootDue(let at, _) = registration { times.append(at) }
        if let nextHeartbeat { times.append(nextHeartbeat) }
        if let inFlight { times.append(inFlight.sentAt.addingTimeInterval(configuration.callTimeout.inSeconds)) }
        if car == nil, let nextArrival { times.append(nextArrival) }
        if let car {
            if let pending = car.pending { times.append(pending.at) }
            if let departure = car.departure { times.append(departure) }
        }
        if let session { times.append(session.nextMeter) }
        return times.min()
    }

    // MARK: Time

    private mutating func begin(_ now: Date) {
        output = []
        advance(to: now)
    }

    private mutating func finish(_ now: Date) -> [Action] {
        update(now)
        let actions = output
        output = []
        return actions
    }

    mutating func emit(_ event: SimulatorEvent) {
        output.append(.event(event))
    }

    /// Integrates the car up to `now`, with arrivals, a full battery and departures at their exact times.
    private mutating func advance(to now: Date) {
        while true {
            var horizon = max(now, lastTime)
            if car == nil, let nextArrival { horizon = min(horizon, max(nextArrival, lastTime)) }
            if let departure = car?.departure { horizon = min(horizon, max(departure, lastTime)) }
            if var current = car {
                let (energy, fullAt) = current.advance(
                    from: lastTime,
                    to: horizon,
                    voltage: configuration.nominalVoltage
                )
                car = current
                energyRegister += energy
                if let fullAt {
                    lastTime = fullAt
                    carLeaves(reason: "full", at: fullAt)
                    continue
                }
            }
            lastTime = horizon
            if let departure = car?.departure, departure <= lastTime {
                carLeaves(reason: "departure time", at: lastTime)
                continue
            }
            if car == nil, let arrival = nextArrival, arrival <= lastTime {
                carArrives(at: lastTime)
                continue
            }
            if lastTime >= now { return }
        }
    }

    private mutating func carArrives(at time: Date) {
        let configuration = self.configuration.cars[nextCarIndex]
        nextCarIndex += 1
        if nextCarIndex == self.configuration.cars.count, self.configuration.repeatsCars { nextCarIndex = 0 }
        nextArrival = nil
        car = SimulatedCar(configuration: configuration, arrivedAt: time)
        carDone = false
        emit(.carArrived(energyNeeded: configuration.energyNeeded))
    }

    mutating func carLeaves(reason: String, at time: Date) {
        if session != nil {
            endSession(
                reason16: "EVDisconnected",
                trigger2: "EVDeparted",
                stoppedReason2: "EVDisconnected",
                description: reason,
                at: time
            )
        }
        car = nil
        authorizing = false
        queue.removeAll { if case .authorize = $0 { true } else { false } }
        emit(.carLeft(reason: reason))
        if nextCarIndex < configuration.cars.count {
            nextArrival = time.addingTimeInterval(configuration.cars[nextCarIndex].arrivalDelay.inSeconds)
        }
    }

    // MARK: Session

    mutating func startSession(idTag: String, remoteStartID: Int? = nil, at time: Date) {
        sessionCounter += 1
        let transactionID: String? =
            version?.isTwoX ?? configuration.version.isTwoX
            ? "SIM-\(Int(time.timeIntervalSince1970))-\(sessionCounter)" : nil
        var session = Session(
            localID: sessionCounter,
            transactionID: transactionID,
            idTag: idTag,
            start: time,
            meterStart: energyRegister,
            nextMeter: time.addingTimeInterval(meterInterval),
            chargingState: "EVConnected",
            remoteStartID: remoteStartID
        )
        if isTwoX {
            let sample = meterSample(at: time, context: "Transaction.Begin")
            enqueue(
                .transactionEvent(
                    TransactionEventCall(
                        eventType: "Started",
                        triggerReason: remoteStartID == nil ? "Authorized" : "RemoteStart",
                        seqNo: session.seqNo,
                        transactionID: transactionID ?? "",
                        chargingState: "EVConnected",
                        idToken: idTag,
                        remoteStartID: remoteStartID,
                        stoppedReason: nil,
                        timestamp: time,
                        sample: sample
                    )
                )
            )
            session.seqNo += 1
        } else {
            enqueue(
                .startTransaction(
                    sessionID: sessionCounter,
                    idTag: idTag,
                    meterStart: energyRegister,
                    timestamp: time
                )
            )
        }
        self.session = session
        emit(.sessionStarted(transactionID: transactionID))
    }

    mutating func endSession(
        reason16: String,
        trigger2: String,
        stoppedReason2: String,
        description: String,
        at time: Date
    ) {
        guard var session else { return }
        let sessionEnergy = energyRegister - session.meterStart
        if isTwoX {
            enqueue(
                .transactionEvent(
                    TransactionEventCall(
                        eventType: "Ended",
                        triggerReason: trigger2,
                        seqNo: session.seqNo,
                        transactionID: session.transactionID ?? "",
                        chargingState: "Idle",
                        idToken: nil,
                        remoteStartID: nil,
                        stoppedReason: stoppedReason2,
                        timestamp: time,
                        sample: meterSample(at: time, context: "Transaction.End")
                    )
                )
            )
            session.seqNo += 1
        } else {
            enqueue(
                .stopTransaction(
                    sessionID: session.localID,
                    idTag: session.idTag,
                    meterStop: energyRegister,
                    timestamp: time,
                    reason: reason16
                )
            )
        }
        self.session = nil
        carDone = true
        profiles.transactionEnded(outlet: Self.outlet)
        if var car {
            car.offer(.none, at: time, immediately: true)
            self.car = car
        }
        emit(.sessionEnded(reason: description, energy: sessionEnergy))
    }

    var isTwoX: Bool { (version ?? configuration.version).isTwoX }

    // MARK: Derived state

    var phaseCurrents: [Double] {
        guard let car, session != nil else { return [0, 0, 0] }
        let current = car.current
        let phases = min(car.phasesUsed, configuration.phases)
        return (0..<3).map { $0 < phases ? current : 0 }
    }

    var power: Double { phaseCurrents.reduce(0, +) * configuration.nominalVoltage }

    /// The offer the charger makes the car under `limit`: nothing outside a session, 0 below 6 A (IEC 61851
    /// pause), at most the charger's own maximum.
    var offer: SimulatedCar.Offer {
        guard session != nil else { return .none }
        let phases = min(configuration.phases, limit.numberPhases ?? 3)
        let amperes = min(limit.amperes, configuration.maxCurrent)
        return SimulatedCar.Offer(amperes: amperes < SimulatedCar.minimumOffer ? 0 : amperes, phases: phases)
    }

    /// The connector status in 1.6 terms.
    var derivedStatus16: String {
        guard car != nil else { return "Available" }
        guard session != nil else { return carDone ? "Finishing" : "Preparing" }
        return offer.amperes == 0 ? "SuspendedEVSE" : "Charging"
    }

    /// The 2.x connector status.
    var derivedStatus2: String { car == nil ? "Available" : "Occupied" }

    /// The 2.x charging state of a session.
    var derivedChargingState: String { offer.amperes == 0 ? "SuspendedEVSE" : "Charging" }

    /// Recomputes the limit and the reported state, starts what is due and sends the next call.
    private mutating func update(_ now: Date) {
        let newLimit = profiles.effectiveLimit(
            outlet: Self.outlet,
            at: now,
            transaction: session.map { ($0.transactionID, $0.start) },
            chargerMaximum: configuration.maxCurrent,
            voltage: configuration.nominalVoltage,
            version: version ?? configuration.version
        )
        if abs(newLimit.amperes - limit.amperes) >= 0.05 || newLimit.numberPhases != limit.numberPhases {
            emit(.limitChanged(from: limit, to: newLimit))
        }
        limit = newLimit
        if var car {
            car.offer(offer, at: now)
            self.car = car
        }

        if let inFlight, now >= inFlight.sentAt.addingTimeInterval(configuration.callTimeout.inSeconds) {
            callTimedOut(inFlight, at: now)
        }

        if case .bootDue(let at, let reason) = registration, at <= now, inFlight == nil, let version {
            send(.bootNotification(reason: reason), version: version, at: now)
            registration = .bootSent
        }
        // Meter values are sampled while disconnected too: they wait in the queue with the transaction.
        if var session, now >= session.nextMeter {
            while session.nextMeter <= now { session.nextMeter.addTimeInterval(meterInterval) }
            self.session = session
            enqueueMeterValues(context: "Sample.Periodic", trigger: "MeterValuePeriodic", at: now)
        }
        guard registration == .accepted else { return }

        reportStatus(at: now)
        if car != nil, session == nil, !authorizing, !carDone, let idTag = car?.configuration.idTag {
            authorizing = true
            enqueue(.authorize(idTag: idTag))
        }
        if let nextHeartbeat, now >= nextHeartbeat {
            if !queue.contains(.heartbeat), inFlight?.call != .heartbeat { enqueue(.heartbeat) }
            self.nextHeartbeat = now.addingTimeInterval(heartbeatInterval)
        }
        if inFlight == nil, !queue.isEmpty, let version {
            send(queue.removeFirst(), version: version, at: now)
        }
    }

    private mutating func reportStatus(at now: Date) {
        if isTwoX {
            if reportedStatus != derivedStatus2 {
                reportedStatus = derivedStatus2
                enqueue(.statusNotification(status: derivedStatus2, timestamp: now))
            }
            if var session, session.chargingState != derivedChargingState {
                session.chargingState = derivedChargingState
                enqueue(
                    .transactionEvent(
                        TransactionEventCall(
                            eventType: "Updated",
                            triggerReason: "ChargingStateChanged",
                            seqNo: session.seqNo,
                            transactionID: session.transactionID ?? "",
                            chargingState: derivedChargingState,
                            idToken: nil,
                            remoteStartID: nil,
                            stoppedReason: nil,
                            timestamp: now,
                            sample: nil
                        )
                    )
                )
                session.seqNo += 1
                self.session = session
            }
        } else if reportedStatus != derivedStatus16 {
            reportedStatus = derivedStatus16
            enqueue(.statusNotification(status: derivedStatus16, timestamp: now))
        }
    }

    mutating func enqueueMeterValues(context: String, trigger: String, at now: Date) {
        let sample = meterSample(at: now, context: context)
        if isTwoX, var session {
            enqueue(
                .transactionEvent(
                    TransactionEventCall(
                        eventType: "Updated",
                        triggerReason: trigger,
                        seqNo: session.seqNo,
                        transactionID: session.transactionID ?? "",
                        chargingState: nil,
                        idToken: nil,
                        remoteStartID: nil,
                        stoppedReason: nil,
                        timestamp: now,
                        sample: sample
                    )
                )
            )
            session.seqNo += 1
            self.session = session
        } else {
            enqueue(.meterValues(sessionID: session?.localID, sample: sample))
        }
    }

    func meterSample(at time: Date, context: String) -> MeterSample {
        MeterSample(
            timestamp: time,
            context: context,
            currents: Array(phaseCurrents.prefix(configuration.phases)),
            power: power,
            energy: energyRegister,
            measurands: measurands
        )
    }

    mutating func enqueue(_ call: OutgoingCall) {
        queue.append(call)
        if queue.count > Self.queueCapacity,
            let oldest = queue.firstIndex(where: { if case .meterValues = $0 { true } else { false } })
        {
            queue.remove(at: oldest)
        }
    }

    // MARK: Calls from the charger

    private mutating func send(_ call: OutgoingCall, version: OCPPVersion, at now: Date) {
        messageCounter += 1
        let id = String(messageCounter)
        guard let frame = call.frame(id: id, version: version, core: self) else {
            // A 1.6 StopTransaction whose StartTransaction was never answered has no transaction id to name.
            emit(.callFailed(action: call.action(version), code: "NotSent", description: "no transaction id known"))
            if let next = queue.first, let version = self.version {
                queue.removeFirst()
                send(next, version: version, at: now)
            }
            return
        }
        inFlight = InFlight(id: id, call: call, sentAt: now)
        output.append(.send(frame))
    }

    private mutating func callTimedOut(_ timedOut: InFlight, at now: Date) {
        inFlight = nil
        let action = timedOut.call.action(version ?? configuration.version)
        switch timedOut.call {
        case .bootNotification(let reason):
            emit(.callTimedOut(action: action, willRetry: true))
            registration = .bootDue(at: now.addingTimeInterval(Self.bootRetryAfterFailure), reason: reason)
        case .authorize:
            emit(.callTimedOut(action: action, willRetry: true))
            authorizing = false
        default:
            let retry =
                timedOut.call.isTransactionRelated && timedOut.call.attempts + 1 < Self.transactionMessageAttempts
            emit(.callTimedOut(action: action, willRetry: retry))
            if retry { queue.insert(timedOut.call.withAttempt(), at: 0) }
        }
    }

    private mutating func handleResponse(_ envelope: Envelope, frame: [UInt8], at now: Date) {
        guard let inFlight, inFlight.id == envelope.messageID else {
            emit(.unexpectedFrame(reason: "an answer to id \(envelope.messageID), which is not the call in flight"))
            return
        }
        self.inFlight = nil
        let version = self.version ?? configuration.version
        if envelope.messageType == .callError {
            let error = envelope.error ?? Envelope.ErrorInfo(code: "", description: "")
            emit(.callFailed(action: inFlight.call.action(version), code: error.code, description: error.description))
            switch inFlight.call.base {
            case .bootNotification(let reason):
                registration = .bootDue(at: now.addingTimeInterval(Self.bootRetryAfterFailure), reason: reason)
            case .authorize: authorizing = false
            default: break
            }
            return
        }
        do {
            try handleResult(of: inFlight.call, envelope: envelope, frame: frame, version: version, at: now)
        } catch {
            emit(.unexpectedFrame(reason: error.description))
            if case .bootNotification(let reason) = inFlight.call {
                registration = .bootDue(at: now.addingTimeInterval(Self.bootRetryAfterFailure), reason: reason)
            }
        }
    }

    private mutating func handleResult(
        of call: OutgoingCall,
        envelope: Envelope,
        frame: [UInt8],
        version: OCPPVersion,
        at now: Date
    ) throws(PayloadDecodingError) {
        switch call.base {
        case .bootNotification(let reason):
            let status: String
            let interval: Int
            if version.isTwoX {
                let answer = try envelope.decodePayload(OCPP2.BootNotificationResponse.self, from: frame)
                (status, interval) = (answer.status, answer.interval)
            } else {
                let answer = try envelope.decodePayload(OCPP16.BootNotificationConfirmation.self, from: frame)
                (status, interval) = (answer.status, answer.interval)
            }
            emit(.bootAnswered(status: status, interval: interval))
            if status == "Accepted" {
                registration = .accepted
                rejected = false
                if interval > 0 { heartbeatInterval = TimeInterval(interval) }
                nextHeartbeat = now.addingTimeInterval(heartbeatInterval)
            } else {
                rejected = status == "Rejected"
                let retry = interval > 0 ? TimeInterval(interval) : Self.bootRetryAfterFailure
                registration = .bootDue(at: now.addingTimeInterval(retry), reason: reason)
            }
        case .authorize(let idTag):
            authorizing = false
            let status: String
            if version.isTwoX {
                status = try envelope.decodePayload(OCPP2.AuthorizeResponse.self, from: frame).idTokenInfo.status
            } else {
                status = try envelope.decodePayload(OCPP16.AuthorizeConfirmation.self, from: frame).idTagInfo.status
            }
            guard car != nil, session == nil, !carDone else { return }
            if status == "Accepted" {
                startSession(idTag: idTag, at: now)
            } else {
                emit(.authorizationRefused(status: status))
                carDone = true
                carLeaves(reason: "authorization refused", at: now)
            }
        case .startTransaction(let sessionID, _, _, _):
            let answer = try envelope.decodePayload(OCPP16.StartTransactionConfirmation.self, from: frame)
            emit(.transactionIDAssigned(String(answer.transactionId)))
            // Kept until the session's StopTransaction was answered: it may wait in the queue after the session.
            assignedTransactionIDs[sessionID] = answer.transactionId
            guard var session, session.localID == sessionID else { return }
            session.transactionID = String(answer.transactionId)
            self.session = session
            if answer.idTagInfo.status != "Accepted" {
                emit(.authorizationRefused(status: answer.idTagInfo.status))
                endSession(
                    reason16: "DeAuthorized",
                    trigger2: "Deauthorized",
                    stoppedReason2: "DeAuthorized",
                    description: "id tag \(answer.idTagInfo.status)",
                    at: now
                )
            }
        case .transactionEvent(let event):
            let answer = try envelope.decodePayload(OCPP2.TransactionEventResponse.self, from: frame)
            if let status = answer.idTokenInfo?.status, status != "Accepted", event.eventType != "Ended",
                session?.transactionID == event.transactionID
            {
                emit(.authorizationRefused(status: status))
                endSession(
                    reason16: "DeAuthorized",
                    trigger2: "Deauthorized",
                    stoppedReason2: "DeAuthorized",
                    description: "id token \(status)",
                    at: now
                )
            }
        case .stopTransaction(let sessionID, _, _, _, _):
            assignedTransactionIDs[sessionID] = nil
        case .heartbeat, .statusNotification, .meterValues, .retried:
            break
        }
    }

    /// The 1.6 transaction id of session `localID`, if the CSMS assigned one.
    func transactionID16(ofSession localID: Int?) -> Int? {
        guard let localID else { return nil }
        return assignedTransactionIDs[localID]
    }

    /// 1.6 transaction ids of ended sessions whose StopTransaction or MeterValues may still wait in the queue.
    var assignedTransactionIDs: [Int: Int] = [:]
}
