// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Interprets complete lines of an event stream (WHATWG HTML, "Interpreting an event
/// stream", from "If the line is empty" on) and assembles events from their fields.
///
/// Holds the spec's data buffer, event type buffer and last event ID buffer as
/// reusable byte arrays: in steady state no line or event allocates.
struct SSEEventBuilder {
    /// The most data bytes one event may carry.
    let maxDataBytes: Int
    /// The data buffer: every `data:` value followed by LF.
    private(set) var data: [UInt8] = []
    /// The event type buffer.
    private(set) var type: [UInt8] = []
    /// The last event ID buffer, set by `id:` fields.
    private(set) var idBuffer: [UInt8] = []
    /// The last event ID string: the buffer's value at the last dispatch (blank line).
    private(set) var lastEventID: [UInt8] = []
    /// The reconnection time from the last valid `retry:` field.
    private(set) var retryMs: Int? = nil
    /// Whether a `data`, `event` or `id` field arrived since the last blank line,
    /// i.e. whether ending the stream now would discard part of an event.
    private(set) var hasPendingFields = false

    init(maxDataBytes: Int) {
        self.maxDataBytes = maxDataBytes
    }

    /// Processes one line, without its terminator.
    @inline(__always)
    mutating func processLine(
        _ line: UnsafeRawBufferPointer,
        onEvent: (borrowing SSEEvent) throws(ModelsError) -> Void
    ) throws(ModelsError) {
        guard let p = line.baseAddress, line.count > 0 else {
            try dispatch(onEvent)
            return
        }
        let n = line.count
        if p.load(as: UInt8.self) == SSEBytes.colon { return }  // a comment

        // `field:value`, one leading space of the value removed; no colon: the whole line
        // is the field name and the value is empty.
        let nameCount = SSEBytes.find(SSEBytes.colon, in: p, from: 0, to: n)
        var valueStart = nameCount + 1
        if valueStart < n, p.load(fromByteOffset: valueStart, as: UInt8.self) == SSEBytes.space {
            valueStart += 1
        }
        let value = valueStart < n
            ? UnsafeRawBufferPointer(start: p + valueStart, count: n - valueStart)
            : UnsafeRawBufferPointer(start: p + n, count: 0)
        let name = UnsafeRawBufferPointer(start: p, count: nameCount)

        switch nameCount {
        case 4 where SSEBytes.equal(name, "data"):
            try appendData(value)
        case 5 where SSEBytes.equal(name, "event"):
            SSEBytes.set(&type, to: value)
            hasPendingFields = true
        case 2 where SSEBytes.equal(name, "id"):
            // An ID containing NUL is ignored (it could not be sent back in Last-Event-ID).
            if let v = value.baseAddress, memchr(v, 0, value.count) != nil { return }
            SSEBytes.set(&idBuffer, to: value)
            hasPendingFields = true
        case 5 where SSEBytes.equal(name, "retry"):
            if let ms = Self.parseDigits(value) { retryMs = ms }
        default:
            return  // an unknown field is ignored
        }
    }

    /// A blank line: dispatches the event, if it has data, and resets the buffers.
    @inline(__always)
    mutating func dispatch(_ onEvent: (borrowing SSEEvent) throws(ModelsError) -> Void) throws(ModelsError) {
        hasPendingFields = false
        if idBuffer != lastEventID { lastEventID = idBuffer }  // shares the storage: no copy
        guard !data.isEmpty else {
            type.removeAll(keepingCapacity: true)
            return
        }
        // The final LF goes; its byte becomes the NUL that terminates the data for C.
        data[data.count - 1] = 0
        defer {
            data.removeAll(keepingCapacity: true)
            type.removeAll(keepingCapacity: true)
        }
        try data.span.withUnsafeBytes { (d) throws(ModelsError) in
            try type.span.withUnsafeBytes { (t) throws(ModelsError) in
                try lastEventID.span.withUnsafeBytes { (i) throws(ModelsError) in
                    let event = SSEEvent(type: t, data: UnsafeRawBufferPointer(rebasing: d[..<(d.count - 1)]), id: i)
                    try onEvent(event)
                }
            }
        }
    }

    /// The end of the stream (or a reset): the event in progress is discarded.
    /// Returns whether there was one. The last event ID string and retry persist.
    mutating func discardPending() -> Bool {
        let had = hasPendingFields
        hasPendingFields = false
        data.removeAll(keepingCapacity: true)
        type.removeAll(keepingCapacity: true)
        if idBuffer != lastEventID { idBuffer = lastEventID }
        return had
    }

    @inline(__always)
    private mutating func appendData(_ value: UnsafeRawBufferPointer) throws(ModelsError) {
        // data.count already counts the LF that will separate this line from the previous one.
        guard data.count + value.count <= maxDataBytes else {
            throw ModelsError(.protocol, "SSE event data larger than \(maxDataBytes) bytes")
        }
        if let v = value.baseAddress { SSEBytes.append(v, count: value.count, to: &data) }
        data.append(SSEBytes.lf)
        hasPendingFields = true
    }

    /// A base-ten integer when `value` is one or more ASCII digits (saturating at Int.max).
    static func parseDigits(_ value: UnsafeRawBufferPointer) -> Int? {
        guard !value.isEmpty else { return nil }
        var result = 0
        for byte in value {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, o1) = result.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(byte - 0x30))
            result = (o1 || o2) ? Int.max : sum
        }
        return result
    }
}
