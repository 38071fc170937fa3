import Foundation
import Testing

@testable import OCPP

@Suite struct HeldCallQueueTests {
    typealias Queue = HeldCallQueue<InMemoryHeldCallStore>
    static let t0 = Date(timeIntervalSince1970: 1_766_133_355)

    static func held(_ id: String, _ action: String = "MeterValues", answered: Bool = true) -> HeldCall {
        HeldCall(
            id: id,
            action: action,
            frame: [UInt8]("[2,\"\(id)\",\"\(action)\",{}]"),
            answeredLocally: answered,
            heldAt: t0
        )
    }

    static func result(_ id: String) -> ([UInt8], Envelope) {
        let frame = [UInt8]("[3,\"\(id)\",{}]")
        return (frame, try! Envelope(parsing: frame))
    }

    static func sent(_ actions: [Queue.Action]) -> [String] {
        actions.compactMap { if case .sendToCSMS(let id, _) = $0 { id } else { nil } }
    }

    @Test func callsAreKeptWhileTheLinkIsDownAndDeliveredInOrderOneAtATime() throws {
        var queue = Queue(store: InMemoryHeldCallStore(), configuration: .init(responseTimeout: 10))
        #expect(queue.mustHoldNewCalls)
        for id in ["1", "2", "3"] {
            #expect(try queue.hold(Self.held(id)) == [])
        }
        #expect(
            try queue.linkUp() == [
                .sendToCSMS(id: "1", frame: Self.held("1").frame), .startTimer(id: "1", seconds: 10),
            ]
        )
        #expect(queue.mustHoldNewCalls)
        var delivered = ["1"]
        while let id = queue.idInFlight {
            let (frame, envelope) = Self.result(id)
            let actions = try #require(try queue.responseReceived(frame, envelope: envelope))
            #expect(actions.prefix(2) == [.cancelTimer(id: id), .consumeResponse(id: id)])
            delivered += Self.sent(actions)
        }
        #expect(delivered == ["1", "2", "3"])
        #expect(queue.count == 0)
        #expect(!queue.mustHoldNewCalls)
    }

    @Test func theAnswerToACallNotAnsweredLocallyGoesToTheCharger() throws {
        var queue = Queue(store: InMemoryHeldCallStore())
        _ = try queue.hold(Self.held("s1", "StartTransaction", answered: false))
        _ = try queue.linkUp()
        let frame = [UInt8](#"[3,"s1",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#)
        #expect(
            try queue.responseReceived(frame, envelope: try Envelope(parsing: frame)) == [
                .cancelTimer(id: "s1"), .forwardToCharger(frame: frame),
            ]
        )
    }

    @Test func aCallErrorFromTheCSMSAlsoCompletesTheHeldCall() throws {
        var queue = Queue(store: InMemoryHeldCallStore())
        _ = try queue.hold(Self.held("f1", "FirmwareStatusNotification"))
        _ = try queue.hold(Self.held("f2", "Heartbeat"))
        _ = try queue.linkUp()
        let frame = [UInt8](#"[4,"f1","NotSupported","Unsupported feature FirmwareStatusNotification",{}]"#)
        let actions = try queue.responseReceived(frame, envelope: try Envelope(parsing: frame))
        #expect(actions.map(Self.sent) == ["f2"])
    }

    @Test func responsesToOtherIDsAreNotTheQueuesBusiness() throws {
        var queue = Queue(store: InMemoryHeldCallStore())
        _ = try queue.hold(Self.held("1"))
        let (frame, envelope) = Self.result("1")
        #expect(try queue.responseReceived(frame, envelope: envelope) == nil)  // link still down: nothing in flight
        _ = try queue.linkUp()
        let (other, otherEnvelope) = Self.result("2")
        #expect(try queue.responseReceived(other, envelope: otherEnvelope) == nil)
        let call = [UInt8](#"[2,"1","Reset",{}]"#)
        #expect(try queue.responseReceived(call, envelope: try Envelope(parsing: call)) == nil)
    }

    @Test func whenIdleANewCallIsSentAtOnce() throws {
        var queue = Queue(store: InMemoryHeldCallStore())
        _ = try queue.linkUp()
        #expect(!queue.mustHoldNewCalls)
        #expect(Self.sent(try queue.hold(Self.held("1"))) == ["1"])
        #expect(Self.sent(try queue.hold(Self.held("2"))) == [])
    }

    @Test func aLinkDropResendsTheCallInFlightWithoutCountingAnAttempt() throws {
        var queue = Queue(store: InMemoryHeldCallStore(), configuration: .init(maximumAttempts: 2))
        _ = try queue.hold(Self.held("1"))
        _ = try queue.hold(Self.held("2"))
        for _ in 0..<5 {
            #expect(Self.sent(try queue.linkUp()) == ["1"])
            #expect(queue.linkDown() == [.cancelTimer(id: "1")])
        }
        #expect(queue.count == 2)
        #expect(Self.sent(try queue.linkUp()) == ["1"])
        #expect(Self.sent(try queue.timerFired(id: "1")) == ["1"])  // second attempt
        let actions = try queue.timerFired(id: "1")
        #expect(actions.first == .gaveUp(call: Self.held("1"), attempts: 2))
        #expect(Self.sent(actions) == ["2"])
    }

    @Test func staleTimersAreIgnored() throws {
        var queue = Queue(store: InMemoryHeldCallStore())
        _ = try queue.hold(Self.held("1"))
        _ = try queue.linkUp()
        let (frame, envelope) = Self.result("1")
        _ = try queue.responseReceived(frame, envelope: envelope)
        #expect(try queue.timerFired(id: "1") == [])
    }

    @Test func aFullStoreRefusesTheCall() throws {
        var queue = Queue(store: InMemoryHeldCallStore(capacity: 2))
        _ = try queue.hold(Self.held("1"))
        _ = try queue.hold(Self.held("2"))
        #expect(throws: HeldCallStoreError.full(capacity: 2)) { try queue.hold(Self.held("3")) }
        #expect(queue.store.all.map(\.id) == ["1", "2"])
        #expect("\(HeldCallStoreError.full(capacity: 2))".contains("2 calls are already held"))
    }

    /// A store that records its operations and can fail: the queue must work through the protocol only.
    struct RecordingStore: HeldCallStore {
        var calls: [HeldCall] = []
        var log: [String] = []
        var failReads = false
        var count: Int { calls.count }
        func oldest() throws(HeldCallStoreError) -> HeldCall? {
            if failReads { throw .storageFailed(operation: "read", reason: "disk I/O error") }
            return calls.first
        }
        mutating func append(_ call: HeldCall) throws(HeldCallStoreError) {
            log.append("append \(call.id)")
            calls.append(call)
        }
        mutating func removeOldest() throws(HeldCallStoreError) {
            log.append("remove \(calls.first?.id ?? "-")")
            if !calls.isEmpty { calls.removeFirst() }
        }
    }

    @Test func aCallIsRemovedFromTheStoreOnlyAfterTheCSMSAnswered() throws {
        var queue = HeldCallQueue(store: RecordingStore())
        _ = try queue.hold(Self.held("1"))
        _ = try queue.linkUp()
        _ = queue.linkDown()
        #expect(queue.store.log == ["append 1"])
        _ = try queue.linkUp()
        let (frame, envelope) = Self.result("1")
        _ = try queue.responseReceived(frame, envelope: envelope)
        #expect(queue.store.log == ["append 1", "remove 1"])
    }

    @Test func storageErrorsSurface() throws {
        var store = RecordingStore()
        store.failReads = true
        var queue = HeldCallQueue(store: store)
        #expect(throws: HeldCallStoreError.storageFailed(operation: "read", reason: "disk I/O error")) {
            try queue.linkUp()
        }
    }

    @Test func heldCallsAreCodableForDurableStores() throws {
        let call = Self.held("1")
        let decoded = try JSONDecoder().decode(HeldCall.self, from: JSONEncoder().encode(call))
        #expect(decoded == call)
    }
}

