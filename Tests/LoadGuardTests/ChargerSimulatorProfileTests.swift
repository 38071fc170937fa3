import Foundation
import OCPP
import Testing

@testable import LoadGuard

@Suite("Simulated charger: profile composition")
struct ChargerSimulatorProfileTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func profile(
        id: Int,
        stack: Int = 0,
        purpose: SimulatedProfile.Purpose,
        outlet: Int = 0,
        kind: SimulatedProfile.Kind = .relative,
        start: Date? = nil,
        duration: Int? = nil,
        unit: ChargingRateUnit = .amperes,
        periods: [SimulatedProfile.Period],
        validFrom: Date? = nil,
        validTo: Date? = nil
    ) -> SimulatedProfile {
        SimulatedProfile(
            id: id,
            stackLevel: stack,
            purpose: purpose,
            outlet: outlet,
            kind: kind,
            validFrom: validFrom,
            validTo: validTo,
            startSchedule: start,
            duration: duration,
            unit: unit,
            periods: periods,
            receivedAt: t0
        )
    }

    func limit(_ store: SimulatedProfileStore, at time: Date, transactionStart: Date? = nil) -> EffectiveLimit {
        store.effectiveLimit(
            outlet: 1,
            at: time,
            transaction: transactionStart.map { ("T", $0) },
            chargerMaximum: 32,
            voltage: 230,
            version: .v16
        )
    }

    @Test("no profile: the charger's maximum")
    func noProfile() {
        let result = limit(SimulatedProfileStore(), at: t0)
        #expect(result.amperes == 32)
        #expect(result.source == "charger maximum")
    }

    @Test("the minimum of charger maximum profile and TxDefaultProfile, with its source")
    func minimumOfPurposes() {
        var store = SimulatedProfileStore()
        store.install(profile(id: 1, purpose: .chargerMax, periods: [.init(start: 0, limit: 20)]))
        store.install(profile(id: 2, purpose: .txDefault, outlet: 1, periods: [.init(start: 0, limit: 13)]))
        var result = limit(store, at: t0)
        #expect(result.amperes == 13)
        #expect(result.source == "TxDefaultProfile #2 (stack 0)")
        store.install(profile(id: 1, purpose: .chargerMax, periods: [.init(start: 0, limit: 7.5)]))
        result = limit(store, at: t0)
        #expect(result.amperes == 7.5)
        #expect(result.source == "ChargePointMaxProfile #1 (stack 0)")
    }

    @Test("a TxProfile wins over TxDefaultProfile during its transaction only")
    func txProfileDuringTransaction() {
        var store = SimulatedProfileStore()
        store.install(profile(id: 1, purpose: .txDefault, periods: [.init(start: 0, limit: 16)]))
        store.install(profile(id: 2, purpose: .tx, outlet: 1, periods: [.init(start: 0, limit: 25)]))
        #expect(limit(store, at: t0).amperes == 16)
        #expect(limit(store, at: t0, transactionStart: t0).amperes == 25)
        store.transactionEnded(outlet: 1)
        #expect(limit(store, at: t0, transactionStart: t0).amperes == 16)
    }

    @Test("a connector's TxDefaultProfile overrides the one on connector 0")
    func connectorOverridesAll() {
        var store = SimulatedProfileStore()
        store.install(profile(id: 1, stack: 5, purpose: .txDefault, outlet: 0, periods: [.init(start: 0, limit: 10)]))
        store.install(profile(id: 2, stack: 0, purpose: .txDefault, outlet: 1, periods: [.init(start: 0, limit: 20)]))
        #expect(limit(store, at: t0).amperes == 20)
    }

    @Test("the highest stack level in force wins; when it ends the next lower one applies")
    func stackLevels() {
        var store = SimulatedProfileStore()
        store.install(profile(id: 1, stack: 0, purpose: .txDefault, periods: [.init(start: 0, limit: 8)]))
        store.install(
            profile(
                id: 2,
                stack: 3,
                purpose: .txDefault,
                kind: .absolute,
                start: t0.addingTimeInterval(3600),
                duration: 1800,
                periods: [.init(start: 0, limit: 30)]
            )
        )
        #expect(limit(store, at: t0).amperes == 8)
        #expect(limit(store, at: t0.addingTimeInterval(3600)).amperes == 30)
        #expect(limit(store, at: t0.addingTimeInterval(5399)).amperes == 30)
        #expect(limit(store, at: t0.addingTimeInterval(5400)).amperes == 8)
    }

    @Test("periods follow each other; relative schedules count from the transaction start")
    func periodsAndRelative() {
        var store = SimulatedProfileStore()
        store.install(
            profile(
                id: 1,
                purpose: .txDefault,
                periods: [.init(start: 0, limit: 6), .init(start: 60, limit: 12), .init(start: 120, limit: 24)]
            )
        )
        let start = t0.addingTimeInterval(1000)
        #expect(limit(store, at: start.addingTimeInterval(59), transactionStart: start).amperes == 6)
        #expect(limit(store, at: start.addingTimeInterval(60), transactionStart: start).amperes == 12)
        #expect(limit(store, at: start.addingTimeInterval(4000), transactionStart: start).amperes == 24)
    }

    @Test("a daily recurring profile repeats every 24 h from its start")
    func recurringDaily() {
        var store = SimulatedProfileStore()
        store.install(
            profile(
                id: 1,
                purpose: .chargerMax,
                kind: .recurring(period: 86_400),
                start: t0,
                periods: [.init(start: 0, limit: 10), .init(start: 3600, limit: 20)]
            )
        )
        #expect(limit(store, at: t0.addingTimeInterval(-1)).amperes == 32)
        #expect(limit(store, at: t0.addingTimeInterval(86_400 * 3 + 100)).amperes == 10)
        #expect(limit(store, at: t0.addingTimeInterval(86_400 * 3 + 3700)).amperes == 20)
    }

    @Test("W limits are converted with 230 V and the period's phases (3 when not given)")
    func wattsToAmperes() {
        var store = SimulatedProfileStore()
        store.install(profile(id: 1, purpose: .chargerMax, unit: .watts, periods: [.init(start: 0, limit: 6900)]))
        #expect(abs(limit(store, at: t0).amperes - 10) < 1e-9)
        store.install(
            profile(id: 1, purpose: .chargerMax, unit: .watts, periods: [.init(start: 0, limit: 2300, numberPhases: 1)])
        )
        let result = limit(store, at: t0)
        #expect(abs(result.amperes - 10) < 1e-9)
        #expect(result.numberPhases == 1)
    }

    @Test("validFrom and validTo bound a profile")
    func validity() {
        var store = SimulatedProfileStore()
        store.install(
            profile(
                id: 1,
                purpose: .chargerMax,
                periods: [.init(start: 0, limit: 10)],
                validFrom: t0.addingTimeInterval(10),
                validTo: t0.addingTimeInterval(20)
            )
        )
        #expect(limit(store, at: t0.addingTimeInterval(9)).amperes == 32)
        #expect(limit(store, at: t0.addingTimeInterval(10)).amperes == 10)
        #expect(limit(store, at: t0.addingTimeInterval(20)).amperes == 32)
    }

    @Test("a profile replaces the one with the same id, or the same purpose, stack level and outlet")
    func replacement() {
        var store = SimulatedProfileStore()
        store.install(profile(id: 1, stack: 1, purpose: .txDefault, outlet: 1, periods: [.init(start: 0, limit: 10)]))
        store.install(profile(id: 1, stack: 2, purpose: .txDefault, outlet: 1, periods: [.init(start: 0, limit: 11)]))
        #expect(store.profiles.map(\.id) == [1])
        store.install(profile(id: 2, stack: 2, purpose: .txDefault, outlet: 1, periods: [.init(start: 0, limit: 12)]))
        #expect(store.profiles.map(\.id) == [2])
        store.install(profile(id: 3, stack: 2, purpose: .txDefault, outlet: 0, periods: [.init(start: 0, limit: 12)]))
        #expect(store.profiles.map(\.id) == [2, 3])
    }

    @Test("clear by id alone, by criteria, or everything")
    func clearing() {
        var store = SimulatedProfileStore()
        store.install(profile(id: 1, stack: 1, purpose: .chargerMax, periods: [.init(start: 0, limit: 10)]))
        store.install(profile(id: 2, stack: 1, purpose: .txDefault, outlet: 1, periods: [.init(start: 0, limit: 10)]))
        store.install(profile(id: 3, stack: 2, purpose: .txDefault, outlet: 1, periods: [.init(start: 0, limit: 10)]))
        #expect(store.clear(id: 9, purpose: .chargerMax) == 0)
        #expect(store.clear(purpose: .txDefault, stackLevel: 2) == 1)
        #expect(store.profiles.map(\.id) == [1, 2])
        #expect(store.clear() == 2)
        #expect(store.profiles.isEmpty)
    }

    @Test("1.6 and 2.0.1 requests are read; invalid ones are rejected with a reason")
    func readingRequests() throws {
        let request16 = OCPP16.SetChargingProfileRequest.chargePointMaxProfile(
            limit: .amperes(10),
            profileID: 7,
            stackLevel: 1,
            startSchedule: nil
        )
        let read16 = try SimulatedProfile(request16, receivedAt: t0)
        #expect(read16.purpose == .chargerMax && read16.kind == .relative && read16.periods[0].limit == 10)
        let request2 = OCPP2.SetChargingProfileRequest.txDefaultProfile(
            evseID: 1,
            limit: .watts(11_000, numberPhases: 3),
            profileID: 8,
            stackLevel: 2,
            startSchedule: t0
        )
        let read2 = try SimulatedProfile(request2, receivedAt: t0)
        #expect(read2.kind == .absolute && read2.startSchedule == t0 && read2.unit == .watts && read2.outlet == 1)

        func rejection(_ change: (inout OCPP16.SetChargingProfileRequest) -> Void) -> String? {
            var request = request16
            change(&request)
            do {
                _ = try SimulatedProfile(request, receivedAt: t0)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(rejection { $0.csChargingProfiles.stackLevel = 9 }?.contains("stackLevel 9") == true)
        #expect(rejection { $0.connectorId = 1 }?.contains("outlet 0") == true)
        #expect(rejection { $0.connectorId = 2 }?.contains("does not exist") == true)
        #expect(
            rejection { $0.csChargingProfiles.chargingSchedule.chargingRateUnit = "kW" }?.contains("A or W") == true
        )
        #expect(rejection { $0.csChargingProfiles.chargingProfilePurpose = "Foo" }?.contains("Foo") == true)
        #expect(
            rejection {
                $0.csChargingProfiles.chargingSchedule.chargingSchedulePeriod = [
                    .init(startPeriod: 0, limit: 6), .init(startPeriod: 0, limit: 7),
                ]
            }?.contains("ascend") == true
        )
        #expect(
            rejection { $0.csChargingProfiles.chargingProfileKind = "Recurring" }?.contains("recurrencyKind") == true
        )
        #expect(
            rejection { $0.csChargingProfiles.validFrom = "0000-00-00T00:00:00.000Z" }?.contains("validFrom") == true
        )
    }
}

