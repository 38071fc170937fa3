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
/// (n chargers, m constraints; m is 3 per phase set, so small). Items are plain values that point
/// into one shared list of constraint indices, so a call allocates a handful of arrays, not one
/// per charger.
struct WaterFilling {
    struct Item {
        var floor: Double
        var ceiling: Double
        /// Where this item's constraint indices lie in the `constraintList` handed to
        /// ``WaterFilling/fill(_:constraintList:capacity:)`` (each constraint at most once).
        var constraints: Range<Int>
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
    static func fill(_ items: [Item], constraintList: [Int], capacity: [Double]) -> [Result] {
        let count = items.count
        guard count > 0 else { return [] }
        let constraintCount = capacity.count
        var results = [Result](repeating: Result(value: 0, bound: .ceiling), count: count)
        var usage = [Double](repeating: 0, count: constraintCount)
        var slope = [Int](repeating: 0, count: constraintCount)
        var saturated = [Bool](repeating: false, count: constraintCount)
        // The items on each constraint, as one flat list: members of constraint c are
        // memberList[memberStart[c]..<memberStart[c + 1]], in item order.
        var memberStart = [Int](repeating: 0, count: constraintCount + 1)
        // 0 pending (level below floor), 1 active, 2 frozen
        var phase = [UInt8](repeating: 0, count: count)
        // Join and leave order: by floor (ceiling), then by index. (value, index) pairs compare
        // lexicographically, so this is a total order and any sort gives the same sequence.
        let joinOrder = order(items.map(\.floor))
        let leaveOrder = order(items.map(\.ceiling))
        // The passes over every (item, constraint) pair work on spans: writing through the arrays
        // would check their uniqueness for every pair, which cost more than the filling itself.
        do {
            let items = items.span
            let constraintList = constraintList.span
            var usage = usage.mutableSpan
            var starts = memberStart.mutableSpan
            for index in items.indices {
                let floor = items[index].floor
                for position in items[index].constraints {
                    let constraint = constraintList[position]
                    usage[constraint] += floor
                    starts[constraint + 1] += 1
                }
            }
            for constraint in 0..<constraintCount { starts[constraint + 1] += starts[constraint] }
        }
        var memberList = [Int](repeating: 0, count: memberStart[constraintCount])
        do {
            let items = items.span
            let constraintList = constraintList.span
            var members = memberList.mutableSpan
            var memberFill = memberStart
            var next = memberFill.mutableSpan
            for index in items.indices {
                for position in items[index].constraints {
                    let constraint = constraintList[position]
                    members[next[constraint]] = index
                    next[constraint] += 1
                }
            }
        }
        var joinPointer = 0
        var leavePointer = 0
        var level = items[joinOrder[0]].floor
        let epsilon = 1e-9
        var anySaturated = false

        let itemSpan = items.span
        let constraints = constraintList.span
        var slopes = slope.mutableSpan
        var phases = phase.mutableSpan
        var outcomes = results.mutableSpan
        var used = usage.mutableSpan
        var full = saturated.mutableSpan
        let capacities = capacity.span
        let starts = memberStart.span
        let members = memberList.span
        while true {
            // Chargers whose floor the level reached start rising with it.
            while joinPointer < count, itemSpan[joinOrder[joinPointer]].floor <= level + epsilon {
                let index = joinOrder[joinPointer]
                joinPointer += 1
                let item = itemSpan[index]
                var fullConstraint: Int?
                // (No constraint is full before the first one fills up: most items join before that.)
                if anySaturated {
                    for position in item.constraints where full[constraints[position]] {
                        fullConstraint = constraints[position]
                        break
                    }
                }
                if let fullConstraint {
                    phases[index] = 2
                    outcomes[index] = Result(value: item.floor, bound: .constraint(fullConstraint))
                } else if item.ceiling <= item.floor + epsilon {
                    phases[index] = 2
                    outcomes[index] = Result(value: item.ceiling, bound: .ceiling)
                } else {
                    phases[index] = 1
                    for position in item.constraints { slopes[constraints[position]] += 1 }
                }
            }
            // Chargers whose ceiling the level reached stop.
            while leavePointer < count, itemSpan[leaveOrder[leavePointer]].ceiling <= level + epsilon {
                let index = leaveOrder[leavePointer]
                leavePointer += 1
                if phases[index] == 1 {
                    for position in itemSpan[index].constraints { slopes[constraints[position]] -= 1 }
                    phases[index] = 2
                    outcomes[index] = Result(value: itemSpan[index].ceiling, bound: .ceiling)
                }
            }
            // Constraints that are full freeze everyone still rising on them.
            for constraint in 0..<constraintCount where !full[constraint] {
                let room = capacities[constraint] - used[constraint]
                if room <= epsilon * max(1, abs(capacities[constraint])) && slopes[constraint] > 0 {
                    full[constraint] = true
                    anySaturated = true
                    for member in starts[constraint]..<starts[constraint + 1] {
                        let index = members[member]
                        if phases[index] == 1 {
                            for position in itemSpan[index].constraints { slopes[constraints[position]] -= 1 }
                            phases[index] = 2
                            outcomes[index] = Result(value: level, bound: .constraint(constraint))
                        }
                    }
                }
            }
            // The next event: a floor, a ceiling, or a constraint filling up.
            var next = Double.infinity
            if joinPointer < count { next = itemSpan[joinOrder[joinPointer]].floor }
            while leavePointer < count, phases[leaveOrder[leavePointer]] == 2 { leavePointer += 1 }
            if leavePointer < count { next = min(next, itemSpan[leaveOrder[leavePointer]].ceiling) }
            for constraint in 0..<constraintCount where slopes[constraint] > 0 {
                let room = max(0, capacities[constraint] - used[constraint])
                next = min(next, level + room / Double(slopes[constraint]))
            }
            guard next.isFinite else { break }
            let rise = max(0, next - level)
            for constraint in 0..<constraintCount where slopes[constraint] > 0 {
                used[constraint] += rise * Double(slopes[constraint])
            }
            level = max(level, next)
        }
        return results
    }

    /// The indices of `values` ordered as sorted `(value, index)` pairs. Floors are mostly alike
    /// (6 A), so the join order is often the index order already; otherwise a radix sort, or a
    /// comparison sort for a few values or when a value is NaN.
    private static func order(_ values: [Double]) -> [Int] {
        var ascending = true
        for index in values.indices.dropFirst() where values[index] < values[index - 1] {
            ascending = false
            break
        }
        if ascending { return Array(values.indices) }
        if values.count >= KeyOrder.radixThreshold, let order = KeyOrder.ascending(values) { return order }
        var keys = values.enumerated().map { ($0.element, $0.offset) }
        keys.sort { $0 < $1 }
        return keys.map(\.1)
    }
}
