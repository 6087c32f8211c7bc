// SPDX-License-Identifier: Apache-2.0
import Glibc

/// Parses an HTTP `Retry-After` value: delta-seconds ("120") or an HTTP-date
/// ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime forms,
/// see `HTTPDate`). The value comes from a server, so nothing in it can trap:
/// a delay too long to be meant literally is held at `maxMilliseconds`, and a
/// date with a field out of range is no date.
public enum RetryAfter {
    /// The longest wait reported: a year. The router caps it further (`retry_max_ms`).
    public static let maxMilliseconds: Int64 = 365 * 86_400_000
    static let maxSeconds: Int64 = maxMilliseconds / 1000

    /// Milliseconds to wait, or nil when the value is neither form. A date in the
    /// past gives 0. `nowEpochSeconds` is the current time (injected for tests).
    public static func milliseconds(_ value: String, nowEpochSeconds: Int64) -> Int64? {
        var value = value
        return value.withUTF8 { milliseconds(trimmed($0), nowEpochSeconds: nowEpochSeconds) }
    }

    public static func milliseconds(_ value: String) -> Int64? {
        milliseconds(value, nowEpochSeconds: Int64(time(nil)))
    }

    static func milliseconds(_ bytes: UnsafeBufferPointer<UInt8>, nowEpochSeconds: Int64) -> Int64? {
        guard !bytes.isEmpty else { return nil }
        if let seconds = deltaSeconds(bytes) { return seconds * 1000 }
        guard let date = HTTPDate.epochSeconds(bytes) else { return nil }
        let seconds = Swift.min(Swift.max(0, date.saturatingSubtract(nowEpochSeconds)), maxSeconds)
        return seconds * 1000
    }

    /// `1*DIGIT`, held at `maxSeconds`; nil when a byte is not a digit.
    static func deltaSeconds(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var seconds: Int64 = 0
        for byte in bytes {
            let d = byte &- UInt8(ascii: "0")
            guard d <= 9 else { return nil }
            // Past the cap the digits still have to be digits, but the value stays put.
            if seconds <= maxSeconds { seconds = seconds * 10 + Int64(d) }
        }
        return Swift.min(seconds, maxSeconds)
    }

    /// Seconds since the epoch of an HTTP-date (for tests and callers holding a String).
    static func epochSeconds(httpDate text: String) -> Int64? {
        var text = text
        return text.withUTF8 { HTTPDate.epochSeconds(trimmed($0)) }
    }

    /// Without the optional whitespace around a field value (and a line's CR LF).
    private static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
        var lower = 0, upper = bytes.count
        while lower < upper, isSpace(bytes[lower]) { lower += 1 }
        while upper > lower, isSpace(bytes[upper - 1]) { upper -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[lower..<upper])
    }
}

extension String {
    package var trimmingSpaces: String {
        var s = Substring(self)
        // "\r\n" is one Character in Swift, equal to neither "\r" nor "\n": header lines end with it.
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" || f == "\r\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" || l == "\r\n" { s = s.dropLast() }
        return String(s)
    }
}
