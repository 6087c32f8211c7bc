// SPDX-License-Identifier: Apache-2.0

/// A token bucket for one provider's rate limit, as a pure state machine: the caller
/// passes the time, the bucket answers how long to wait.
///
/// The bucket holds up to `burst` tokens and gains `requestsPerSecond` per second.
/// `reserve` always takes a token, letting the count go below zero: a caller that
/// finds none is told to wait until its own token will have been refilled, so
/// callers that arrive together are spaced `1 / requestsPerSecond` apart, in order.
/// A caller that gives up its wait returns the token with `cancelReservation`.
public struct TokenBucket: Sendable, Equatable {
    /// nil: no limit (a rate that is not a positive finite number).
    public let requestsPerSecond: Double?
    public let burst: Int
    /// Tokens now; negative while reservations wait for refills.
    private(set) var tokens: Double
    private(set) var lastMs: Int64

    /// A full bucket.
    public init(requestsPerSecond: Double, burst: Int, nowMs: Int64) {
        self.requestsPerSecond = requestsPerSecond.isFinite && requestsPerSecond > 0 ? requestsPerSecond : nil
        self.burst = Swift.max(1, burst)
        self.tokens = Double(self.burst)
        self.lastMs = nowMs
    }

    /// Takes one token; returns the milliseconds to wait before the request may start
    /// (0 when a token was there).
    public mutating func reserve(nowMs: Int64) -> Int64 {
        guard let rate = requestsPerSecond else { return 0 }
        refill(nowMs: nowMs, rate: rate)
        tokens -= 1
        guard tokens < 0 else { return 0 }
        // The deficit is refilled deficit / rate seconds after `lastMs` (which is later
        // than `nowMs` when this reading came in late). The epsilon absorbs rounding in
        // the refill sums so an exact 100 ms does not become 101.
        let due = (-tokens * 1000 / rate) + Double(lastMs - nowMs)
        let wait = (due - 1e-6).rounded(.up)
        return wait <= 0 ? 0 : Int64(Swift.min(wait, 9.0e15))
    }

    /// Returns a reservation's token whose wait was abandoned, so the next caller
    /// takes its place. Never fills the bucket beyond `burst`.
    public mutating func cancelReservation(nowMs: Int64) {
        guard let rate = requestsPerSecond else { return }
        refill(nowMs: nowMs, rate: rate)
        tokens = Swift.min(Double(burst), tokens + 1)
    }

    private mutating func refill(nowMs: Int64, rate: Double) {
        // Readings from other threads may arrive slightly out of order: time never runs back.
        guard nowMs > lastMs else { return }
        let elapsed = Double(nowMs - lastMs)
        tokens = Swift.min(Double(burst), tokens + elapsed * rate / 1000)
        lastMs = nowMs
    }
}
