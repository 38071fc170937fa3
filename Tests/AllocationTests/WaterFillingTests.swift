import Testing

@testable import Allocation

@Suite struct WaterFillingTests {
    @Test func itemsWhoseRangesStartAtTheSamePositionButDifferAreFilledOnTheirOwnConstraints() {
        // Constraint 0 holds 10 A, constraint 1 holds 2 A. A is on both; B is on constraint 0 only,
        // through a range that starts where A's does; C is on constraint 0 through another position.
        let constraintList = [0, 1, 0]
        let items = [
            WaterFilling.Item(floor: 0, ceiling: 100, constraints: 0..<2),
            WaterFilling.Item(floor: 0, ceiling: 100, constraints: 0..<1),
            WaterFilling.Item(floor: 0, ceiling: 100, constraints: 2..<3),
        ]
        let results = WaterFilling.fill(items, constraintList: constraintList, capacity: [10, 2])
        #expect(results.map(\.value) == [2, 4, 4])
        #expect(results.map(\.bound) == [.constraint(1), .constraint(0), .constraint(0)])
    }

    @Test func sharedConstraintListsGiveWhatOneListPerItemGives() {
        var random = SeededRandom(seed: 7)
        for _ in 0..<200 {
            // Lists for a few (phases, circuit) combinations: site phases, then the circuit's phases.
            let circuits = Int.random(in: 0...3, using: &random)
            let capacity = (0..<(3 + 3 * circuits)).map { _ in Double(Int.random(in: 0...400, using: &random)) / 4 }
            var shared = [Int]()
            var lists = [Range<Int>]()
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let phases = (0..<3).filter { _ in Bool.random(using: &random) }
                let circuit =
                    circuits > 0 && Bool.random(using: &random) ? Int.random(in: 0..<circuits, using: &random) : nil
                let start = shared.count
                shared += phases
                if let circuit { shared += phases.map { 3 + 3 * circuit + $0 } }
                lists.append(start..<shared.count)
            }
            var sharedItems = [WaterFilling.Item]()
            var ownItems = [WaterFilling.Item]()
            var own = [Int]()
            for _ in 0..<Int.random(in: 1...60, using: &random) {
                let floor = [0.0, 6, 6, 6, 7][Int.random(in: 0..<5, using: &random)]
                let ceiling = floor + Double(Int.random(in: 0...104, using: &random)) / 4
                let list = lists[Int.random(in: 0..<lists.count, using: &random)]
                sharedItems.append(WaterFilling.Item(floor: floor, ceiling: ceiling, constraints: list))
                let start = own.count
                own += shared[list]
                ownItems.append(WaterFilling.Item(floor: floor, ceiling: ceiling, constraints: start..<own.count))
            }
            let fromShared = WaterFilling.fill(sharedItems, constraintList: shared, capacity: capacity)
            let fromOwn = WaterFilling.fill(ownItems, constraintList: own, capacity: capacity)
            #expect(fromShared.map(\.value) == fromOwn.map(\.value))
            #expect(fromShared.map(\.bound) == fromOwn.map(\.bound))
        }
    }
}

/// xorshift, so that every run checks the same cases.
private struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
