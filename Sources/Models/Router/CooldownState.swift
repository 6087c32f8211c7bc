// SPDX-License-Identifier: Apache-2.0

/// The cooldown of one model: how many transient failures in a row, and until when
/// it is skipped. A plain value; `Cooldown` keeps one per model behind a lock.
///
/// Lifecycle of an entry (`now` from the injected clock):
///
///     absent ──failure──▶ cooling (now < until)
///     cooling ──failure──▶ cooling, failures + 1, longer
///     cooling ──time────▶ expired (until <= now < until + window): available, count kept,
///                         so the next failure escalates
///     expired ──time────▶ stale (now >= until + window): behaves exactly as absent
///     any ──success/reset──▶ absent
///
/// `window` is the effective maximum delay (`CooldownConfig.maxMs`): a model that has
/// been out of cooldown for that long starts fresh at the base delay. Because a stale
/// entry is indistinguishable from an absent one, `Cooldown.gc()` may drop stale
/// entries at any time without changing any answer.
struct CooldownEntry: Sendable, Equatable {
    var failures: Int
    var untilMs: Int64

    func isCooling(at now: Int64) -> Bool { now < untilMs }

    func isStale(at now: Int64, window: Int64) -> Bool {
        now >= untilMs.saturatingAdd(window)
    }
}

