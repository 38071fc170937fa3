import Foundation
import Logging
import OCPP
import OCPPProxy
import Testing

@testable import LoadGuard

/// Starts LoadGuard's OCPP proxy standalone on a free loopback port, runs `body`, and stops it.
func withStandaloneProxy<T: Sendable>(
    _ body: @Sendable (OCPPProxy, String) async throws -> T
) async throws -> T {
    let proxy = try OCPPProxy(
        configuration: ProxyConfiguration(host: "127.0.0.1", port: 0, acceptUnknownChargers: true),
        logger: Logger(label: "test.proxy")
    )
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await proxy.run()
            return nil
        }
        var port: Int?
        for _ in 0..<500 {
            port = await proxy.localPort()
            if port != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let url = "ws://127.0.0.1:\(try #require(port))/ocpp"
        let result = try await body(proxy, url)
        group.cancelAll()
        return result
    }
}

/// Polls `condition` every 50 ms for at most `seconds`.
func eventually(_ seconds: Double, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}

@Suite("Simulated chargers and replay over loopback, against LoadGuard's standalone proxy", .serialized)
struct ChargerSimulatorLoopbackTests {
    @Test("a 1.6 and a 2.0.1 charger boot, charge, and follow an injected limit within the reaction delay")
    func fleetFollowsInjectedLimits() async throws {
        try await withStandaloneProxy { proxy, url in
            let car = SimulatedCarConfiguration(energyNeeded: 50_000, maxCurrent: 16, reactionDelay: .milliseconds(500))
            let fleet = try ChargerFleet(
                chargers: [
                    SimulatedChargerConfiguration(id: "SIM-1", version: .v16, meterInterval: .seconds(1), cars: [car]),
                    SimulatedChargerConfiguration(
                        id: "SIM-2",
                        version: .v201,
                        phases: 1,
                        meterInterval: .seconds(1),
                        cars: [car]
                    ),
                ],
                url: url,
                logger: Logger(label: "test.fleet")
            )
            let fleetTask = Task { try await fleet.run() }
            defer { fleetTask.cancel() }

            let charging = await eventually(10) {
                let states = await fleet.states()
                return states.count == 2 && states.allSatisfy { $0.connection == .accepted && $0.currents[0] == 16 }
            }
            #expect(charging)
            #expect(await proxy.connectedChargers().map(\.version).sorted() == [.v16, .v201])
            #expect(await fleet.state(of: "SIM-2")?.currents == [16, 0, 0])
            #expect(await fleet.state(of: "SIM-1")?.transactionID != nil)

            let limit16 = try Frame.encodePayload(
                OCPP16.SetChargingProfileRequest.chargePointMaxProfile(
                    limit: .amperes(10),
                    profileID: 1,
                    stackLevel: 0,
                    startSchedule: nil
                )
            )
            let limit2 = try Frame.encodePayload(
                OCPP2.SetChargingProfileRequest.chargingStationMaxProfile(
                    limit: .watts(1840, numberPhases: 1),
                    profileID: 1,
                    stackLevel: 0,
                    startSchedule: nil
                )
            )
            let result16 = try await proxy.call(chargerID: "SIM-1", action: "SetChargingProfile", payload: limit16)
            let result2 = try await proxy.call(chargerID: "SIM-2", action: "SetChargingProfile", payload: limit2)
            for result in [result16, result2] {
                guard case .result(let payload) = result else {
                    Issue.record("expected a CALLRESULT, got \(result)")
                    continue
                }
                #expect(String(decoding: payload, as: UTF8.self) == #"{"status":"Accepted"}"#)
            }
            let followed = await eventually(3) {
                let first = await fleet.state(of: "SIM-1")?.currents
                let second = await fleet.state(of: "SIM-2")?.currents
                return first == [10, 10, 10] && second == [8, 0, 0]
            }
            #expect(followed)
            #expect(await fleet.state(of: "SIM-1")?.limit.source == "ChargePointMaxProfile #1 (stack 0)")

            // LoadGuard sees the new draw in the meter values.
            var sawTen = false
            var sawEight = false
            let deadline = ContinuousClock.now + .seconds(4)
            for await observed in proxy.events {
                if case .meterValues(let reading) = observed.event {
                    if observed.chargerID == "SIM-1", reading.currentImport.l1 == 10 { sawTen = true }
                    if observed.chargerID == "SIM-2", reading.currentImport.l1 == 8 { sawEight = true }
                }
                if (sawTen && sawEight) || ContinuousClock.now > deadline { break }
            }
            #expect(sawTen && sawEight)
        }
    }

