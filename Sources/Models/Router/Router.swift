// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import ModelsProviders
import ModelsTransport

/// Routes OpenAI-shaped chat requests: the primary model, then each fallback
/// in order, retrying transient failures on the same model with backoff,
/// skipping models in cooldown, and pacing each provider with its rate limit.
/// Thread-safe: one router serves many threads at once, and its models,
/// providers and cooldown tracker can be replaced while requests are in flight
/// (a request finishes with the list it started with).
public final class Router: Sendable {
    public let config: RouterConfig
    private let retry: RetryPolicy
    let rateLimiters: [String: RateLimiter]
    private let state: Locked<State>
    /// Calls in flight, latency and usage per model or deployment.
    let load = DeploymentLoad()
    /// Counters and latency histograms per model, for `models_router_metrics`.
    public let metrics = RouterMetrics()
    /// Cooldowns, rate limits and load shared with other routers through Redis (`shared_state`).
    let shared: SharedState?
    /// Where the calls' events go (`models_router_set_event_handler`).
    public let events = EventHub()
    /// Held while a call decides and counts its next attempt, so that a
    /// deployment's rpm cannot be passed by calls deciding at the same moment.
    /// Its value, the decisions taken, is only counted: a lock around an empty
    /// value gives false reports under ThreadSanitizer.
    private let deciding = Locked<UInt64>(0)
    /// Some group deployment has an rpm or tpm limit: decisions take `deciding`.
    private let hasDeploymentLimits: Bool
    /// Every model that is a deployment of some group: their answers' tokens
    /// are counted (for tpm), also when a request names one directly.
    let deployments: Set<String>

    struct State: @unchecked Sendable {
        var primary: String { names[0] }
        var fallbacks: [String] { Array(names.dropFirst()) }
        /// The primary and the fallbacks as named (a model or a group).
        private(set) var names: [String]
        /// The same, each with its provider (or its deployments' providers)
        /// looked up: rebuilt when the names or the providers change.
        private(set) var chain: [RouteStateMachine.Entry]
        private(set) var providers: [String: any ChatProvider]
        let groups: [String: ModelGroup]
        var cooldown: Cooldown?

        init(models: [String], groups: [ModelGroup], providers: [String: any ChatProvider], cooldown: Cooldown?) {
            self.providers = providers
            self.cooldown = cooldown
            self.groups = Dictionary(groups.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            names = models
            chain = []
            chain = models.map(entry)
        }

        /// A model name, or a group name, with its providers looked up.
        func entry(_ name: String) -> RouteStateMachine.Entry {
            guard let group = groups[name] else { return .model(RoutedModel(name, providers: providers)) }
            return .group(name: name, strategy: group.strategy,
                          deployments: group.deployments.map { (RoutedModel($0.model, providers: providers), $0) })
        }

        mutating func setModels(_ models: [String]) {
            names = models
            chain = models.map(entry)
        }

        mutating func register(_ provider: any ChatProvider) {
            providers[provider.name] = provider
            chain = names.map(entry)
        }
    }

    public init(config: RouterConfig, environment: ProviderRegistry.Environment = ProviderRegistry.processEnvironment)
        throws(ModelsError)
    {
        self.config = config
        retry = RetryPolicy(config: config)
        var limiters: [String: RateLimiter] = [:]
        for (provider, limit) in config.rateLimits { limiters[provider] = RateLimiter(config: limit) }
        rateLimiters = limiters
        hasDeploymentLimits = config.modelGroups.contains { $0.deployments.contains { $0.rpm != nil || $0.tpm != nil } }
        deployments = Set(config.modelGroups.flatMap { $0.deployments.map(\.model) })
        let providers = try ProviderRegistry.build(config, environment: environment)
        if let c = config.sharedState { shared = try SharedState.make(c, environment: environment) } else { shared = nil }
        state = Locked(State(models: [config.primary] + config.fallbacks, groups: config.modelGroups, providers: providers,
                            cooldown: config.cooldown.map { Cooldown(config: $0) }))
    }

