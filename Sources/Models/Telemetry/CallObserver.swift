// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

/// What one call reports as it goes, fanned out to the router's metrics and,
/// when a handler was set as the call began, to its events. `Router.route`
/// tells it what happened; it knows how each thing is counted and described.
/// With no handler, no event is built and nothing extra is read.
struct CallObserver {
    let metrics: RouterMetrics
    /// nil: no handler was set when the call began.
    let events: EventHub?
    let prices: PriceTable
    let callID: UInt64
    /// The model or group the call tries first.
    let first: String
    let metadata: String?
    let stream: Bool
    let startMs: Int64
    /// `gen_ai.operation.name`: "chat" or "embeddings".
    let operation: StaticString
    /// Attempts sent so far, over every model.
    private(set) var attempts = 0
    /// Counted in the metrics with its first attempt when it has one (one lock for both).
    private var callCounted = false
    /// The model whose last attempt failed, and why: a send to another one is a fallback.
    private var failed: (model: String, group: String?, error: ErrorKind)?

    init(metrics: RouterMetrics, events: EventHub, prices: PriceTable, first: String, metadata: String?,
         stream: Bool, startMs: Int64, operation: StaticString = "chat") {
        self.metrics = metrics
        self.events = events.isOn ? events : nil
        self.prices = prices
        callID = self.events?.nextCallID() ?? 0
        self.first = first
        self.metadata = metadata
        self.stream = stream
        self.startMs = startMs
        self.operation = operation
        emit("call.start") { $0.string("gen_ai.request.model", first) }
    }

    /// Builds and sends an event when a handler is set; else does nothing
    /// (inlined, so that without a handler not even the closure is made).
    @inline(__always)
    func emit(_ kind: StaticString, _ fill: (inout EventJSON) -> Void) {
        guard let events else { return }
        send(events, kind, fill)
    }

    @inline(never)
    private func send(_ events: EventHub, _ kind: StaticString, _ fill: (inout EventJSON) -> Void) {
        events.emit {
            var e = EventJSON(kind, callID: callID, timeUnixNano: EventJSON.nowUnixNano(), stream: stream, metadata: metadata,
                              operation: operation)
            fill(&e)
            return e.finish()
        }
    }

    /// The call waits `ms` (a backoff, a rate limit, a cooldown ending). A
    /// backoff was reported with its `retry`.
    mutating func waiting(_ reason: RouteStateMachine.WaitReason, ms: Int64) {
        if !callCounted { metrics.callStarted(first) }
        callCounted = true
        switch reason {
        case .retry: break
        case .rateLimit:
            emit("rate_limit.wait") {
                $0.string("libmodels.limit", "deployment")
                $0.int("libmodels.wait_ms", ms)
            }
        case .cooldown:
            emit("cooldown.wait") { $0.int("libmodels.wait_ms", ms) }
        }
    }

    /// An attempt is sent to `model` (a deployment of `group`); `retry` is 0
    /// for the first attempt at that model.
    mutating func attemptStarted(_ model: RoutedModel, group: String?, retry: Int) {
        attempts += 1
        if let f = failed, f.model != model.name {
            metrics.fellBack(from: f.model, group: f.group)
            emit("fallback") {
                $0.string("libmodels.fallback.from", f.model)
                $0.string("libmodels.fallback.to", model.name)
                $0.string("error.type", f.error.rawValue)
            }
        }
        failed = nil
        if callCounted {
            metrics.attemptStarted(model.name, group: group, number: retry)
        } else {
            metrics.firstAttemptStarted(call: first, model: model.name, group: group)
            callCounted = true
        }
        let n = attempts
        emit("attempt.start") {
            $0.describe(model, group: group)
            $0.int("libmodels.attempt", Int64(n))
            $0.int("libmodels.retry", Int64(retry))
        }
    }

    func rateLimitWait(provider: String, ms: Int64) {
        emit("rate_limit.wait") {
            $0.string("libmodels.limit", "provider")
            $0.string("gen_ai.provider.name", provider)
            $0.int("libmodels.wait_ms", ms)
        }
    }