@Suite("Simulated charger: car")
struct ChargerSimulatorCarTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("the car follows a new offer after its reaction delay, and at once when the contactor opens")
    func reactionDelay() {
        var car = SimulatedCar(configuration: SimulatedCarConfiguration(maxCurrent: 32), arrivedAt: t0)
        car.offer(.init(amperes: 16, phases: 3), at: t0)
        #expect(car.current == 0)
        _ = car.advance(from: t0, to: t0.addingTimeInterval(1.999), voltage: 230)
        #expect(car.current == 0)
        _ = car.advance(from: t0.addingTimeInterval(1.999), to: t0.addingTimeInterval(2), voltage: 230)
        #expect(car.current == 16)
        car.offer(.none, at: t0.addingTimeInterval(3), immediately: true)
        #expect(car.current == 0)
    }

    @Test("below 6 A the car pauses; it never draws more than its own maximum")
    func pauseAndMaximum() {
        var car = SimulatedCar(
            configuration: SimulatedCarConfiguration(maxCurrent: 10, reactionDelay: .zero),
            arrivedAt: t0
        )
        car.offer(.init(amperes: 5.9, phases: 3), at: t0)
        _ = car.advance(from: t0, to: t0.addingTimeInterval(1), voltage: 230)
        #expect(car.current == 0)
        car.offer(.init(amperes: 6, phases: 3), at: t0.addingTimeInterval(1))
        _ = car.advance(from: t0.addingTimeInterval(1), to: t0.addingTimeInterval(2), voltage: 230)
        #expect(car.current == 6)
        car.offer(.init(amperes: 32, phases: 3), at: t0.addingTimeInterval(2))
        _ = car.advance(from: t0.addingTimeInterval(2), to: t0.addingTimeInterval(3), voltage: 230)
        #expect(car.current == 10)
    }

    @Test("energy is current × 230 V × phases × time; a 1-phase car on a 3-phase offer uses one phase")
    func energyIntegration() {
        var car = SimulatedCar(
            configuration: SimulatedCarConfiguration(energyNeeded: 100_000, maxCurrent: 16, reactionDelay: .zero),
            arrivedAt: t0
        )
        car.offer(.init(amperes: 16, phases: 3), at: t0)
        let (energy, fullAt) = car.advance(from: t0, to: t0.addingTimeInterval(3600), voltage: 230)
        #expect(abs(energy - 11_040) < 1e-6)
        #expect(fullAt == nil)

        var onePhase = SimulatedCar(
            configuration: SimulatedCarConfiguration(
                energyNeeded: 100_000,
                maxCurrent: 16,
                phases: 1,
                reactionDelay: .zero
            ),
            arrivedAt: t0
        )
        onePhase.offer(.init(amperes: 16, phases: 3), at: t0)
        #expect(onePhase.phasesUsed == 1)
        #expect(abs(onePhase.advance(from: t0, to: t0.addingTimeInterval(3600), voltage: 230).energy - 3680) < 1e-6)
    }

    @Test("the car tapers in the last 5 % and is full at exactly the energy it needed")
    func taperAndFull() {
        var car = SimulatedCar(
            configuration: SimulatedCarConfiguration(energyNeeded: 1000, maxCurrent: 16, reactionDelay: .zero),
            arrivedAt: t0
        )
        car.offer(.init(amperes: 16, phases: 3), at: t0)
        // 950 Wh at 11,040 W take 309.78 s.
        var result = car.advance(from: t0, to: t0.addingTimeInterval(309), voltage: 230)
        #expect(car.current == 16)
        result = car.advance(from: t0.addingTimeInterval(309), to: t0.addingTimeInterval(320), voltage: 230)
        #expect(car.current < 16 && car.current >= 16 * SimulatedCar.minimumTaper)
        result = car.advance(from: t0.addingTimeInterval(320), to: t0.addingTimeInterval(7200), voltage: 230)
        #expect(car.isFull && car.delivered == 1000)
        // The last 50 Wh take longer than at full current (16.3 s) and at most 5× as long.
        let seconds = result.fullAt.map { $0.timeIntervalSince(t0) }
        #expect(
            seconds.map { $0 > 309.78 + 16.3 && $0 < 309.78 + 82 } == true,
            "full after \(String(describing: seconds)) s"
        )
    }
}