    // MARK: Configuration at run time

    /// Replaces the primary model and the fallbacks (hot reload).
    public func setModels(primary: String, fallbacks: [String]) throws(ModelsError) {
        for (i, model) in ([primary] + fallbacks).enumerated() {
            if let problem = ModelName.problem(with: model) {
                throw .invalidArgument(i == 0 ? "primary model \(problem)" : "fallback \(i - 1) \(problem)")
            }
        }
        state.withLock { $0.setModels([primary] + fallbacks) }
        Log.info("models set: primary \(primary), fallbacks [\(fallbacks.joined(separator: ", "))]")
    }

    public var models: (primary: String, fallbacks: [String]) {
        state.withLock { ($0.primary, $0.fallbacks) }
    }

    /// Registers (or replaces) a provider under its name.
    public func register(_ provider: any ChatProvider) {
        state.withLock { $0.register(provider) }
    }

    /// Shares a cooldown tracker with this router; nil turns cooldowns off.
    public func setCooldown(_ cooldown: Cooldown?) {
        state.withLock { $0.cooldown = cooldown }
    }

    public var cooldown: Cooldown? { state.withLock { $0.cooldown } }

    /// The registered provider names, sorted.
    public var providerNames: [String] { state.withLock { $0.providers.keys.sorted() } }

    /// Each model's provider and availability, in routing order, without calling
    /// any API; a group's deployments one by one, then the deployments of groups
    /// the models do not name.
    public func health() -> [ModelHealth] {
        let s = state.withLock { $0 }
        let unnamed = config.modelGroups.map(\.name).filter { !s.names.contains($0) }
        let view = LiveView(cooldown: s.cooldown, load: load,
                            shared: readShared((s.names + unnamed).map(s.entry), cooldown: s.cooldown))
        var seen = Set<String>()
        var report: [ModelHealth] = []
        for name in s.names + unnamed where seen.insert(name).inserted {
            if let group = s.groups[name] {
                for d in group.deployments {
                    var h = health(of: d.model, s, view: view)
                    h.group = name
                    (h.rpm, h.tpm) = (d.rpm, d.tpm)
                    if h.available, view.msUntilBelow(d.model, rpm: d.rpm, tpm: d.tpm) > 0 {
                        h.available = false
                        h.reason = "at " + d.limitsReached(
                            rpm: d.rpm != nil && view.msUntilBelow(d.model, rpm: d.rpm, tpm: nil) > 0,
                            tpm: d.tpm != nil && view.msUntilBelow(d.model, rpm: nil, tpm: d.tpm) > 0)
                    }
                    report.append(h)
                }
            } else {
                report.append(health(of: name, s, view: view))
            }
        }
        return report
    }

    private func health(of model: String, _ s: State, view: LiveView) -> ModelHealth {
        let provider = ModelName.provider(of: model)
        var h = ModelHealth(model: model, provider: provider, available: true, reason: "")
        h.load = view.load(model)
        if s.providers[provider] == nil {
            h.available = false
            h.reason = "provider not registered"
        } else if s.cooldown != nil, case let remaining = view.cooldownRemainingMs(model), remaining > 0 {
            h.available = false
            h.reason = "cooldown (\(ModelHealth.formatRemaining(remaining)) remaining)"
        }
        return h
    }

    // MARK: Requests

    /// A complete answer (`chat.completion`); its `model` is the model that answered.
    public func chat(_ request: ChatRequest, options: CallOptions = CallOptions(), cancellation: Cancellation? = nil)
        throws(ModelsError) -> ChatAnswer
    {
        // Bound as a var straight away: the answer's only owner, so setting the
        // model changes it in place instead of copying it first.
        if hedges(options) { return try chatOnEngine(request, options: options, cancellation: cancellation) }
        let summary = options.xLibmodels ?? config.xLibmodels
        var (answer, model, end) = try route(.chat(request), options: options, cancellation: cancellation, stream: false) {
            provider, plan, attempt throws(ModelsError) in
            try provider.chat(plan.call(attempt, cancellation: cancellation))
        }
        let ended = end(usage: answer.usage)
        answer.setModel(model)
        if summary, let ended { answer.setMember("x_libmodels", ended.json) }
        return answer
    }

