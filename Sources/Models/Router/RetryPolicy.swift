// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// When to try the same model again, and how long to wait first.
///
/// Retries: transient failures only (HTTP 408, 429, 500, 502, 503, 504, 529 and
/// transport failures or timeouts the transport marked transient), never a caller's
/// cancellation, never a bad request. Backoff: `base × 2^retry` capped at `max`, with
/// ±25 % jitter, a longer Retry-After honoured; the wait never exceeds `max`.
public struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt; a model gets `maxRetries + 1` attempts.
    public var maxRetries: Int
    public var baseMs: Int64
    public var maxMs: Int64

    public init(maxRetries: Int = 2, baseMs: Int64 = 500, maxMs: Int64 = 10_000) {
        self.maxRetries = maxRetries
        self.baseMs = baseMs
        self.maxMs = maxMs
    }

    public init(config: RouterConfig) {
        self.init(maxRetries: config.maxRetries, baseMs: config.retryBaseMs, maxMs: config.retryMaxMs)
    }

    /// Attempts per model, the first included.
    public var attempts: Int { Swift.max(0, maxRetries) + 1 }

    /// Whether `error` may pass when the same model is tried again.
    public static func isRetryable(_ error: ModelsError) -> Bool {
        switch error.code {
        case .api:
            // The status decides, whatever the flag says: 400/401/403/404/422 never pass.
            return ModelsError.isTransientStatus(error.status)
        case .transport, .timeout, .protocol:
            return error.isTransient
        case .ok, .done, .invalidArgument, .noProvider, .cancelled, .allCooldown, .allFailed, .noMemory:
            return false
        }
    }

    /// Whether to try the same model again after `error` ended attempt `attempt` (0-based).
    public func shouldRetry(after error: ModelsError, attempt: Int) -> Bool {
        attempt >= 0 && attempt < maxRetries && Self.isRetryable(error)
    }

    /// The wait before retry number `retry` (0-based), in milliseconds.
    ///
    /// - backoff = `min(base × 2^retry, max)`
    /// - jittered = `backoff × (0.75 + 0.5 × random)`, so ±25 % (random in [0, 1);
    ///   out-of-range values are clamped, NaN counts as 0.5)
    /// - a Retry-After longer than that replaces it
    /// - the result is capped at `max` (jitter included) and never negative.
    public func delayMs(retry: Int, retryAfterMs: Int64, random: Double) -> Int64 {
        let cap = Swift.max(0, maxMs)
        let base = Swift.max(0, baseMs)
        // 2^62 already exceeds any Int64 cap, so clamping the exponent loses nothing.
        let exponent = Swift.min(Swift.max(0, retry), 62)
        let backoff = Swift.min(Double(base) * Double(Int64(1) << exponent), Double(cap))
        let r = random.isNaN ? 0.5 : Swift.min(Swift.max(random, 0), 1)
        let jittered = backoff * (0.75 + 0.5 * r)
        let delay = Swift.min(cap, Int64.clamping(jittered.rounded()) ?? cap)
        let retryAfter = Swift.min(Swift.max(0, retryAfterMs), cap)
        return Swift.max(delay, retryAfter)
    }
}
