// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore

/// Per-model failure cooldowns with exponential backoff (the Go `Cooldown`).
///
/// A model that still fails transiently after its retries is skipped for
/// `base × multiplier^(failures−1)`, capped at `max` (defaults 1 min, ×5, 1 h).
/// A success clears the model. An expired cooldown keeps its failure count, so
/// the next failure escalates — until the model has been out of cooldown for
/// `max` again, when it starts fresh (see `CooldownEntry`).
///
/// Thread-safe; one tracker may be shared by several routers.
public final class Cooldown: Sendable {
    public let config: CooldownConfig
    private let now: NowMs
    private let entries = Locked<[String: CooldownEntry]>([:])

    public init(config: CooldownConfig = CooldownConfig(), now: @escaping NowMs = MonotonicClock.clock) {
        self.config = config
        self.now = now
    }

    /// The cooldown after `failures` failures in a row: `base × multiplier^(failures−1)`
    /// capped at `max`; 0 for no failures. Never traps or overflows: a multiplier below 1
    /// (or NaN) counts as 1, and a power too large for a Double saturates at `max`.
    public static func delayMs(failures: Int, config: CooldownConfig) -> Int64 {
        guard failures > 0 else { return 0 }
        let maxMs = Swift.max(0, config.maxMs)
        let base = Swift.min(Swift.max(0, config.baseMs), maxMs)
        guard base > 0, failures > 1 else { return base }
        let multiplier = config.multiplier.isNaN ? 1 : Swift.max(1, config.multiplier)
        // pow() gives +inf rather than overflowing, which clamps to Int64.max.
        let delay = Double(base) * pow(multiplier, Double(failures - 1))
        return Swift.min(maxMs, Int64.clamping(delay.rounded()) ?? maxMs)
    }

    /// How long after its cooldown expired an entry still escalates (see `CooldownEntry`).
    var windowMs: Int64 { Self.delayMs(failures: .max, config: config) }

    /// Marks a failure of `model`, starting or extending its cooldown. Returns the
    /// cooldown just started, in milliseconds (for logging).
    @discardableResult
    public func recordFailure(_ model: String) -> Int64 {
        let window = windowMs
        return entries.withLock { entries in
            let t = now()
            var failures = 1
            if let old = entries[model], !old.isStale(at: t, window: window) {
                failures = old.failures == .max ? .max : old.failures + 1
            }
            let delay = Self.delayMs(failures: failures, config: config)
            entries[model] = CooldownEntry(failures: failures, untilMs: t.saturatingAdd(delay))
            return delay
        }
    }

    /// Clears the model's state entirely: its next failure starts at the base delay.
    public func recordSuccess(_ model: String) {
        _ = entries.withLock { $0.removeValue(forKey: model) }
    }

    public func isAvailable(_ model: String) -> Bool {
        entries.withLock { entries in
            guard let e = entries[model] else { return true }
            return !e.isCooling(at: now())
        }
    }

    /// Milliseconds until the model is available again; 0 when it is.
    public func remainingMs(_ model: String) -> Int64 {
        entries.withLock { entries in
            guard let e = entries[model] else { return 0 }
            let t = now()
            return e.isCooling(at: t) ? e.untilMs - t : 0
        }
    }

    /// The failures in a row that the next failure escalates from; 0 when the model
    /// has none (or they are stale).
    public func failures(_ model: String) -> Int {
        let window = windowMs
        return entries.withLock { entries in
            guard let e = entries[model], !e.isStale(at: now(), window: window) else { return 0 }
            return e.failures
        }
    }

    /// The models not in cooldown, in the order given; one clock reading for all.
    public func availableFrom(_ models: [String]) -> [String] {
        entries.withLock { entries in
            let t = now()
            return models.filter { entries[$0].map { !$0.isCooling(at: t) } ?? true }
        }
    }

    public func reset(_ model: String) {
        _ = entries.withLock { $0.removeValue(forKey: model) }
    }

    public func resetAll() {
        entries.withLock { $0.removeAll() }
    }

    /// Removes entries that no longer affect any answer, to bound the map's growth:
    /// those whose cooldown expired at least `max` ago (stale). Expired entries younger
    /// than that stay, since the next failure of their model must still escalate.
    public func gc() {
        let window = windowMs
        entries.withLock { entries in
            let t = now()
            entries = entries.filter { !$0.value.isStale(at: t, window: window) }
        }
    }

    /// The number of entries held (stale ones included until `gc`).
    public var count: Int { entries.withLock { $0.count } }
}
