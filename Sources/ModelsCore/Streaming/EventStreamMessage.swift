// SPDX-License-Identifier: Apache-2.0
/// One message of AWS's binary event-stream framing
/// (`application/vnd.amazon.eventstream`): typed headers and a payload.
public struct EventStreamMessage: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case bool(Bool)
        case byte(Int8)
        case short(Int16)
        case int(Int32)
        case long(Int64)
        case bytes([UInt8])
        case string(String)
        /// Milliseconds since the Unix epoch.
        case timestamp(Int64)
        case uuid([UInt8])
    }

    public var headers: [(name: String, value: Value)]
    public var payload: [UInt8]

    public init(headers: [(name: String, value: Value)], payload: [UInt8]) {
        self.headers = headers
        self.payload = payload
    }

    /// The string value of the header `name` (nil when absent or not a string).
    public func string(_ name: String) -> String? {
        for h in headers where h.name == name {
            if case .string(let s) = h.value { return s }
        }
        return nil
    }

    public static func == (a: EventStreamMessage, b: EventStreamMessage) -> Bool {
        a.payload == b.payload && a.headers.count == b.headers.count
            && zip(a.headers, b.headers).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The message in its wire form (prelude, headers, payload, CRCs): what a
    /// server sends; the tests and the fuzz target build streams with it.
    public func encoded() -> [UInt8] {
        var head: [UInt8] = []
        for h in headers {
            let name = Array(h.name.utf8.prefix(255))
            head.append(UInt8(name.count))
            head += name
            switch h.value {
            case .bool(let b): head.append(b ? 0 : 1)
            case .byte(let v): head.append(2); head.append(UInt8(bitPattern: v))
            case .short(let v): head.append(3); head += Self.bigEndian(UInt64(UInt16(bitPattern: v)), 2)
            case .int(let v): head.append(4); head += Self.bigEndian(UInt64(UInt32(bitPattern: v)), 4)
            case .long(let v): head.append(5); head += Self.bigEndian(UInt64(bitPattern: v), 8)
            case .bytes(let v):
                head.append(6); head += Self.bigEndian(UInt64(min(v.count, 0xffff)), 2); head += v.prefix(0xffff)
            case .string(let s):
                let v = Array(s.utf8.prefix(0xffff))
                head.append(7); head += Self.bigEndian(UInt64(v.count), 2); head += v
            case .timestamp(let v): head.append(8); head += Self.bigEndian(UInt64(bitPattern: v), 8)
            case .uuid(let v): head.append(9); head += (v + [UInt8](repeating: 0, count: 16)).prefix(16)
            }
        }
        let total = 16 + head.count + payload.count
        var out = Self.bigEndian(UInt64(total), 4) + Self.bigEndian(UInt64(head.count), 4)
        out += Self.bigEndian(UInt64(CRC32.checksum(out)), 4)
        out += head
        out += payload
        out += Self.bigEndian(UInt64(CRC32.checksum(out)), 4)
        return out
    }

    private static func bigEndian(_ v: UInt64, _ n: Int) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: v >> (UInt64(n - 1 - $0) * 8)) }
    }
}
