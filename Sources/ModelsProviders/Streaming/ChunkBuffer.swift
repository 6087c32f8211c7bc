// SPDX-License-Identifier: Apache-2.0
import Glibc

/// One malloc'd buffer that a stream reuses for the chunks it rewrites (the
/// model splice), so that renaming a chunk allocates nothing once warmed up.
/// Freed with the stream; a rare huge chunk's room is not kept for the rest of it.
final class ChunkBuffer {
    private var memory: UnsafeMutableRawPointer?
    private var capacity = 0

    deinit { free(memory) }

    /// Room for `count` bytes (what was there is dropped); nil when out of memory.
    func room(_ count: Int) -> UnsafeMutableRawPointer? {
        if count > capacity || (capacity > 1 << 16 && count <= 1 << 12) {
            free(memory)
            capacity = max(count, 512)
            memory = malloc(capacity)
            if memory == nil { capacity = 0 }
        }
        return memory
    }
}
