import Allocation
import Testing

@Suite struct SitePlantTests {
    let charger = Charger(id: "a", phases: 3, maxCurrent: 32)

    func vehicle(delay: Double = 2, energy: Double = 50_000, phases: Int = 3) -> SitePlant.Vehicle {
        SitePlant.Vehicle(
            id: "ev",
            charger: "a",
            arrive: 0,
            depart: 100,
            energyRequested: energy,
            maxCurrent: 16,
            phases: phases,
            reactionDelay: delay
        )
    }

    @Test func aChargerWithoutAProfileOffersItsMaximumAndTheCarTakesItsOwn() {
        var plant = SitePlant(chargers: [charger], vehicles: [vehicle()])
        let reading = plant.step(time: 0, building: PhaseCurrents(all: 5))
        #expect(reading.chargers[0].terminals == PhaseCurrents(all: 16))
        #expect(reading.grid == PhaseCurrents(all: 21))
        #expect(reading.chargers[0].status == .charging)
    }

    @Test func theCarFollowsANewLimitAfterItsReactionDelay() {
        var plant = SitePlant(chargers: [charger], vehicles: [vehicle(delay: 3)])
        _ = plant.step(time: 0, building: .zero)
        plant.send(limit: 10, to: "a")
        let r1 = plant.step(time: 1, building: .zero)
        #expect(r1.chargers[0].terminals.l1 == 16)
        let r2 = plant.step(time: 3, building: .zero)
        #expect(r2.chargers[0].terminals.l1 == 16)
        let r3 = plant.step(time: 4, building: .zero)
        #expect(r3.chargers[0].terminals.l1 == 10)
    }

    @Test func theChargerAppliesLimitsNoFasterThanOncePerFiveSeconds() {
        var plant = SitePlant(chargers: [charger], vehicles: [vehicle(delay: 0)])
        plant.send(limit: 10, to: "a")
        let r4 = plant.step(time: 0, building: .zero)
        #expect(r4.chargers[0].appliedLimit == 10)
        plant.send(limit: 12, to: "a")
        let r5 = plant.step(time: 2, building: .zero)
        #expect(r5.chargers[0].appliedLimit == 10)
        let r6 = plant.step(time: 5, building: .zero)
        #expect(r6.chargers[0].appliedLimit == 12)
    }

    @Test func belowSixAmperesNothingFlows() {
        var plant = SitePlant(chargers: [charger], vehicles: [vehicle(delay: 0)])
        plant.send(limit: 5, to: "a")
        let reading = plant.step(time: 0, building: .zero)
        #expect(reading.chargers[0].terminals == .zero)
        #expect(reading.chargers[0].status == .suspendedEVSE)
    }

    @Test func aNearlyFullCarTapersAndAFullOneStops() {
        var plant = SitePlant(chargers: [charger], vehicles: [vehicle(energy: 100)])
        var reading = plant.step(time: 0, building: .zero)
        #expect(reading.chargers[0].terminals.l1 == 16)
        var time = 1.0
        while reading.chargers[0].status == .charging, time < 100 {
            reading = plant.step(time: time, building: .zero)
            time += 1
        }
        #expect(reading.chargers[0].status == .suspendedEV)
        #expect(plant.vehicles[0].isFull)
    }

    @Test func aOnePhaseCarDrawsOnOneTerminalAndTheCarLeavesAtDeparture() {
        var plant = SitePlant(chargers: [charger], vehicles: [vehicle(phases: 1)])
        let r7 = plant.step(time: 0, building: .zero)
        #expect(r7.chargers[0].terminals == PhaseCurrents(l1: 16, l2: 0, l3: 0))
        let gone = plant.step(time: 100, building: .zero)
        #expect(gone.chargers[0].vehicle == nil)
        #expect(gone.chargers[0].status == .available)
    }

    @Test func anOfflineChargerHearsNothing() {
        var plant = SitePlant(chargers: [charger], vehicles: [vehicle()])
        plant.setOnline(false, charger: "a")
        let delivered = plant.send(limit: 6, to: "a")
        #expect(!delivered)
        let r8 = plant.step(time: 0, building: .zero)
        #expect(r8.chargers[0].appliedLimit == 32)
    }
}
