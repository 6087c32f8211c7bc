// SPDX-License-Identifier: Apache-2.0

/// A min-heap of (time, id): the engine's timers. A call keeps one entry for
/// its next wake-up; entries it no longer wants are left in place and skipped
/// when they come out (the engine compares them with the call's own record).
struct TimerHeap {
    struct Entry: Equatable {
        var atMs: Int64
        var id: UInt64
    }

    private var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var first: Entry? { entries.first }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var i = entries.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard entries[i].atMs < entries[parent].atMs else { break }
            entries.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns the earliest entry when it is due at `nowMs`.
    mutating func popDue(nowMs: Int64) -> Entry? {
        guard let top = entries.first, top.atMs <= nowMs else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < entries.count && entries[l].atMs < entries[smallest].atMs { smallest = l }
                if r < entries.count && entries[r].atMs < entries[smallest].atMs { smallest = r }
                if smallest == i { break }
                entries.swapAt(i, smallest)
                i = smallest
            }
        }
        return top
    }

    mutating func removeAll() { entries.removeAll() }
}