@Suite struct BackoffTests {
    @Test func ceilingsDoubleUpToTheMaximum() {
        let backoff = Backoff()
        #expect((0..<8).map { backoff.ceiling(afterFailures: $0) } == [1, 2, 4, 8, 16, 32, 60, 60])
        #expect(backoff.ceiling(afterFailures: 100_000) == 60)
    }

    @Test func delaysAreFullJitterWithinTheCeiling() {
        var backoff = Backoff()
        var random = SeededGenerator(seed: 11)
        var delays: [Double] = []
        for failure in 0..<10 {
            let delay = backoff.attemptFailed(using: &random)
            #expect(delay >= 0 && delay <= backoff.ceiling(afterFailures: failure))
            delays.append(delay)
        }
        #expect(backoff.failures == 10)
        // Deterministic with a seeded generator.
        var again = Backoff()
        var sameRandom = SeededGenerator(seed: 11)
        #expect((0..<10).map { _ in again.attemptFailed(using: &sameRandom) } == delays)
    }

    @Test func jitterSpreadsOverTheWholeRange() {
        var random = SeededGenerator(seed: 5)
        var low = 0
        var high = 0
        for _ in 0..<2000 {
            var backoff = Backoff()
            for _ in 0..<7 { _ = backoff.attemptFailed(using: &random) }
            let delay = backoff.attemptFailed(using: &random)
            if delay < 15 { low += 1 }
            if delay > 45 { high += 1 }
        }
        #expect(low > 400 && high > 400)  // about 500 each for a uniform 0…60
    }

    @Test func aLongConnectionResetsTheCountAShortOneDoesNot() {
        var backoff = Backoff(configuration: .init(resetAfter: 30))
        var random = SeededGenerator(seed: 1)
        for _ in 0..<5 { _ = backoff.attemptFailed(using: &random) }
        let t0 = ContinuousClock.now
        backoff.connected(at: t0)
        #expect(backoff.connectedSince == t0)
        let short = backoff.disconnected(at: t0.advanced(by: .seconds(29)), using: &random)
        #expect(backoff.failures == 6)
        #expect(short <= 32)
        backoff.connected(at: t0)
        let long = backoff.disconnected(at: t0.advanced(by: .seconds(30)), using: &random)
        #expect(backoff.failures == 1)
        #expect(long <= 1)
        #expect(backoff.connectedSince == nil)
    }
}
