// SPDX-License-Identifier: Apache-2.0
// RetryAfter: a Retry-After header value (delta-seconds or an HTTP-date in any of
// its three forms) from a server, with extreme field values. Invariants: the wait
// is nil or >= 0 at any plausible clock, surrounding spaces change nothing, a
// parsed date is not before 1970.
import Glibc
@testable import Models
@testable import ModelsTransport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRetryAfter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let now: Int64 = 1_760_000_000  // October 2025
        let ms = RetryAfter.milliseconds(text, nowEpochSeconds: now)
        if let ms { invariant(ms >= 0, "negative wait \(ms) for \(text.debugDescription)") }
        invariant(RetryAfter.milliseconds(" \t" + text + " \r\n", nowEpochSeconds: now) == ms,
                  "surrounding whitespace changed the result for \(text.debugDescription)")
        // The clock is ours, not the server's: from 1970 to 2100.
        for clock: Int64 in [0, 2_147_483_648, 4_102_444_800] {
            if let later = RetryAfter.milliseconds(text, nowEpochSeconds: clock) {
                invariant(later >= 0, "negative wait \(later) at now=\(clock) for \(text.debugDescription)")
            }
        }
        if let seconds = RetryAfter.epochSeconds(httpDate: text) {
            invariant(seconds >= 0, "an HTTP-date before 1970 parsed: \(text.debugDescription) -> \(seconds)")
        }
        return 0
    }
}
