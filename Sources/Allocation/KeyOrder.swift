/// Orders indices by floating-point keys in linear time, for the allocator's per-call sorts
/// (turn order, water-filling join and leave order).
///
/// The order is the one sorting `(key, index)` pairs gives: keys ascending, equal keys in index
/// order (−0 and +0 are equal, as `<` treats them). A stable least-significant-digit radix sort over
/// the keys' bit patterns, mapped so that unsigned order is floating-point order, produces it in
/// O(n) instead of O(n log n) comparisons: for 1,000 chargers about a tenth of the instructions of
/// a comparison sort of tuples. Digits on which all keys agree (the sign and exponent of amperes,
/// the low bits of whole numbers) are skipped.
enum KeyOrder {
    /// Below this count a comparison sort is cheaper than the radix sort's digit tables.
    static let radixThreshold = 48

    /// The indices of `keys`, ordered by key and then by index; nil when a key is NaN (it has no
    /// place in that order, and callers keep their comparison sort for it).
    static func ascending(_ keys: [Double]) -> [Int]? {
        var sortable = [UInt64]()
        sortable.reserveCapacity(keys.count)
        for key in keys {
            guard !key.isNaN else { return nil }
            sortable.append(sortableBits(key))
        }
        return ascending(sortable)
    }

    /// The indices of `groups` ordered by group and then by index (a stable counting sort).
    /// Every group must lie in `0..<groupCount`. `order`, when given, is the order to keep within a
    /// group instead of the index order.
    static func grouped(_ groups: [Int], groupCount: Int, within order: [Int]? = nil) -> [Int] {
        var start = [Int](repeating: 0, count: groupCount + 1)
        for group in groups { start[group + 1] += 1 }
        for group in 0..<groupCount { start[group + 1] += start[group] }
        var result = [Int](repeating: 0, count: groups.count)
        if let order {
            for index in order {
                result[start[groups[index]]] = index
                start[groups[index]] += 1
            }
        } else {
            for (index, group) in groups.enumerated() {
                result[start[group]] = index
                start[group] += 1
            }
        }
        return result
    }

    /// A bit pattern whose unsigned order is the order of `value` (not NaN): negative values have
    /// all bits flipped, the others their sign bit set; −0 is read as +0.
    private static func sortableBits(_ value: Double) -> UInt64 {
        let bits = (value + 0).bitPattern
        let sign: UInt64 = 1 << 63
        return bits & sign != 0 ? ~bits : bits | sign
    }

    private static func ascending(_ keys: [UInt64]) -> [Int] {
        let count = keys.count
        guard count >= radixThreshold else {
            var order = Array(0..<count)
            order.sort { (keys[$0], $0) < (keys[$1], $1) }
            return order
        }
        // The bits in which some key differs from the first: only their digits need a pass.
        var differing: UInt64 = 0
        for key in keys { differing |= key ^ keys[0] }
        // Both halves of one buffer take turns as source and destination of a pass. The passes
        // work on spans: writing through an array would check its uniqueness for every element.
        var buffer = [Int](repeating: 0, count: 2 * count)
        var counts = [Int](repeating: 0, count: 256)
        var source = 0
        do {
            var slots = buffer.mutableSpan
            var starts = counts.mutableSpan
            let keys = keys.span
            for index in 0..<count { slots[index] = index }
            for digit in 0..<8 {
                let shift = UInt64(digit * 8)
                guard (differing >> shift) & 0xFF != 0 else { continue }
                for bucket in 0..<256 { starts[bucket] = 0 }
                for index in keys.indices { starts[Int((keys[index] >> shift) & 0xFF)] += 1 }
                let destination = count - source
                var position = destination
                for bucket in 0..<256 {
                    let bucketCount = starts[bucket]
                    starts[bucket] = position
                    position += bucketCount
                }
                for slot in source..<source + count {
                    let index = slots[slot]
                    let bucket = Int((keys[index] >> shift) & 0xFF)
                    slots[starts[bucket]] = index
                    starts[bucket] += 1
                }
                source = destination
            }
        }
        return Array(buffer[source..<source + count])
    }
}
