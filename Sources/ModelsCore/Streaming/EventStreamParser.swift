// SPDX-License-Identifier: Apache-2.0
/// An incremental parser of AWS's binary event-stream framing
/// (`application/vnd.amazon.eventstream`, what Bedrock's ConverseStream answers with).
///
/// Each message is: a 12-byte prelude (total length, headers length, both
/// big-endian UInt32, then the CRC-32 of those 8 bytes), the headers (each a
/// 1-byte name length, the name, a 1-byte type and a typed value), the
/// payload, and the CRC-32 of everything before it.
///
/// Feed it the body in pieces split anywhere; it calls back once per complete
/// message, in order. The prelude is checked as soon as its 12 bytes are in:
/// a bad CRC, a length below the 16-byte minimum, headers longer than the
/// message, or a message over `maxMessageBytes` throws `.protocol` before
/// anything more is buffered, so memory stays bounded by `maxMessageBytes`.
/// A message whose CRC does not match, or whose headers do not parse, throws
/// too. After a throw the parser is broken: every later feed throws.
public struct EventStreamParser: Sendable {
    /// Prelude (12) + message CRC (4).
    public static let overheadBytes = 16
    /// The largest message accepted by default: a megabyte of payload (as one
    /// SSE event may carry) plus room for the headers.
    public static let defaultMaxMessageBytes = (1 << 20) + (64 << 10)

    public let maxMessageBytes: Int

    enum State: Equatable {
        /// Waiting for the 12 prelude bytes.
        case prelude
        /// The prelude was good: waiting for the rest of a message of `total` bytes.
        case body(total: Int, headers: Int)
        case failed
    }

    private(set) var state = State.prelude
    /// The bytes of the message being read (prelude included).
    private(set) var buffer: [UInt8] = []

    public init(maxMessageBytes: Int = EventStreamParser.defaultMaxMessageBytes) {
        self.maxMessageBytes = max(Self.overheadBytes, maxMessageBytes)
    }

    /// Whether no part of a message is waiting (the stream may end here).
    public var atMessageBoundary: Bool { state == .prelude && buffer.isEmpty }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer,
                              onMessage: (EventStreamMessage) throws(ModelsError) -> Void) throws(ModelsError) {
        guard state != .failed else { throw ModelsError(.protocol, "event stream: already broken by an earlier error") }
        var i = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .failed:
                return
            case .prelude:
                let take = min(12 - buffer.count, n - i)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]))
                i += take
                if buffer.count == 12 {
                    do { state = try checkPrelude() } catch {
                        state = .failed
                        throw error
                    }
                }
            case .body(let total, let headers):
                let take = min(total - buffer.count, n - i)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]))
                i += take
                if buffer.count == total {
                    let message: EventStreamMessage
                    do { message = try finishMessage(total: total, headersLength: headers) } catch {
                        state = .failed
                        throw error
                    }
                    buffer.removeAll(keepingCapacity: buffer.capacity <= 64 << 10)
                    state = .prelude
                    try onMessage(message)
                }
            }
        }
    }

    public mutating func feed(_ bytes: [UInt8],
                              onMessage: (EventStreamMessage) throws(ModelsError) -> Void) throws(ModelsError) {
        var failure: ModelsError?
        var me = self
        bytes.withUnsafeBytes { raw in
            do throws(ModelsError) { try me.feed(raw, onMessage: onMessage) } catch { failure = error }
        }
        self = me
        if let failure { throw failure }
    }

    // MARK: - Steps

    private func checkPrelude() throws(ModelsError) -> State {
        let total = Int(Self.uint32(buffer, 0)), headers = Int(Self.uint32(buffer, 4))
        let crc = Self.uint32(buffer, 8)
        guard CRC32.checksum(Array(buffer[0..<8])) == crc else {
            throw ModelsError(.protocol, "event stream: a message prelude fails its CRC check")
        }
        guard total >= Self.overheadBytes else {
            throw ModelsError(.protocol, "event stream: a message declares \(total) bytes, fewer than the \(Self.overheadBytes) of its frame")
        }
        guard total <= maxMessageBytes else {
            throw ModelsError(.protocol, "event stream: a message of \(total) bytes is over the limit of \(maxMessageBytes)")
        }
        guard headers <= total - Self.overheadBytes else {
            throw ModelsError(.protocol, "event stream: a message's headers (\(headers) bytes) do not fit in it (\(total) bytes)")
        }
        return .body(total: total, headers: headers)
    }

    private func finishMessage(total: Int, headersLength: Int) throws(ModelsError) -> EventStreamMessage {
        let expected = Self.uint32(buffer, total - 4)
        guard buffer.withUnsafeBytes({ CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(total - 4)])) }) == expected else {
            throw ModelsError(.protocol, "event stream: a message fails its CRC check")
        }
        let headers = try Self.parseHeaders(buffer[12..<(12 + headersLength)])
        return EventStreamMessage(headers: headers, payload: Array(buffer[(12 + headersLength)..<(total - 4)]))
    }

    /// The typed headers of a message; throws `.protocol` for any that runs past the end or has an unknown type.
    static func parseHeaders(_ bytes: ArraySlice<UInt8>) throws(ModelsError) -> [(name: String, value: EventStreamMessage.Value)] {
        var out: [(name: String, value: EventStreamMessage.Value)] = []
        var i = bytes.startIndex
        let end = bytes.endIndex
        func need(_ count: Int) throws(ModelsError) {
            guard end - i >= count else { throw ModelsError(.protocol, "event stream: a header runs past the end of the headers") }
        }
        func integer(_ count: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<count { v = v << 8 | UInt64(bytes[i + k]) }
            i += count
            return v
        }
        while i < end {
            let nameLength = Int(bytes[i])
            i += 1
            guard nameLength > 0 else { throw ModelsError(.protocol, "event stream: a header has an empty name") }
            try need(nameLength + 1)
            let name = String(decoding: bytes[i..<(i + nameLength)], as: UTF8.self)
            i += nameLength
            let type = bytes[i]
            i += 1
            let value: EventStreamMessage.Value
            switch type {
            case 0: value = .bool(true)
            case 1: value = .bool(false)
            case 2: try need(1); value = .byte(Int8(truncatingIfNeeded: integer(1)))
            case 3: try need(2); value = .short(Int16(truncatingIfNeeded: integer(2)))
            case 4: try need(4); value = .int(Int32(truncatingIfNeeded: integer(4)))
            case 5: try need(8); value = .long(Int64(bitPattern: integer(8)))
            case 6, 7:
                try need(2)
                let length = Int(integer(2))
                try need(length)
                let raw = Array(bytes[i..<(i + length)])
                i += length
                value = type == 6 ? .bytes(raw) : .string(String(decoding: raw, as: UTF8.self))
            case 8: try need(8); value = .timestamp(Int64(bitPattern: integer(8)))
            case 9:
                try need(16)
                value = .uuid(Array(bytes[i..<(i + 16)]))
                i += 16
            default:
                throw ModelsError(.protocol, "event stream: header \"\(name.prefix(64))\" has the unknown type \(type)")
            }
            out.append((name, value))
        }
        return out
    }

    private static func uint32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
}
