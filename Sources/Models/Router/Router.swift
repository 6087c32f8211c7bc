import Glibc

/// Routes OpenAI-shaped chat requests: the primary model, then each fallback
/// in order, retrying transient failures on the same model with backoff,
/// skipping models in cooldown, and pacing each provider with its rate limit.
/// Thread-safe: one router serves many threads at once, and its models,
/// providers and cooldown tracker can be replaced while requests are in flight
/// (a request finishes with the list it started with).
public final class Router: Sendable {
    public let config: RouterConfig
    private let retry: RetryPolicy
    private let rateLimiters: [String: RateLimiter]
    private let state: Locked<State>
    /// Calls in flight, latency and usage per model or deployment.
    let load = DeploymentLoad()
    /// Counters and latency histograms per model, for `models_router_metrics`.
    public let metrics = RouterMetrics()
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
    private let deployments: Set<String>

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
        let now = MonotonicClock.nowMs()
        var seen = Set<String>()
        var report: [ModelHealth] = []
        let unnamed = config.modelGroups.map(\.name).filter { !s.names.contains($0) }
        for name in s.names + unnamed where seen.insert(name).inserted {
            if let group = s.groups[name] {
                for d in group.deployments {
                    var h = health(of: d.model, s, now: now)
                    h.group = name
                    (h.rpm, h.tpm) = (d.rpm, d.tpm)
                    if h.available, load.msUntilBelow(d.model, rpm: d.rpm, tpm: d.tpm, at: now) > 0 {
                        h.available = false
                        h.reason = "at " + d.limitsReached(
                            rpm: d.rpm != nil && load.msUntilBelow(d.model, rpm: d.rpm, tpm: nil, at: now) > 0,
                            tpm: d.tpm != nil && load.msUntilBelow(d.model, rpm: nil, tpm: d.tpm, at: now) > 0)
                    }
                    report.append(h)
                }
            } else {
                report.append(health(of: name, s, now: now))
            }
        }
        return report
    }

    private func health(of model: String, _ s: State, now: Int64) -> ModelHealth {
        let provider = ModelName.provider(of: model)
        var h = ModelHealth(model: model, provider: provider, available: true, reason: "")
        h.load = load.snapshot(model, at: now)
        if s.providers[provider] == nil {
            h.available = false
            h.reason = "provider not registered"
        } else if let remaining = s.cooldown?.remainingMs(model), remaining > 0 {
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
        let summary = options.xLibmodels ?? config.xLibmodels
        var (answer, model, end) = try route(request, options: options, cancellation: cancellation, stream: false,
                                             wantsSummary: summary) { provider, call throws(ModelsError) in
            try provider.chat(call)
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
        let (stream, model, end) = try route(request, options: options, cancellation: cancellation, stream: true,
                                             wantsSummary: false) { provider, call throws(ModelsError) in
            try PrimedStream(priming: provider.openStream(call))
        }
        return ChatStream(stream: stream, model: model, maxCollectBytes: config.maxResponseBytes, onEnd: end)
    }

    /// The routing loop shared by chat and streams: drives a `RouteStateMachine`
    /// with the clock, sleeps and the providers. Returns the answer, the model
    /// that gave it, and what to call when the call is over (a stream's ends
    /// later), with the tokens it used.
    private func route<T>(_ request: ChatRequest, options: CallOptions, cancellation: Cancellation?, stream: Bool,
                          wantsSummary: Bool, _ send: (any ChatProvider, ChatCall) throws(ModelsError) -> T)
        throws(ModelsError) -> (value: T, model: String, end: CallEnd)
    {
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
        let first = entries.first?.name ?? snapshot.primary
        var observer = CallObserver(metrics: metrics, events: events, prices: config.prices, first: first,
                                    metadata: options.metadata, stream: stream, startMs: startMs)
        var machine = RouteStateMachine(entries: entries, settings: settings, startMs: startMs, listed: listed)
        let view = LiveView(cooldown: snapshot.cooldown, load: load)

        while true {
            let (action, began) = decide(&machine, view: view)
            Self.log(machine.takeNotes())
            switch action {
            case .fail(let error):
                observer.callFailed(error)
                throw error
            case .wait(let until):
                observer.waiting(machine.waitReason, ms: until - began)
                do { try Self.sleep(ms: until - MonotonicClock.nowMs(), token: cancellation) } catch {
                    observer.callFailed(error)
                    throw error
                }
            case .send(let attempt):
                let routed = attempt.model, model = routed.name
                observer.attemptStarted(routed, group: attempt.group, retry: attempt.number)
                var sentAt = began
                do throws(ModelsError) {
                    try waitForRateLimit(routed.providerName, deadline: attempt.deadlineMs, token: cancellation, observer: observer)
                    sentAt = MonotonicClock.nowMs()
                    var limits = TransferLimits(headersDeadlineMs: attempt.deadlineMs,
                                                totalDeadlineMs: stream ? nil : attempt.deadlineMs,
                                                idleTimeoutMs: idleTimeoutMs)
                    limits.streamDeadline = streamDeadline
                    limits.maxBodyBytes = config.maxResponseBytes
                    var call = ChatCall(request: request, model: model, modelID: routed.id, limits: limits, cancellation: cancellation)
                    call.extraHeaders = options.extraHeaders
                    call.extraQuery = options.extraQuery
                    // The machine sends only models whose provider is registered.
                    let value = try send(routed.provider!, call)
                    machine.succeeded()
                    if let cooldown = snapshot.cooldown {
                        // Only a handler is told whether the success ended a cooldown: one more lookup.
                        let hadFailures = observer.events != nil && cooldown.failures(model) > 0
                        cooldown.recordSuccess(model)
                        if hadFailures { observer.cooldownEnded(model, group: attempt.group) }
                    }
                    let now = MonotonicClock.nowMs()
                    let end = observer.answered(routed, group: attempt.group, began: began, sentAt: sentAt, now: now, load: load,
                                                countsTokens: attempt.group != nil || (!deployments.isEmpty && deployments.contains(model)),
                                                wantsSummary: wantsSummary)
                    return (value, model, end)
                } catch {
                    let now = MonotonicClock.nowMs()
                    load.end(model, at: now, firstByteMs: nil, tokens: 0)
                    observer.attemptFailed(routed, group: attempt.group, ms: now - sentAt, error: error)
                    let failure = machine.failed(error, now: MonotonicClock.nowMs(), view: view)
                    Self.log(machine.takeNotes())
                    if let delay = failure.retryInMs { observer.retrying(routed, group: attempt.group, delayMs: delay, error: error) }
                    if failure.coolDown, let cooldown = snapshot.cooldown {
                        let ms = cooldown.recordFailure(model)
                        observer.cooldownStarted(model, group: attempt.group, ms: ms)
                        Log.warn("cooling \(model) down for \(ModelHealth.formatRemaining(ms))")
                    }
                }
            }
        }
    }

    /// The machine's next action, and the time it was taken. An attempt is
    /// counted in `load` in the same step; when some deployment has an rpm or
    /// tpm limit, that step holds `deciding`, so two calls that both see a
    /// deployment one request below its limit cannot both take it.
    private func decide(_ machine: inout RouteStateMachine, view: LiveView) -> (RouteStateMachine.Action, Int64) {
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

        /// `atHand`: the usage is known without parsing (a stream's end), so it
        /// is read for every model. `error`: a stream that failed after it opened.
        /// Returns what `x_libmodels` says, when it or a handler wants it.
        @discardableResult
        func callAsFunction(usage: @autoclosure () -> TokenUsage, atHand: Bool = false, error: ModelsError? = nil) -> CallSummary? {
            let used = readsUsage || atHand ? usage() : .zero
            let now = MonotonicClock.nowMs()
            load.end(model.name, at: now, firstByteMs: firstWordMs, tokens: countsTokens ? used.total : 0)
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

    private static func log(_ notes: [(level: Log.Level, message: String)]) {
        for note in notes { Log.log(note.level, note.message) }
    }

    /// The shared state the routing decisions read, live.
    private struct LiveView: RouteStateMachine.View {
        let cooldown: Cooldown?
        let load: DeploymentLoad

        func cooldownRemainingMs(_ model: String) -> Int64 { cooldown?.remainingMs(model) ?? 0 }
        func load(_ model: String) -> DeploymentLoad.Snapshot { load.snapshot(model, at: MonotonicClock.nowMs()) }
        func msUntilBelow(_ model: String, rpm: Int64?, tpm: Int64?) -> Int64 {
            load.msUntilBelow(model, rpm: rpm, tpm: tpm, at: MonotonicClock.nowMs())
        }
        func random() -> Double { Double.random(in: 0..<1) }
    }

    private func waitForRateLimit(_ provider: String, deadline: Int64, token: Cancellation?, observer: CallObserver) throws(ModelsError) {
        guard let limiter = rateLimiters[provider] else { return }
        let wait = limiter.reserve()
        guard wait > 0 else { return }
        if MonotonicClock.nowMs() + wait >= deadline {
            limiter.cancelReservation()
            throw ModelsError(.timeout, "rate limit of \(provider) needs a wait of \(wait) ms, past the model's timeout", isTransient: true)
        }
        Log.debug("rate limit: waiting \(wait) ms for \(provider)")
        observer.rateLimitWait(provider: provider, ms: wait)
        do { try Self.sleep(ms: wait, token: token) } catch {
            limiter.cancelReservation()
            throw error
        }
    }

    /// A backoff or rate-limit wait: cut short by the caller's token, when it gave one.
    private static func sleep(ms: Int64, token: Cancellation?) throws(ModelsError) {
        if let token { return try token.sleep(ms: ms) }
        guard ms > 0 else { return }
        var left = timespec(tv_sec: Int(ms / 1000), tv_nsec: Int(ms % 1000) * 1_000_000)
        var request = left
        while nanosleep(&request, &left) == -1 && errno == EINTR { request = left }
    }

}
