// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

/// A router's counters and latency histograms per model (and the group a
/// model is a deployment of), for `PrometheusText`. Thread-safe; each update
/// takes one lock and builds no strings.
public final class RouterMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds: LLM calls take from
    /// tens of milliseconds (cached, tiny) to minutes (long generations).
    public static let latencyBounds: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120]

    struct Key: Hashable, Comparable {
        var model: String
        var group: String?

        static func < (a: Key, b: Key) -> Bool {
            (a.model, a.group ?? "") < (b.model, b.group ?? "")
        }
    }

    struct Histogram {
        /// Observations per bucket alone; the last is above every bound.
        var counts = [UInt64](repeating: 0, count: RouterMetrics.latencyBounds.count + 1)
        var sum: Double = 0

        mutating func observe(ms: Int64) {
            let seconds = Double(max(0, ms)) / 1000
            let i = RouterMetrics.latencyBounds.firstIndex { seconds <= $0 } ?? RouterMetrics.latencyBounds.count
            counts[i] &+= 1
            sum += seconds
        }
    }

    struct Counters {
        var requests: UInt64 = 0
        var attempts: UInt64 = 0
        var retries: UInt64 = 0
        var fallbacks: UInt64 = 0
        var cooldowns: UInt64 = 0
        var promptTokens: UInt64 = 0
        var completionTokens: UInt64 = 0
        var errors: [ErrorKind: UInt64] = [:]
        var cachedTokens: UInt64 = 0
        /// US dollars, from the config's price table.
        var costUSD: Double = 0
        var callLatency = Histogram()
        var attemptLatency = Histogram()
        var firstToken = Histogram()

        mutating func countFirstAttempt() {
            requests &+= 1
            attempts &+= 1
        }
    }

    private let store = Locked<[Key: Counters]>([:])

    public init() {}

    private func update(_ model: String, _ group: String?, _ body: (inout Counters) -> Void) {
        store.withLock { body(&$0[Key(model: model, group: group), default: Counters()]) }
    }

    /// A call started; `model` is the first model or group it tries.
    func callStarted(_ model: String) { update(model, nil) { $0.requests &+= 1 } }

    /// A call is over (answered, failed, or a stream opened), `ms` after it started.
    func callEnded(_ model: String, ms: Int64) { update(model, nil) { $0.callLatency.observe(ms: ms) } }

    /// An attempt was sent; `number` is 0 for the first at this model, more for a retry.
    func attemptStarted(_ model: String, group: String?, number: Int) {
        update(model, group) {
            $0.attempts &+= 1
            if number > 0 { $0.retries &+= 1 }
        }
    }

    /// A call's first attempt: `callStarted` and `attemptStarted` under one
    /// lock, and one entry when the call names the model it sends to.
    func firstAttemptStarted(call: String, model: String, group: String?) {
        store.withLock { s in
            if group == nil && call == model {
                s[Key(model: model, group: nil), default: Counters()].countFirstAttempt()
                return
            }
            s[Key(model: call, group: nil), default: Counters()].requests &+= 1
            s[Key(model: model, group: group), default: Counters()].attempts &+= 1
        }
    }

    /// An attempt answered, so its call is over: `attemptEnded` and
    /// `callEnded` under one lock, as `firstAttemptStarted`.
    func answered(call: String, model: String, group: String?, attemptMs: Int64, callMs: Int64) {
        store.withLock { s in
            s[Key(model: model, group: group), default: Counters()].attemptLatency.observe(ms: attemptMs)
            s[Key(model: call, group: nil), default: Counters()].callLatency.observe(ms: callMs)
        }
    }

    /// An attempt answered (`kind` nil) or failed, `ms` after it was sent.
    func attemptEnded(_ model: String, group: String?, ms: Int64, error: ErrorKind?) {
        update(model, group) {
            $0.attemptLatency.observe(ms: ms)
            if let error { $0.errors[error, default: 0] &+= 1 }
        }
    }

    /// The call moved on from `model`, which failed, to another model.
    func fellBack(from model: String, group: String?) { update(model, group) { $0.fallbacks &+= 1 } }

    func cooldownStarted(_ model: String, group: String?) { update(model, group) { $0.cooldowns &+= 1 } }

    /// A stream sent its first word `ms` after its call started.
    func firstToken(_ model: String, group: String?, ms: Int64) { update(model, group) { $0.firstToken.observe(ms: ms) } }

    /// An answer's usage and, when the model has a price, its cost in US dollars.
    func used(_ model: String, group: String?, _ usage: TokenUsage, costUSD: Double?) {
        guard !usage.isZero || costUSD != nil else { return }
        update(model, group) {
            $0.promptTokens &+= UInt64(usage.input)
            $0.completionTokens &+= UInt64(usage.output)
            $0.cachedTokens &+= UInt64(usage.cachedInput)
            if let costUSD, costUSD.isFinite, costUSD > 0 { $0.costUSD += costUSD }
        }
    }

    /// Every metric, in the Prometheus text format.
    public func prometheusText() -> String {
        PrometheusText.render(families())
    }

    func families() -> [PrometheusText.Family] {
        let snapshot = store.withLock { $0 }.sorted { $0.key < $1.key }
        typealias F = PrometheusText.Family
        var requests = F(name: "libmodels_requests_total", help: "Calls started, by the first model or group they try.", kind: .counter)
        var attempts = F(name: "libmodels_attempts_total", help: "Attempts sent to a model, retries included.", kind: .counter)
        var errors = F(name: "libmodels_errors_total", help: "Failed attempts, by error kind.", kind: .counter)
        var retries = F(name: "libmodels_retries_total", help: "Attempts that retried the same model after a failure.", kind: .counter)
        var fallbacks = F(name: "libmodels_fallbacks_total", help: "Times a call moved on from this failed model to another.", kind: .counter)
        var cooldowns = F(name: "libmodels_cooldowns_total", help: "Cooldowns started for the model.", kind: .counter)
        let tokenNote = " Counted for streams (their usage at the end) and for chat answers whose usage is read: group deployments, models with a price, calls with an event handler or x_libmodels."
        var prompt = F(name: "libmodels_prompt_tokens_total", help: "Prompt tokens used, cached ones included." + tokenNote, kind: .counter)
        var completion = F(name: "libmodels_completion_tokens_total", help: "Completion tokens used." + tokenNote, kind: .counter)
        var cached = F(name: "libmodels_cached_prompt_tokens_total", help: "Prompt tokens read from the provider's cache (non-streaming answers)." + tokenNote, kind: .counter)
        var cost = F(name: "libmodels_cost_usd_total", help: "Cost in US dollars of the answers of models with a price in the config's price table.", kind: .counter)
        var calls = F(name: "libmodels_call_duration_seconds",
                      help: "Time from a call's start to its answer or error (a stream: until it opened), fallbacks included.", kind: .histogram)
        var tries = F(name: "libmodels_attempt_duration_seconds",
                      help: "Time from sending an attempt to its answer (a stream: its first part) or error.", kind: .histogram)
        var firstTokens = F(name: "libmodels_time_to_first_token_seconds",
                            help: "Streams only: time from a call's start to its first word, retries and fallbacks included, by the model that answered. A chat answer's is its call duration.", kind: .histogram)
        for (key, c) in snapshot {
            var labels = [("model", key.model)]
            if let group = key.group { labels.append(("group", group)) }
            func add(_ family: inout F, _ value: UInt64) {
                if value > 0 { family.samples.append(.init(name: family.name, labels: labels, value: Double(value))) }
            }
            add(&requests, c.requests)
            add(&attempts, c.attempts)
            for (kind, count) in c.errors.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                errors.samples.append(.init(name: errors.name, labels: labels + [("kind", kind.rawValue)], value: Double(count)))
            }
            add(&retries, c.retries)
            add(&fallbacks, c.fallbacks)
            add(&cooldowns, c.cooldowns)
            add(&prompt, c.promptTokens)
            add(&completion, c.completionTokens)
            add(&cached, c.cachedTokens)
            if c.costUSD > 0 { cost.samples.append(.init(name: cost.name, labels: labels, value: c.costUSD)) }
            if c.callLatency.counts.contains(where: { $0 > 0 }) {
                calls.addHistogram(labels: labels, bounds: Self.latencyBounds, counts: c.callLatency.counts, sum: c.callLatency.sum)
            }
            if c.attemptLatency.counts.contains(where: { $0 > 0 }) {
                tries.addHistogram(labels: labels, bounds: Self.latencyBounds, counts: c.attemptLatency.counts, sum: c.attemptLatency.sum)
            }
            if c.firstToken.counts.contains(where: { $0 > 0 }) {
                firstTokens.addHistogram(labels: labels, bounds: Self.latencyBounds, counts: c.firstToken.counts, sum: c.firstToken.sum)
            }
        }
        return [requests, attempts, errors, retries, fallbacks, cooldowns, prompt, completion, cached, cost, calls, tries, firstTokens]
    }
}
