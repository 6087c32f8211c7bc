// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import ModelsProviders

/// One event as compact JSON text, written member by member: `{"event":
/// "attempt.end","libmodels.call_id":7,...}`. Names follow the OpenTelemetry
/// GenAI semantic conventions where one exists (`gen_ai.*`, `error.type`,
/// `http.response.status_code`); the library's own carry a `libmodels.` prefix.
struct EventJSON {
    private(set) var bytes: [UInt8] = []

    /// Starts an event of kind `event` with the members every event has.
    init(_ event: StaticString, callID: UInt64, timeUnixNano: Int64, stream: Bool, metadata: String?,
         operation: StaticString = "chat") {
        bytes.reserveCapacity(512)
        bytes.append(UInt8(ascii: "{"))
        key("event")
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: event.utf8Start, count: event.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        int("libmodels.call_id", Int64(truncatingIfNeeded: callID))
        int("libmodels.time_unix_nano", timeUnixNano)
        key("gen_ai.operation.name")
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: operation.utf8Start, count: operation.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bool("libmodels.stream", stream)
        if let metadata { raw("libmodels.metadata", metadata) }
    }

    /// `"name":`, with the comma before it when needed. Names are the
    /// library's own constants: no escapes to look for.
    private mutating func key(_ name: StaticString) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    mutating func string(_ name: StaticString, _ value: String) {
        key(name)
        var value = value
        value.withUTF8 { JSONWriter.writeString(UnsafeRawBufferPointer($0), into: &bytes) }
    }

    mutating func int(_ name: StaticString, _ value: Int64) {
        key(name)
        // Digits written on the stack, then appended at once: no String per number.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = value.magnitude
            var i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    mutating func bool(_ name: StaticString, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// A number of US dollars (or any finite double); not finite: left out.
    mutating func number(_ name: StaticString, _ value: Double) {
        guard value.isFinite else { return }
        key(name)
        bytes.append(contentsOf: Self.format(value).utf8)
    }

    /// JSON text that is already valid (the caller's metadata object).
    mutating func raw(_ name: StaticString, _ json: String) {
        key(name)
        bytes.append(contentsOf: json.utf8)
    }

    mutating func usage(_ usage: TokenUsage) {
        int("gen_ai.usage.input_tokens", usage.input)
        int("gen_ai.usage.output_tokens", usage.output)
        if usage.cachedInput > 0 { int("gen_ai.usage.cache_read.input_tokens", usage.cachedInput) }
    }

    /// The error members: its kind (`error.type`), HTTP status and message.
    mutating func error(_ error: ModelsError) {
        string("error.type", error.kind.rawValue)
        if error.status > 0 { int("http.response.status_code", Int64(error.status)) }
        string("libmodels.error.message", error.message)
    }

    /// The finished text, NUL-terminated after `count` bytes of JSON.
    mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// A double in the shortest form that reads back the same, never with an
    /// exponent a JSON reader would mind (Swift writes "1e-05", which JSON allows).
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// The wall clock, for the event's timestamp.
    static func nowUnixNano() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec).saturatingMultiply(1_000_000_000).saturatingAdd(Int64(ts.tv_nsec))
    }
}
