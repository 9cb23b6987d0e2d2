// Legend: n values.
//
// Implementation goals, in order of priority:
// 1. Exactly the order of a stable comparison sort by (value, index), −0 equal to +0.
// 2. O(n) time: the 1-D index sorts up to millions of keys, and a comparison sort of 10⁶ pairs
//    took ~0.15 s of a 1.2 s run.

/// Sorting of finite doubles by their bits.
enum RadixSort {
    /// The permutation that sorts `values` ascending, ties in index order: the order of
    /// `indices.sorted { (values[$0], $0) < (values[$1], $1) }`.
    ///
    /// Each value maps to a UInt64 whose unsigned order is the numeric order (flip every bit of a
    /// negative, the sign bit of a positive; −0 is first read as +0), then a least-significant-
    /// digit radix sort in 4 stable passes of 16 bits, skipping passes whose digit is constant.
    ///
    /// - Precondition: every value is finite (NaN has no place in the order).
    /// - Complexity: O(n + 2¹⁶) time per pass, O(n) extra memory. Below 4,096 values it defers to
    ///   the standard library's sort.
    static func sortedOrder(_ values: [Double]) -> [Int] {
        let n = values.count
        guard n >= 4096 else {
            return (0..<n).sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        }
        var keys = values.map { value -> UInt64 in
            let bits = (value + 0).bitPattern // −0 + 0 = +0
            return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
        }
        var order = Array(0..<n)
        var scratchKeys = [UInt64](repeating: 0, count: n), scratchOrder = [Int](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 1 << 16)
        for shift in stride(from: 0, to: 64, by: 16) {
            counts.withUnsafeMutableBufferPointer { c in
                c.update(repeating: 0)
                for key in keys { c[Int(truncatingIfNeeded: key >> UInt64(shift)) & 0xFFFF] += 1 }
            }
            // A digit every key shares cannot reorder anything.
            if counts[Int(truncatingIfNeeded: keys[0] >> UInt64(shift)) & 0xFFFF] == n { continue }
            var total = 0
            for digit in 0..<(1 << 16) {
                let count = counts[digit]
                counts[digit] = total
                total += count
            }
            keys.withUnsafeBufferPointer { k in
                order.withUnsafeBufferPointer { o in
                    scratchKeys.withUnsafeMutableBufferPointer { sk in
                        scratchOrder.withUnsafeMutableBufferPointer { so in
                            counts.withUnsafeMutableBufferPointer { c in
                                for i in 0..<n {
                                    let digit = Int(truncatingIfNeeded: k[i] >> UInt64(shift)) & 0xFFFF
                                    let slot = c[digit]
                                    c[digit] = slot + 1
                                    sk[slot] = k[i]
                                    so[slot] = o[i]
                                }
                            }
                        }
                    }
                }
            }
            swap(&keys, &scratchKeys)
            swap(&order, &scratchOrder)
        }
        return order
    }
}