    /// An open stream: a provider accepted the request and sent the first
    /// part of its answer. A stream that fails before that is retried and falls
    /// back like a failed request; errors later in the stream are the caller's.
    public func openStream(_ request: ChatRequest, options: CallOptions = CallOptions(), cancellation: Cancellation? = nil)
        throws(ModelsError) -> ChatStream
    {
        if hedges(options) { return try openStreamOnEngine(request, options: options, cancellation: cancellation) }
        if (options.streamRecovery ?? config.streamRecovery) == .resume {
            return try openResumingStream(request, options: options, cancellation: cancellation)
        }
        let (stream, model, end) = try route(.chat(request), options: options, cancellation: cancellation, stream: true) {
            provider, plan, attempt throws(ModelsError) in
            try PrimedStream(priming: provider.openStream(plan.call(attempt, cancellation: cancellation)))
        }
        return ChatStream(stream: stream, model: model, maxCollectBytes: config.maxResponseBytes, onEnd: end)
    }

    /// One call's routing, set up: the entries to try (the request may name
    /// one model alone, the options may replace the fallbacks), the settings
    /// from the config and the options, and what each attempt gets.
    func plan(_ request: ChatRequest, options: CallOptions, stream: Bool) throws(ModelsError) -> CallPlan {
        try plan(.chat(request), options: options, stream: stream)
    }

    func plan(_ request: CallRequest, options: CallOptions, stream: Bool) throws(ModelsError) -> CallPlan {
        let snapshot = state.withLock { $0 }
        let startMs = MonotonicClock.nowMs()
        var entries = snapshot.chain
        // A request that names a model other than the primary goes to that model (or group) alone.
        var alone = false
        if let requested = request.model, requested != snapshot.primary {
            if let problem = ModelName.problem(with: requested) { throw .invalidArgument("request \"model\" \(problem)") }
            entries = [snapshot.entry(requested)]
            alone = true
        }
        // Fallbacks given for this call replace the configured ones, after the model that leads.
        if let fallbacks = options.fallbacks {
            entries = Array(entries.prefix(1)) + fallbacks.map(snapshot.entry)
            alone = false
        }
        // A whole stream's deadline counts from the call: connecting and fallbacks included.
        let streamDeadline = stream ? (options.streamTimeoutMs ?? config.streamTimeoutMs).map { (atMs: startMs.saturatingAdd($0), afterMs: $0) } : nil
        var retry = self.retry
        if let maxRetries = options.maxRetries { retry.maxRetries = maxRetries }
        let timeoutMs = options.timeoutMs ?? config.timeoutMs
        let idleTimeoutMs = options.streamIdleTimeoutMs ?? config.streamIdleTimeoutMs ?? timeoutMs
        let settings = RouteStateMachine.Settings(
            retry: retry, policy: config.fallbackPolicy, alone: alone, stream: stream, timeoutMs: timeoutMs,
            streamConnectTimeoutMs: config.streamConnectTimeoutMs, streamDeadlineMs: streamDeadline?.atMs,
            cooldownWaitMs: config.cooldownWaitMs)
        var listed: [String: RouteStateMachine.Entry] = [:]
        for name in config.fallbackPolicy.contextWindowFallbacks + config.fallbackPolicy.contentPolicyFallbacks {
            listed[name] = snapshot.entry(name)
        }
        var plan = CallPlan(machine: RouteStateMachine(entries: entries, settings: settings, startMs: startMs, listed: listed),
                        request: request, options: options, stream: stream, startMs: startMs,
                        first: entries.first?.name ?? snapshot.primary, streamDeadline: streamDeadline,
                        idleTimeoutMs: idleTimeoutMs, maxResponseBytes: config.maxResponseBytes, cooldown: snapshot.cooldown,
                        sharedEntries: shared == nil ? [] : entries + listed.values)
        // Hedging races first words; an embeddings answer has none (and the blocking path never hedges it).
        if !request.isEmbeddings {
            plan.hedgeAfterMs = (options.hedgeAfterMs ?? config.hedgeAfterMs).flatMap { $0 > 0 ? $0 : nil }
        }
        return plan
    }