    /// The attempt in progress failed, `ms` after it was sent.
    mutating func attemptFailed(_ model: RoutedModel, group: String?, ms: Int64, error: ModelsError) {
        metrics.attemptEnded(model.name, group: group, ms: ms, error: error.kind)
        failed = (model.name, group, error.kind)
        let n = attempts
        emit("attempt.end") {
            $0.describe(model, group: group)
            $0.int("libmodels.attempt", Int64(n))
            $0.string("libmodels.status", "error")
            $0.error(error)
            $0.int("libmodels.latency_ms", ms)
        }
    }

    func retrying(_ model: RoutedModel, group: String?, delayMs: Int64, error: ModelsError) {
        let n = attempts
        emit("retry") {
            $0.describe(model, group: group)
            $0.int("libmodels.attempt", Int64(n))
            $0.int("libmodels.delay_ms", delayMs)
            $0.string("error.type", error.kind.rawValue)
        }
    }

    func cooldownStarted(_ model: String, group: String?, ms: Int64) {
        metrics.cooldownStarted(model, group: group)
        emit("cooldown.start") {
            $0.string("gen_ai.request.model", model)
            if let group { $0.string("libmodels.group", group) }
            $0.int("libmodels.cooldown_ms", ms)
        }
    }

    /// An answer from `model` cleared the failures that cooled it down.
    func cooldownEnded(_ model: String, group: String?) {
        emit("cooldown.end") {
            $0.string("gen_ai.request.model", model)
            if let group { $0.string("libmodels.group", group) }
        }
    }

    /// The call failed: no model answered.
    mutating func callFailed(_ error: ModelsError) {
        if !callCounted { metrics.callStarted(first) }
        callCounted = true
        let ms = MonotonicClock.nowMs() - startMs
        metrics.callEnded(first, ms: ms)
        let n = attempts
        emit("call.end") {
            $0.string("gen_ai.request.model", first)
            $0.string("libmodels.status", "error")
            $0.error(error)
            $0.int("libmodels.attempts", Int64(n))
            $0.int("libmodels.latency_ms", ms)
        }
    }

    /// `model` answered (a stream: sent its first word) at `now`; the attempt
    /// was sent at `sentAt`. What the call reports when it is over follows.
    func answered(_ model: RoutedModel, group: String?, began: Int64, sentAt: Int64, now: Int64, load: DeploymentLoad,
                  countsTokens: Bool, wantsSummary: Bool) -> Router.CallEnd {
        metrics.answered(call: first, model: model.name, group: group, attemptMs: now - sentAt, callMs: now - startMs)
        if stream {
            metrics.firstToken(model.name, group: group, ms: now - startMs)
            let n = attempts
            emit("first_token") {
                $0.describe(model, group: group)
                $0.string("gen_ai.response.model", model.name)
                $0.int("libmodels.attempt", Int64(n))
                $0.int("libmodels.time_to_first_token_ms", now - startMs)
            }
        }
        return Router.CallEnd(observer: self, load: load, model: model, group: group, sentAt: sentAt, answeredAt: now, firstWordMs: now - began,
                              countsTokens: countsTokens, wantsSummary: wantsSummary,
                              readsUsage: countsTokens || events != nil || wantsSummary || prices.has(model.name))
    }
}

extension EventJSON {
    /// The model an attempt goes to, its provider and group.
    mutating func describe(_ model: RoutedModel, group: String?) {
        string("gen_ai.request.model", model.name)
        string("gen_ai.provider.name", model.providerName)
        if let group { string("libmodels.group", group) }
    }
}

/// What the caller may ask to see in the answer itself (`x_libmodels`).
public struct CallSummary: Sendable {
    public var model: String
    public var attempts: Int
    /// From the call's start to its answer (a stream: to its end).
    public var latencyMs: Int64
    /// A stream's time to its first word, from the call's start.
    public var timeToFirstTokenMs: Int64?
    public var usage: TokenUsage
    /// nil when the price table has no price for the model.
    public var costUSD: Double?

    /// The `x_libmodels` object.
    public var json: JSON {
        var j: JSON = ["model": .string(model), "attempts": .int(Int64(attempts)), "latency_ms": .int(latencyMs)]
        if let t = timeToFirstTokenMs { j.set("time_to_first_token_ms", .int(t)) }
        if let costUSD, costUSD.isFinite { j.set("cost_usd", .double(costUSD)) }
        return j
    }
}
