// SPDX-License-Identifier: Apache-2.0
import Glibc

/// A FIFO of byte strings in one growable malloc'd buffer, each stored with a
/// NUL after it. Popped entries stay valid until the next push or `clear`, so
/// the pull API can lend them to C without copying again. Capacity is kept
/// across `clear`, so a long stream allocates nothing once warmed up.
struct ByteQueue: ~Copyable {
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0
    private var used = 0
    private var spans: [(start: Int, count: Int)] = []
    private var next = 0

    init() {}
    deinit { free(storage) }

    var isEmpty: Bool { next == spans.count }

    mutating func push(_ bytes: UnsafeRawBufferPointer) throws(ModelsError) {
        let need = used + bytes.count + 1
        if need > capacity {
            let newCapacity = max(need, capacity * 2, 4096)
            guard let grown = realloc(storage, newCapacity) else { throw ModelsError(.noMemory, "out of memory") }
            storage = grown
            capacity = newCapacity
        }
        if let base = bytes.baseAddress { (storage! + used).copyMemory(from: base, byteCount: bytes.count) }
        storage!.storeBytes(of: 0, toByteOffset: used + bytes.count, as: UInt8.self)
        spans.append((used, bytes.count))
        used = need
    }

    /// The oldest entry not yet popped, NUL-terminated; valid until the next push or clear.
    mutating func pop() -> UnsafeRawBufferPointer? {
        guard next < spans.count, let storage else { return nil }
        let span = spans[next]
        next += 1
        return UnsafeRawBufferPointer(start: storage + span.start, count: span.count)
    }

    /// Forgets every entry, keeping the capacity.
    mutating func clear() {
        used = 0
        next = 0
        spans.removeAll(keepingCapacity: true)
    }
}