    /// Where a call reports its attempts: the metrics, the events, `load`, the
    /// cooldowns. `sharing`: failures and ends are told to the shared state
    /// (Redis), whose calls block: the engine, which must not block, does not share yet.
    func ledger(_ plan: CallPlan, sharing: Bool = true) -> CallLedger {
        let observer = CallObserver(metrics: metrics, events: events, prices: config.prices, first: plan.first,
                                    metadata: plan.options.metadata, stream: plan.stream, startMs: plan.startMs,
                                    operation: plan.request.operation)
        return CallLedger(observer: observer, load: load, deployments: deployments, shared: sharing ? shared : nil,
                          wantsSummary: !plan.stream && (plan.options.xLibmodels ?? config.xLibmodels))
    }

    /// The shared state a call's routing decisions read (what Redis shares is read into it before each decision).
    func view(_ plan: CallPlan) -> LiveView { LiveView(cooldown: plan.cooldown, load: load) }

    /// The routing loop shared by chat and streams: drives a `RouteStateMachine`
    /// with the clock, sleeps and the providers. Returns the answer, the model
    /// that gave it, and what to call when the call is over (a stream's ends
    /// later), with the tokens it used.
    func route<T>(_ request: CallRequest, options: CallOptions, cancellation: Cancellation?, stream: Bool,
                  _ send: (any ChatProvider, CallPlan, RouteStateMachine.Attempt) throws(ModelsError) -> T)
        throws(ModelsError) -> (value: T, model: String, end: CallEnd)
    {
        var plan = try plan(request, options: options, stream: stream)
        var ledger = ledger(plan)
        var view = view(plan)
        let (value, attempt, end) = try drive(&plan, &ledger, &view, cancellation: cancellation) {
            attempt, plan throws(ModelsError) in try send(attempt.model.provider!, plan, attempt)
        }
        return (value, attempt.model.name, end)
    }

    /// Drives a call's machine until an attempt answers (returned with the
    /// attempt and what to call when the call is over) or the call fails.
    /// `send` gets the attempt (whose provider is registered) and the plan it belongs to.
    func drive<T>(_ plan: inout CallPlan, _ ledger: inout CallLedger, _ view: inout LiveView, cancellation: Cancellation?,
                  _ send: (RouteStateMachine.Attempt, CallPlan) throws(ModelsError) -> T)
        throws(ModelsError) -> (value: T, attempt: RouteStateMachine.Attempt, end: CallEnd)
    {
        while true {
            if shared != nil { view.shared = readShared(plan.sharedEntries, cooldown: plan.cooldown) }
            let (action, began) = decide(&plan.machine, view: view)
            Self.log(plan.machine.takeNotes())
            switch action {
            case .fail(let error):
                ledger.callFailed(error)
                throw error
            case .wait(let until):
                ledger.waiting(plan, ms: until - began)
                do { try Self.sleep(ms: until - MonotonicClock.nowMs(), token: cancellation) } catch {
                    ledger.callFailed(error)
                    throw error
                }
            case .send(let attempt):
                ledger.sending(attempt)
                var sentAt = began
                var member: String?
                do throws(ModelsError) {
                    member = try startAttempt(attempt.model, attempt, token: cancellation, observer: ledger.observer)
                    sentAt = MonotonicClock.nowMs()
                    // The machine sends only models whose provider is registered.
                    let value = try send(attempt, plan)
                    var end = ledger.answered(&plan, attempt, began: began, sentAt: sentAt, now: MonotonicClock.nowMs())
                    end.shared = shared.map { .init(state: $0, member: member, clearsCooldown: view.sharedFailures(attempt.model.name) > 0) }
                    return (value, attempt, end)
                } catch {
                    ledger.attemptFailed(&plan, attempt, error, sentAt: sentAt, view: view, member: member)
                }
            }
        }
    }

