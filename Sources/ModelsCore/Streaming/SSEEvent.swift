// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One dispatched Server-Sent Event: a view into the parser's buffers.
///
/// Valid only inside the `onEvent` callback of `SSEParser.feed`: the pointers
/// dangle once the callback returns. The type is `~Copyable` and passed
/// `borrowing`, so it cannot be stored; copy out what you need (`dataString`,
/// or the bytes of `data`) before returning.
public struct SSEEvent: ~Copyable {
    /// The `event:` field; empty when the event had none (the spec's default type "message").
    public let type: UnsafeRawBufferPointer
    /// The data: `data:` lines joined by LF, the final LF removed.
    /// `data[data.count]` is a NUL byte, so a C caller may read `data.baseAddress` as a C string
    /// (the data itself may contain NUL bytes; prefer `data.count`).
    public let data: UnsafeRawBufferPointer
    /// The last event ID at the time of dispatch (the spec's `lastEventId`); empty when none.
    public let id: UnsafeRawBufferPointer

    init(type: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer) {
        self.type = type
        self.data = data
        self.id = id
    }

    /// The event type, "message" when the stream gave none.
    public var typeString: String {
        type.isEmpty ? "message" : String(decoding: type, as: UTF8.self)
    }

    /// The data as a String (invalid UTF-8 becomes U+FFFD).
    public var dataString: String { String(decoding: data, as: UTF8.self) }

    /// The last event ID as a String.
    public var idString: String { String(decoding: id, as: UTF8.self) }

    /// Whether the event type is `s`, without allocating. An event with no `event:` field
    /// has the type "message".
    public func typeEquals(_ s: StaticString) -> Bool {
        if type.isEmpty {
            let message: StaticString = "message"
            return message.withUTF8Buffer { SSEBytes.equal(UnsafeRawBufferPointer($0), s) }
        }
        return SSEBytes.equal(type, s)
    }

    /// Whether the data is exactly `s` (e.g. `"[DONE]"`), without allocating.
    public func dataEquals(_ s: StaticString) -> Bool { SSEBytes.equal(data, s) }
}

/// Byte helpers shared by the SSE files.
enum SSEBytes {
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let colon: UInt8 = 0x3A
    static let space: UInt8 = 0x20

    /// Byte-exact comparison of a buffer with a static string.
    @inline(__always)
    static func equal(_ bytes: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        s.withUTF8Buffer { u in
            guard u.count == bytes.count else { return false }
            guard let a = bytes.baseAddress, let b = u.baseAddress else { return true }  // both empty
            return memcmp(a, b, u.count) == 0
        }
    }

    /// The index of the first `byte` in `p[from..<to]`, or `to` when there is none.
    @inline(__always)
    static func find(_ byte: UInt8, in p: UnsafeRawPointer, from: Int, to: Int) -> Int {
        guard from < to, let hit = memchr(p + from, Int32(byte), to - from) else { return to }
        return UnsafeRawPointer(hit) - p
    }

    /// Appends raw bytes to `array` (one memcpy once its capacity suffices).
    @inline(__always)
    static func append(_ p: UnsafeRawPointer, count: Int, to array: inout [UInt8]) {
        guard count > 0 else { return }
        array.append(contentsOf: UnsafeBufferPointer(start: p.assumingMemoryBound(to: UInt8.self), count: count))
    }

    /// Replaces the contents of `array` with `bytes`, keeping its capacity.
    @inline(__always)
    static func set(_ array: inout [UInt8], to bytes: UnsafeRawBufferPointer) {
        array.removeAll(keepingCapacity: true)
        if let p = bytes.baseAddress { append(p, count: bytes.count, to: &array) }
    }
}