    @Test("a charger retries while nobody listens, reconnects when LoadGuard is back, and boots again")
    func reconnectsWithBackoff() async throws {
        let first = try OCPPProxy(
            configuration: ProxyConfiguration(host: "127.0.0.1", port: 0, acceptUnknownChargers: true),
            logger: Logger(label: "test.proxy")
        )
        let firstTask = Task { try await first.run() }
        var bound: Int?
        for _ in 0..<500 where bound == nil {
            bound = await first.localPort()
            try await Task.sleep(for: .milliseconds(10))
        }
        let port = try #require(bound)
        let events = EventLog()
        let fleet = try ChargerFleet(
            chargers: [SimulatedChargerConfiguration(id: "SIM-R")],
            url: "ws://127.0.0.1:\(port)/ocpp",
            logger: Logger(label: "test.fleet"),
            onEvent: { _, event in Task { await events.append(event) } }
        )
        let fleetTask = Task { try await fleet.run() }
        defer { fleetTask.cancel() }
        #expect(await eventually(5) { await fleet.state(of: "SIM-R")?.connection == .accepted })

        firstTask.cancel()
        #expect(await eventually(5) { await fleet.state(of: "SIM-R")?.connection == .disconnected })
        #expect(
            await eventually(5) { await events.contains { if case .connectionFailed = $0 { true } else { false } } }
        )

        let second = try OCPPProxy(
            configuration: ProxyConfiguration(host: "127.0.0.1", port: port, acceptUnknownChargers: true),
            logger: Logger(label: "test.proxy")
        )
        let secondTask = Task { try await second.run() }
        defer { secondTask.cancel() }
        // Backoff after the second failure is at most 2 s, after the third 4 s.
        #expect(await eventually(10) { await fleet.state(of: "SIM-R")?.connection == .accepted })
        let boots = await events.count { if case .bootAnswered("Accepted", _) = $0 { true } else { false } }
        #expect(boots == 2)
    }

    @Test("replaying the 1.6 session trace against standalone LoadGuard reports what LoadGuard answers differently")
    func replayAgainstStandalone() async throws {
        let report = try await withStandaloneProxy { _, url in
            let scripts = try ReplayFixtures.scripts("ocpp16_session.jsonl")
            let runner = ReplayRunner(
                endpoint: try #require(UpstreamEndpoint(url: url)),
                client: try WebSocketClient(),
                timeout: .seconds(5)
            )
            return await runner.run(scripts)
        }
        #expect(report.outcomes.count == 11)
        #expect(!report.outcomes.contains { $0.verdict == .noResponse || $0.verdict == .notSent })
        // Standalone LoadGuard answers StopTransaction with {} (idTagInfo is optional); the recording CSMS did not.
        let different = report.outcomes.filter { $0.verdict == .different }
        #expect(different.map(\.action) == ["StopTransaction"])
        #expect(report.hasDifferences)
    }
}

actor EventLog {
    var events: [SimulatorEvent] = []

    func append(_ event: SimulatorEvent) { events.append(event) }

    func contains(where predicate: (SimulatorEvent) -> Bool) -> Bool { events.contains(where: predicate) }

    func count(where predicate: (SimulatorEvent) -> Bool) -> Int { events.filter(predicate).count }
}