    /// The machine's next action, and the time it was taken. An attempt is
    /// counted in `load` in the same step; when some deployment has an rpm or
    /// tpm limit, that step holds `deciding`, so two calls that both see a
    /// deployment one request below its limit cannot both take it.
    func decide(_ machine: inout RouteStateMachine, view: LiveView) -> (RouteStateMachine.Action, Int64) {
        func step(_ machine: inout RouteStateMachine) -> (RouteStateMachine.Action, Int64) {
            let now = MonotonicClock.nowMs()
            let action = machine.next(now: now, view: view)
            if case .send(let attempt) = action { load.begin(attempt.model.name, at: now) }
            return (action, now)
        }
        guard hasDeploymentLimits else { return step(&machine) }
        return deciding.withLock { decisions in
            decisions &+= 1
            return step(&machine)
        }
    }

    /// What a call reports when it is over (to `load`, the metrics and the
    /// events): a chat at once, a stream when it ends.
    struct CallEnd {
        let observer: CallObserver
        let load: DeploymentLoad
        let model: RoutedModel
        let group: String?
        let sentAt: Int64
        /// When the answer (chat) or the first word (stream) came.
        let answeredAt: Int64
        /// From the attempt's decision to `answeredAt`, rate-limit wait included (for `load`).
        let firstWordMs: Int64
        /// Only group deployments are held to tpm limits.
        let countsTokens: Bool
        /// The call asked for `x_libmodels`.
        let wantsSummary: Bool
        /// Something needs the answer's usage: tpm limits, a price, a handler or `x_libmodels`.
        let readsUsage: Bool
        /// What the shared state is told when the call is over.
        var shared: SharedEnd?

        /// `atHand`: the usage is known without parsing (a stream's end), so it
        /// is read for every model. `error`: a stream that failed after it opened.
        /// Returns what `x_libmodels` says, when it or a handler wants it.
        @discardableResult
        func callAsFunction(usage: @autoclosure () -> TokenUsage, atHand: Bool = false, error: ModelsError? = nil) -> CallSummary? {
            let used = readsUsage || atHand ? usage() : .zero
            let now = MonotonicClock.nowMs()
            load.end(model.name, at: now, firstByteMs: firstWordMs, tokens: countsTokens ? used.total : 0)
            shared?(model.name, tokens: countsTokens ? used.total : 0)
            let cost = observer.prices.cost(model.name, used)
            observer.metrics.used(model.name, group: group, used, costUSD: cost)
            guard observer.events != nil || wantsSummary else { return nil }
            return report(used, cost: cost, now: now, error: error)
        }

