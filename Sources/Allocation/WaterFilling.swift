/// Max-min fair sharing with floors and ceilings under several capacity constraints
/// ("progressive filling").
///
/// A water level `L` rises; every charger that is still free gets `clamp(L, floor, ceiling)`.
/// When a constraint (one phase of the site or of a circuit) is full, every free charger on it
/// is frozen at its current value; when the level reaches a charger's ceiling, that charger is
/// frozen there. The result is the max-min fair allocation: no charger can get more without
/// taking from one that has less or equal.
///
/// Cost: O(n log n) for sorting, plus O(m) per event with at most 2n + m events
/// (n chargers, m constraints; m is 3 per phase set, so small).
struct WaterFilling {
    struct Item {
        var floor: Double
        var ceiling: Double
        /// Indices of the constraints this item counts on (each at most once).
        var constraints: [Int]
    }

    enum Bound: Equatable {
        /// Frozen because this constraint was full.
        case constraint(Int)
        /// Reached its own ceiling.
        case ceiling
    }

    struct Result {
        var value: Double
        var bound: Bound
    }

    /// Fills `items` into `capacity` (per constraint, amperes). The floors must already fit.
    static func fill(_ items: [Item], capacity: [Double]) -> [Result] {
        let count = items.count
        guard count > 0 else { return [] }
        let constraintCount = capacity.count
        var results = [Result](repeating: Result(value: 0, bound: .ceiling), count: count)
        var usage = [Double](repeating: 0, count: constraintCount)
        var slope = [Int](repeating: 0, count: constraintCount)
        var saturated = [Bool](repeating: false, count: constraintCount)
        var members = [[Int]](repeating: [], count: constraintCount)
        // 0 pending (level below floor), 1 active, 2 frozen
        var phase = [UInt8](repeating: 0, count: count)
        for (index, item) in items.enumerated() {
            for constraint in item.constraints {
                usage[constraint] += item.floor
                members[constraint].append(index)
            }
        }
        var joins = Array(0..<count)
        joins.sort { items[$0].floor != items[$1].floor ? items[$0].floor < items[$1].floor : $0 < $1 }
        var leaves = Array(0..<count)
        leaves.sort { items[$0].ceiling != items[$1].ceiling ? items[$0].ceiling < items[$1].ceiling : $0 < $1 }
        var joinPointer = 0
        var leavePointer = 0
        var level = items[joins[0]].floor
        let epsilon = 1e-9

        func freeze(_ index: Int, at value: Double, bound: Bound) {
            if phase[index] == 1 {
                for constraint in items[index].constraints { slope[constraint] -= 1 }
            }
            phase[index] = 2
            results[index] = Result(value: value, bound: bound)
        }

        while true {
            // Chargers whose floor the level reached start rising with it.
            while joinPointer < count, items[joins[joinPointer]].floor <= level + epsilon {
                let index = joins[joinPointer]
                joinPointer += 1
                let item = items[index]
                if let full = item.constraints.first(where: { saturated[$0] }) {
                    phase[index] = 2
                    results[index] = Result(value: item.floor, bound: .constraint(full))
                } else if item.ceiling <= item.floor + epsilon {
                    phase[index] = 2
                    results[index] = Result(value: item.ceiling, bound: .ceiling)
                } else {
                    phase[index] = 1
                    for constraint in item.constraints { slope[constraint] += 1 }
                }
            }
            // Chargers whose ceiling the level reached stop.
            while leavePointer < count, items[leaves[leavePointer]].ceiling <= level + epsilon {
                let index = leaves[leavePointer]
                leavePointer += 1
                if phase[index] == 1 { freeze(index, at: items[index].ceiling, bound: .ceiling) }
            }
            // Constraints that are full freeze everyone still rising on them.
            for constraint in 0..<constraintCount where !saturated[constraint] {
                let room = capacity[constraint] - usage[constraint]
                if room <= epsilon * max(1, abs(capacity[constraint])) && slope[constraint] > 0 {
                    saturated[constraint] = true
                    for index in members[constraint] where phase[index] == 1 {
                        freeze(index, at: level, bound: .constraint(constraint))
                    }
                }
            }
            // The next event: a floor, a ceiling, or a constraint filling up.
            var next = Double.infinity
            if joinPointer < count { next = items[joins[joinPointer]].floor }
            while leavePointer < count, phase[leaves[leavePointer]] == 2 { leavePointer += 1 }
            if leavePointer < count { next = min(next, items[leaves[leavePointer]].ceiling) }
            for constraint in 0..<constraintCount where slope[constraint] > 0 {
                let room = max(0, capacity[constraint] - usage[constraint])
                next = min(next, level + room / Double(slope[constraint]))
            }
            guard next.isFinite else { break }
            let rise = max(0, next - level)
            for constraint in 0..<constraintCount where slope[constraint] > 0 {
                usage[constraint] += rise * Double(slope[constraint])
            }
            level = max(level, next)
        }
        return results
    }
}
