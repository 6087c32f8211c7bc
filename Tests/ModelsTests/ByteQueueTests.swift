// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// The queue behind the pull API: chunks in arrival order, each followed by a
/// NUL (so C can read it as a string), lent until the next push, and one
/// buffer reused once the queue has been drained.
///
/// `ByteQueue` is non-copyable, so values are read into locals before
/// `#expect` (the macro would copy the queue to show it).
@Suite struct ByteQueueTests {
    private func push(_ q: inout ByteQueue, _ s: String) throws {
        var s = s
        try s.withUTF8 { try q.push(UnsafeRawBufferPointer($0)) }
    }

    private func string(_ p: UnsafeRawBufferPointer?) -> String? { p.map { String(decoding: $0, as: UTF8.self) } }

    @Test func firstInFirstOutWithNulTerminators() throws {
        var q = ByteQueue()
        var empty = q.isEmpty
        let none = q.pop() == nil
        #expect(empty && none)
        try push(&q, "one")
        try push(&q, "")
        try push(&q, "thr\u{e9}e")
        empty = q.isEmpty
        #expect(!empty)
        var popped: [UnsafeRawBufferPointer] = []
        while let p = q.pop() { popped.append(p) }
        #expect(popped.map { string($0)! } == ["one", "", "thr\u{e9}e"])
        // Each entry is followed by a NUL, and every popped entry stays readable
        // until the next push.
        for p in popped {
            #expect(p.baseAddress!.load(fromByteOffset: p.count, as: UInt8.self) == 0)
        }
        #expect(popped.map { string($0)! } == ["one", "", "thr\u{e9}e"])
        empty = q.isEmpty
        #expect(empty)
    }

    @Test func growsPastItsFirstBuffer() throws {
        var q = ByteQueue()
        let entries = (0..<2_000).map { "entry-\($0)-" + String(repeating: "x", count: $0 % 50) }
        for e in entries { try push(&q, e) }
        var out: [String] = []
        while let p = q.pop() { out.append(string(p)!) }
        #expect(out == entries)
    }

    @Test func interleavedPushAndPop() throws {
        var q = ByteQueue()
        var got: [String?] = []
        try push(&q, "a")
        got.append(string(q.pop()))
        try push(&q, "b")
        try push(&q, "c")
        got.append(string(q.pop()))
        try push(&q, "d")
        got.append(string(q.pop()))
        got.append(string(q.pop()))
        got.append(string(q.pop()))
        #expect(got == ["a", "b", "c", "d", nil])
    }

    /// A long stream allocates nothing once warm: after `clear`, entries are
    /// written from the start of the same buffer again.
    @Test func clearReusesTheBuffer() throws {
        var q = ByteQueue()
        try push(&q, String(repeating: "z", count: 10_000))
        let first = q.pop()!.baseAddress
        for round in 0..<100 {
            q.clear()
            let empty = q.isEmpty
            #expect(empty)
            try push(&q, "round \(round)")
            try push(&q, "more")
            let p = q.pop()!
            let next = string(q.pop())
            #expect(p.baseAddress == first)
            #expect(string(p) == "round \(round)")
            #expect(next == "more")
        }
    }
}