        /// The call's summary, and its last events.
        @inline(never)
        private func report(_ used: TokenUsage, cost: Double?, now: Int64, error: ModelsError?) -> CallSummary {
            let o = observer
            let summary = CallSummary(model: model.name, attempts: o.attempts, latencyMs: now - o.startMs,
                                      timeToFirstTokenMs: o.stream ? answeredAt - o.startMs : nil, usage: used, costUSD: cost)
            o.emit("attempt.end") {
                $0.describe(model, group: group)
                $0.string("gen_ai.response.model", model.name)
                $0.int("libmodels.attempt", Int64(o.attempts))
                $0.string("libmodels.status", error == nil ? "ok" : "error")
                if let error { $0.error(error) }
                $0.int("libmodels.latency_ms", now - sentAt)
                if o.stream { $0.int("libmodels.time_to_first_token_ms", answeredAt - sentAt) }
                $0.usage(used)
                if let cost { $0.number("libmodels.cost_usd", cost) }
            }
            o.emit("call.end") {
                $0.string("gen_ai.request.model", o.first)
                $0.string("gen_ai.response.model", model.name)
                $0.string("gen_ai.provider.name", model.providerName)
                if let group { $0.string("libmodels.group", group) }
                $0.string("libmodels.status", error == nil ? "ok" : "error")
                if let error { $0.error(error) }
                $0.int("libmodels.attempts", Int64(o.attempts))
                $0.int("libmodels.latency_ms", summary.latencyMs)
                if let t = summary.timeToFirstTokenMs { $0.int("libmodels.time_to_first_token_ms", t) }
                $0.usage(used)
                if let cost { $0.number("libmodels.cost_usd", cost) }
            }
            return summary
        }
    }

    static func log(_ notes: [(level: Log.Level, message: String)]) {
        for note in notes { Log.log(note.level, note.message) }
    }

    /// The shared state the routing decisions read, live: this router's own,
    /// and what other routers share through Redis when it answered (see `SharedView`).
    struct LiveView: RouteStateMachine.View {
        let cooldown: Cooldown?
        let load: DeploymentLoad
        var shared: SharedSnapshot?

        func cooldownRemainingMs(_ model: String) -> Int64 {
            let local = cooldown?.remainingMs(model) ?? 0
            guard let shared else { return local }
            return max(local, shared.cooldownRemainingMs(model, atLocal: MonotonicClock.nowMs()))
        }
        func load(_ model: String) -> DeploymentLoad.Snapshot {
            let now = MonotonicClock.nowMs()
            return SharedView.load(load.snapshot(model, at: now), shared, model, now: now)
        }
        func msUntilBelow(_ model: String, rpm: Int64?, tpm: Int64?) -> Int64 {
            let now = MonotonicClock.nowMs()
            return SharedView.msUntilBelow(load.msUntilBelow(model, rpm: rpm, tpm: tpm, at: now), shared, model, rpm: rpm, tpm: tpm, now: now)
        }
        func random() -> Double { Double.random(in: 0..<1) }
        /// The failures in a row Redis holds for `model` (0 when none or unknown).
        func sharedFailures(_ model: String) -> Int64 { shared?.models[model]?.failures ?? 0 }
    }

    /// The rate limiter of a provider, when it has one.
    func rateLimiter(_ provider: String) -> RateLimiter? { rateLimiters[provider] }

    func waitForRateLimit(_ provider: String, deadline: Int64, token: Cancellation?, observer: CallObserver?) throws(ModelsError) {
        guard let limiter = rateLimiters[provider] else { return }
        let wait = limiter.reserve()
        guard wait > 0 else { return }
        if MonotonicClock.nowMs() + wait >= deadline {
            limiter.cancelReservation()
            throw ModelsError(.timeout, "rate limit of \(provider) needs a wait of \(wait) ms, past the model's timeout", isTransient: true)
        }
        Log.debug("rate limit: waiting \(wait) ms for \(provider)")
        observer?.rateLimitWait(provider: provider, ms: wait)
        do { try Self.sleep(ms: wait, token: token) } catch {
            limiter.cancelReservation()
            throw error
        }
    }

    /// A backoff or rate-limit wait: cut short by the caller's token, when it gave one.
    static func sleep(ms: Int64, token: Cancellation?) throws(ModelsError) {
        if let token { return try token.sleep(ms: ms) }
        guard ms > 0 else { return }
        var left = timespec(tv_sec: Int(ms / 1000), tv_nsec: Int(ms % 1000) * 1_000_000)
        var request = left
        while nanosleep(&request, &left) == -1 && errno == EINTR { request = left }
    }

}
