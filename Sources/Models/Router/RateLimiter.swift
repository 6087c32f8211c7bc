// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// A provider's rate limit, shared by every thread routing to it: a `TokenBucket`
/// behind a lock, reading the injected clock under the lock so readings stay in order.
public final class RateLimiter: Sendable {
    public let config: RateLimitConfig
    private let now: NowMs
    private let bucket: Locked<TokenBucket>

    public init(config: RateLimitConfig, now: @escaping NowMs = MonotonicClock.clock) {
        self.config = config
        self.now = now
        self.bucket = Locked(TokenBucket(requestsPerSecond: config.requestsPerSecond, burst: config.burst, nowMs: now()))
    }

    /// Takes a token; returns the milliseconds to wait before the request may start.
    /// A caller that stops waiting early must call `cancelReservation()`.
    public func reserve() -> Int64 {
        bucket.withLock { $0.reserve(nowMs: now()) }
    }

    /// Gives back the token of a reservation whose wait was cancelled.
    public func cancelReservation() {
        bucket.withLock { $0.cancelReservation(nowMs: now()) }
    }
}
