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
        // Join and leave order: by floor (ceiling), then by index. (value, index) pairs compare
        // lexicographically, so this is a total order and any sort gives the same sequence.
        let joinOrder = order(items.map(\.floor))
        let leaveOrder = order(items.map(\.ceiling))
        // The passes over every (item, constraint) pair are what a fill costs. Every index is
        // checked once (item ranges here, constraint indices in the first pass); the passes then
        // work on unsafe buffers, without a bounds or uniqueness check per pair.
        for item in items {
            precondition(item.constraints.lowerBound >= 0 && item.constraints.upperBound <= constraintList.count)
        }
        var scratch = Scratch(items: count, constraints: constraintCount, positions: constraintList.count)
        defer { scratch.deallocate() }
        var results = [Result](repeating: Result(value: 0, bound: .ceiling), count: count)
        results.withUnsafeMutableBufferPointer { results in
            constraintList.withUnsafeBufferPointer { constraintList in
                items.withUnsafeBufferPointer { items in
                    scratch.fill(
                        items,
                        into: results,
                        constraintList: constraintList,
                        capacity: capacity,
                        joinOrder: joinOrder,
                        leaveOrder: leaveOrder
                    )
                }
            }
        }
        return results
    }

    /// The working state of one fill, in buffers it owns (see ``fill(_:constraintList:capacity:)``).
    ///
    /// Items with the same constraints (chargers on the same phases and circuit share one range of
    /// the list) form a group. Slopes change group by group: the items that join, reach their
    /// ceiling or freeze in one step change their group's count, and each changed group then
    /// updates its constraints once, instead of every item updating every constraint it is on.
    /// A constraint's members are the items of the groups on it; freezing them does not depend on
    /// their order. An item whose range starts where another group's does, but differs, is a group
    /// of its own.
    private struct Scratch {
        let usage: UnsafeMutableBufferPointer<Double>
        /// How many active items each constraint has: its usage rises this fast with the level.
        let slope: UnsafeMutableBufferPointer<Int>
        let saturated: UnsafeMutableBufferPointer<Bool>
        /// 0 pending (level below floor), 1 active, 2 frozen.
        let phase: UnsafeMutableBufferPointer<UInt8>
        /// Each item's group, and the group first seen with a range starting at a position.
        let groupOfItem: UnsafeMutableBufferPointer<Int>
        let groupAt: UnsafeMutableBufferPointer<Int>
        let groupRange: UnsafeMutableBufferPointer<Range<Int>>
        /// The items of group g are groupItems[groupStart[g]..<groupStart[g + 1]], in item order.
        let groupStart: UnsafeMutableBufferPointer<Int>
        let groupItems: UnsafeMutableBufferPointer<Int>
        /// The groups on constraint c are constraintGroups[constraintGroupStart[c]..<constraintGroupStart[c + 1]].
        let constraintGroupStart: UnsafeMutableBufferPointer<Int>
        var constraintGroups: UnsafeMutableBufferPointer<Int>
        /// Per group the change of its active items not yet applied to its constraints' slopes, and
        /// the groups with such a change.
        let delta: UnsafeMutableBufferPointer<Int>
        let changed: UnsafeMutableBufferPointer<Int>
        var changedCount = 0
        var groupCount = 0

        init(items count: Int, constraints constraintCount: Int, positions: Int) {
            func buffer<Element>(_ count: Int, _ value: Element) -> UnsafeMutableBufferPointer<Element> {
                let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: count)
                buffer.initialize(repeating: value)
                return buffer
            }
            usage = buffer(constraintCount, 0)
            slope = buffer(constraintCount, 0)
            saturated = buffer(constraintCount, false)
            phase = buffer(count, 0)
            // (Every element of these is written before it is read.)
            groupOfItem = .allocate(capacity: count)
            groupRange = .allocate(capacity: count)
            groupItems = .allocate(capacity: count)
            groupAt = buffer(positions + 1, -1)
            groupStart = buffer(count + 1, 0)
            constraintGroupStart = buffer(constraintCount + 1, 0)
            constraintGroups = buffer(0, 0)
            delta = buffer(count, 0)
            // (Between two updates of the slopes an item changes its group's count at most twice:
            // joining and reaching its ceiling.)
            changed = .allocate(capacity: 2 * count)
        }

        func deallocate() {
            usage.deallocate()
            slope.deallocate()
            saturated.deallocate()
            phase.deallocate()
            groupOfItem.deallocate()
            groupAt.deallocate()
            groupRange.deallocate()
            groupStart.deallocate()
            groupItems.deallocate()
            constraintGroupStart.deallocate()
            constraintGroups.deallocate()
            delta.deallocate()
            changed.deallocate()
        }

        /// Records that `group` gains (+1) or loses (−1) an active item.
        @inline(__always)
        mutating func change(_ group: Int, by amount: Int) {
            if delta[group] == 0 {
                changed[changedCount] = group
                changedCount += 1
            }
            delta[group] += amount
        }

        /// Applies the groups' changes to the slopes of their constraints.
        mutating func applyChanges(_ constraintList: UnsafeBufferPointer<Int>) {
            for slot in 0..<changedCount {
                let group = changed[slot]
                let amount = delta[group]
                guard amount != 0 else { continue }
                delta[group] = 0
                for position in groupRange[group] { slope[constraintList[position]] += amount }
            }
            changedCount = 0
        }

        mutating func fill(
            _ items: UnsafeBufferPointer<Item>,
            into results: UnsafeMutableBufferPointer<Result>,
            constraintList: UnsafeBufferPointer<Int>,
            capacity: [Double],
            joinOrder: [Int],
            leaveOrder: [Int]
        ) {
            let count = items.count
            let constraintCount = capacity.count
            for (index, item) in items.enumerated() {
                for position in item.constraints {
                    let constraint = constraintList[position]
                    precondition(constraint >= 0 && constraint < constraintCount)
                    usage[constraint] += item.floor
                }
                let start = item.constraints.lowerBound
                var group = groupAt[start]
                if group < 0 || groupRange[group] != item.constraints {
                    group = groupCount
                    groupRange[group] = item.constraints
                    groupCount += 1
                    if groupAt[start] < 0 { groupAt[start] = group }
                }
                groupOfItem[index] = group
                groupStart[group + 1] += 1
            }
            for group in 0..<groupCount { groupStart[group + 1] += groupStart[group] }
            for index in 0..<count {
                let group = groupOfItem[index]
                // (`delta` is still all zero: it serves as each group's count of placed items.)
                groupItems[groupStart[group] + delta[group]] = index
                delta[group] += 1
            }
            for group in 0..<groupCount {
                delta[group] = 0
                for position in groupRange[group] { constraintGroupStart[constraintList[position] + 1] += 1 }
            }
            for constraint in 0..<constraintCount {
                constraintGroupStart[constraint + 1] += constraintGroupStart[constraint]
            }
            constraintGroups.deallocate()
            constraintGroups = .allocate(capacity: constraintGroupStart[constraintCount])
            for group in 0..<groupCount {
                for position in groupRange[group] {
                    let constraint = constraintList[position]
                    // (`slope` is still all zero: it serves as each constraint's count of placed groups.)
                    constraintGroups[constraintGroupStart[constraint] + slope[constraint]] = group
                    slope[constraint] += 1
                }
            }
            for constraint in 0..<constraintCount { slope[constraint] = 0 }

            var joinPointer = 0
            var leavePointer = 0
            var level = items[joinOrder[0]].floor
            let epsilon = 1e-9
            var anySaturated = false

            while true {
                // Chargers whose floor the level reached start rising with it.
                while joinPointer < count, items[joinOrder[joinPointer]].floor <= level + epsilon {
                    let index = joinOrder[joinPointer]
                    joinPointer += 1
                    let item = items[index]
                    var full: Int?
                    // (No constraint is full before the first one fills up: most items join before that.)
                    if anySaturated {
                        for position in item.constraints where saturated[constraintList[position]] {
                            full = constraintList[position]
                            break
                        }
                    }
                    if let full {
                        phase[index] = 2
                        results[index] = Result(value: item.floor, bound: .constraint(full))
                    } else if item.ceiling <= item.floor + epsilon {
                        phase[index] = 2
                        results[index] = Result(value: item.ceiling, bound: .ceiling)
                    } else {
                        phase[index] = 1
                        change(groupOfItem[index], by: 1)
                    }
                }
                // Chargers whose ceiling the level reached stop.
                while leavePointer < count, items[leaveOrder[leavePointer]].ceiling <= level + epsilon {
                    let index = leaveOrder[leavePointer]
                    leavePointer += 1
                    if phase[index] == 1 {
                        phase[index] = 2
                        results[index] = Result(value: items[index].ceiling, bound: .ceiling)
                        change(groupOfItem[index], by: -1)
                    }
                }
                applyChanges(constraintList)
                // Constraints that are full freeze everyone still rising on them.
                for constraint in 0..<constraintCount where !saturated[constraint] {
                    let room = capacity[constraint] - usage[constraint]
                    if room <= epsilon * max(1, abs(capacity[constraint])) && slope[constraint] > 0 {
                        saturated[constraint] = true
                        anySaturated = true
                        for slot in constraintGroupStart[constraint]..<constraintGroupStart[constraint + 1] {
                            let group = constraintGroups[slot]
                            for member in groupStart[group]..<groupStart[group + 1] {
                                let index = groupItems[member]
                                if phase[index] == 1 {
                                    phase[index] = 2
                                    results[index] = Result(value: level, bound: .constraint(constraint))
                                    change(group, by: -1)
                                }
                            }
                        }
                        applyChanges(constraintList)
                    }
                }
                // The next event: a floor, a ceiling, or a constraint filling up.
                var next = Double.infinity
                if joinPointer < count { next = items[joinOrder[joinPointer]].floor }
                while leavePointer < count, phase[leaveOrder[leavePointer]] == 2 { leavePointer += 1 }
                if leavePointer < count { next = min(next, items[leaveOrder[leavePointer]].ceiling) }
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
        }
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
