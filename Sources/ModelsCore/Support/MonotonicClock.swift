// SPDX-License-Identifier: Apache-2.0
import Glibc

/// Milliseconds of a clock that never jumps (CLOCK_MONOTONIC): every deadline,
/// backoff, cooldown and rate limit of the library is measured on it.
public enum MonotonicClock {
    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock as a function, so tests can inject a fake one.
public typealias NowMs = @Sendable () -> Int64

extension MonotonicClock {
    /// `nowMs` as a `NowMs` value: the default clock of the cooldown tracker and rate limiter.
    public static let clock: NowMs = { nowMs() }
}
