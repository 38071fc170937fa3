import Allocation
import Foundation
import Testing

/// The memory an allocation writes is read by position when the next allocation has the same
/// chargers; these tests check that this gives exactly what looking entries up by id gives.
@Suite struct AllocationMemoryTests {
    /// Three-phase and one-phase chargers on a short grid, cars drawing less than offered, so that
    /// turns, dwell times and holds all end up in the memory.
    func chargers(ids: [String]) -> [ChargerState] {
        ids.enumerated().map { index, id in
            plugged(
                Charger(id: id, phases: index % 3 == 0 ? 1 : 3, maxCurrent: 32),
                draw: Double(index % 4) * 3,
                energy: Double(index * 700)
            )
        }
    }

    /// Runs `steps` allocations, once handing each allocation's memory on as it is and once as a
    /// dictionary by id, and expects the same allocations.
    func expectSameAllocations(ids: [String], steps: Int) {
        let site = Site(fuseCurrent: 40, margin: 2, maxUnbalance: 16)
        var positional = AllocationMemory()
        var byID = AllocationMemory()
        for step in 0..<steps {
            var states = chargers(ids: ids)
            if step % 5 == 4 { states[1].status = .available }
            let now = Double(step) * 40
            for index in states.indices { states[index].lastReport = now }
            let first = allocate(
                siteState(now: now, site: site, chargers: states, building: PhaseCurrents(all: 5), memory: positional)
            )
            let second = allocate(
                siteState(now: now, site: site, chargers: states, building: PhaseCurrents(all: 5), memory: byID)
            )
            #expect(first == second, "step \(step)")
            #expect(first.memory.chargers == second.memory.chargers, "step \(step)")
            positional = first.memory
            byID = AllocationMemory(chargers: second.memory.chargers)
        }
    }

    @Test func memoryReadByPositionGivesWhatLookingUpByIDGives() {
        expectSameAllocations(ids: (0..<12).map { "cp\($0)" }, steps: 30)
    }

    @Test func aRepeatedChargerIDReadsTheLastEntryAsADictionaryWould() {
        expectSameAllocations(ids: ["a", "b", "a", "c", "b", "d"], steps: 30)
    }

    @Test func memoryOfOtherChargersIsLookedUpByID() {
        let site = Site(fuseCurrent: 40)
        let first = allocate(
            siteState(site: site, chargers: chargers(ids: ["a", "b", "c"]), building: .zero)
        )
        // "b" left; "a" and "c" keep their entries although their positions changed.
        let second = allocate(
            siteState(
                now: 10,
                site: site,
                chargers: chargers(ids: ["c", "a"]),
                building: .zero,
                memory: first.memory
            )
        )
        #expect(Set(second.memory.chargers.keys) == ["a", "c"])
        #expect(second.memory.chargers["a"]?.since == first.memory.chargers["a"]?.since)
        #expect(second.memory.chargers["c"]?.since == first.memory.chargers["c"]?.since)
    }

    @Test func memoryEncodesAsADictionaryByIDAndDecodesToEqualMemory() throws {
        let allocation = allocate(
            siteState(site: Site(fuseCurrent: 40), chargers: chargers(ids: ["a", "b"]), building: .zero)
        )
        let data = try JSONEncoder().encode(allocation.memory)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
        #expect(object?["chargers"].map { Set($0.keys) } == ["a", "b"])
        let decoded = try JSONDecoder().decode(AllocationMemory.self, from: data)
        #expect(decoded == allocation.memory)
        #expect(decoded.chargers == allocation.memory.chargers)
    }
}
