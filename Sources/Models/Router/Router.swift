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

    struct State: @unchecked Sendable {
        var primary: String { chain[0].name }
        var fallbacks: [String] { chain.dropFirst().map(\.name) }
        /// The primary and the fallbacks, each with its provider looked up:
        /// rebuilt when either changes, so a request does no lookups.
        private(set) var chain: [RoutedModel]
        private(set) var providers: [String: any ChatProvider]
        var cooldown: Cooldown?

        init(models: [String], providers: [String: any ChatProvider], cooldown: Cooldown?) {
            self.providers = providers
            self.cooldown = cooldown
            chain = models.map { RoutedModel($0, providers: providers) }
        }

        mutating func setModels(_ models: [String]) { chain = models.map { RoutedModel($0, providers: providers) } }

        mutating func register(_ provider: any ChatProvider) {
            providers[provider.name] = provider
            chain = chain.map { RoutedModel($0.name, providers: providers) }
        }
    }

    /// A model name with its provider's name, the provider (nil when none is
    /// registered under that name) and the id the provider receives.
    struct RoutedModel {
        let name: String
        let providerName: String
        let provider: (any ChatProvider)?
        let id: String

        init(_ name: String, providers: [String: any ChatProvider]) {
            self.name = name
            providerName = ModelName.provider(of: name)
            provider = providers[providerName]
            id = ModelName.modelID(name)
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
        let providers = try ProviderRegistry.build(config, environment: environment)
        state = Locked(State(models: [config.primary] + config.fallbacks, providers: providers,
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

    /// Each model's provider and availability, in routing order, without calling any API.
    public func health() -> [ModelHealth] {
        let s = state.withLock { $0 }
        return ([s.primary] + s.fallbacks).map { model in
            let provider = ModelName.provider(of: model)
            if s.providers[provider] == nil {
                return ModelHealth(model: model, provider: provider, available: false, reason: "provider not registered")
            }
            if let cooldown = s.cooldown {
                let remaining = cooldown.remainingMs(model)
                if remaining > 0 {
                    return ModelHealth(model: model, provider: provider, available: false,
                                       reason: "cooldown (\(ModelHealth.formatRemaining(remaining)) remaining)")
                }
            }
            return ModelHealth(model: model, provider: provider, available: true, reason: "")
        }
    }

    // MARK: Requests

    /// A complete answer (`chat.completion`); its `model` is the model that answered.
    public func chat(_ request: ChatRequest, cancellation: Cancellation? = nil) throws(ModelsError) -> ChatAnswer {
        // Bound as a var straight away: the answer's only owner, so setting the
        // model changes it in place instead of copying it first.
        var (answer, model) = try route(request, cancellation: cancellation, stream: false) { provider, call throws(ModelsError) in
            try provider.chat(call)
        }
        answer.setModel(model)
        return answer
    }

    /// An open stream: a provider accepted the request and sent the first
    /// part of its answer. A stream that fails before that is retried and falls
    /// back like a failed request; errors later in the stream are the caller's.
    public func openStream(_ request: ChatRequest, cancellation: Cancellation? = nil) throws(ModelsError) -> ChatStream {
        let (stream, model) = try route(request, cancellation: cancellation, stream: true) { provider, call throws(ModelsError) in
            try PrimedStream(priming: provider.openStream(call))
        }
        return ChatStream(stream: stream, model: model, maxCollectBytes: config.maxResponseBytes)
    }

    /// The routing loop shared by chat and streams.
    private func route<T>(_ request: ChatRequest, cancellation: Cancellation?, stream: Bool,
                          _ send: (any ChatProvider, ChatCall) throws(ModelsError) -> T) throws(ModelsError) -> (T, String)
    {
        let snapshot = state.withLock { $0 }
        var models: [RoutedModel]
        // A request that names a model other than the primary goes to that model alone.
        let alone: Bool
        if let requested = request.model, requested != snapshot.primary {
            if let problem = ModelName.problem(with: requested) { throw .invalidArgument("request \"model\" \(problem)") }
            models = [RoutedModel(requested, providers: snapshot.providers)]
            alone = true
        } else {
            models = snapshot.chain
            alone = false
        }
        /// The kinds of error whose own fallbacks replaced the rest of `models`.
        var switched: Set<ErrorKind> = []
        let token = cancellation
        // A whole stream's deadline counts from the call: connecting and fallbacks included.
        let streamDeadline = stream ? config.streamTimeoutMs.map { (atMs: MonotonicClock.nowMs() + $0, afterMs: $0) } : nil

        var outcomes: [(model: String, reason: String)] = []
        var lastError: ModelsError?
        var attemptedModels = 0
        var cooling = 0
        var unregistered: [String] = []

        var index = -1
        while index + 1 < models.count {
            index += 1
            let routed = models[index]
            let model = routed.name, providerName = routed.providerName
            guard let provider = routed.provider else {
                outcomes.append((model, "provider \"\(providerName)\" is not registered"))
                unregistered.append(providerName)
                continue
            }
            if let cooldown = snapshot.cooldown, !cooldown.isAvailable(model) {
                let remaining = ModelHealth.formatRemaining(cooldown.remainingMs(model))
                outcomes.append((model, "in cooldown (\(remaining) remaining)"))
                Log.debug("skipping \(model): in cooldown for \(remaining)")
                cooling += 1
                continue
            }
            attemptedModels += 1
            if index > 0 { Log.info("falling back to \(model)") }
            let hasFallbacks = models.count > 1 && index == 0
            var timeoutMs = config.timeoutMs
            if hasFallbacks { timeoutMs = min(timeoutMs, 60_000) }
            var modelDeadline = MonotonicClock.nowMs() + timeoutMs
            // A stream's primary with fallbacks gets stream_connect_timeout_ms for all its
            // attempts together (the Go package's connect sub-context): a hanging primary
            // must not spend its retries before the fallbacks get their turn.
            if stream && hasFallbacks { modelDeadline = min(modelDeadline, MonotonicClock.nowMs() + config.streamConnectTimeoutMs) }
            if let streamDeadline { modelDeadline = min(modelDeadline, streamDeadline.atMs) }

            var attempt = 0
            while true {
                let result: T
                do {
                    try waitForRateLimit(providerName, deadline: modelDeadline, token: token)
                    var limits = TransferLimits(headersDeadlineMs: modelDeadline,
                                                totalDeadlineMs: stream ? nil : modelDeadline,
                                                idleTimeoutMs: config.streamIdleTimeoutMs ?? config.timeoutMs)
                    limits.streamDeadline = streamDeadline
                    limits.maxBodyBytes = config.maxResponseBytes
                    result = try send(provider, ChatCall(request: request, model: model, modelID: routed.id,
                                                              limits: limits, cancellation: token))
                } catch {
                    if error.code == .cancelled || error.code == .invalidArgument || error.code == .noMemory { throw error }
                    lastError = error
                    if retry.shouldRetry(after: error, attempt: attempt) {
                        let delay = retry.delayMs(retry: attempt, retryAfterMs: error.retryAfterMs, random: Double.random(in: 0..<1))
                        // Only when the wait ends before the model's deadline: a retry past it could only time out.
                        if MonotonicClock.nowMs() + delay < modelDeadline {
                            Log.info("\(model): attempt \(attempt + 1) failed: \(error.message); retrying in \(delay) ms")
                            try Self.sleep(ms: delay, token: token)
                            attempt += 1
                            continue
                        }
                    }
                    // The model's last attempt: worth a warning, as the caller may now get a fallback's answer or an error.
                    Log.warn("\(model): attempt \(attempt + 1) failed: \(error.message)")
                    if error.isTransient, let cooldown = snapshot.cooldown {
                        let ms = cooldown.recordFailure(model)
                        Log.warn("cooling \(model) down for \(ModelHealth.formatRemaining(ms))")
                    }
                    outcomes.append((model, error.message))
                    let decision: FallbackPolicy.Decision = alone ? .next : config.fallbackPolicy.decision(after: error.kind, switched: switched)
                    switch decision {
                    case .stop:
                        Log.info("\(model): a \(error.kind.rawValue) error is not in fallback_on; not falling back")
                        throw error
                    case .next:
                        break
                    case .switchTo(let names):
                        switched.insert(error.kind)
                        Log.info("\(model): a \(error.kind.rawValue) error; trying its fallbacks [\(names.joined(separator: ", "))]")
                        models = Array(models[...index]) + names.map { RoutedModel($0, providers: snapshot.providers) }
                    }
                    break
                }
                snapshot.cooldown?.recordSuccess(model)
                return (result, model)
            }
        }

        if attemptedModels == 0 && cooling > 0 {
            throw ModelsError(.allCooldown, "all models in cooldown (" + Self.describe(outcomes) + ")")
        }
        guard let lastError else {
            let names = Array(Set(unregistered)).sorted()
            let hint = names.map { name in
                name == ModelName.copilotProvider
                    ? "add \"github-copilot\" under \"providers\" with a github_token, or register a token source"
                    : "add \"\(name)\" under \"providers\" in the config or set \(KnownProviders.apiKeyVariable(name))"
            }.joined(separator: "; ")
            throw ModelsError(.noProvider, "no provider registered for \(names.map { "\"\($0)\"" }.joined(separator: ", ")): \(hint)")
        }
        if attemptedModels == 1 && outcomes.count == 1 { throw lastError }
        throw ModelsError(.allFailed, "all models failed: " + Self.describe(outcomes),
                          status: lastError.status, retryAfterMs: lastError.retryAfterMs, isTransient: lastError.isTransient)
    }

    private func waitForRateLimit(_ provider: String, deadline: Int64, token: Cancellation?) throws(ModelsError) {
        guard let limiter = rateLimiters[provider] else { return }
        let wait = limiter.reserve()
        guard wait > 0 else { return }
        if MonotonicClock.nowMs() + wait >= deadline {
            limiter.cancelReservation()
            throw ModelsError(.timeout, "rate limit of \(provider) needs a wait of \(wait) ms, past the model's timeout", isTransient: true)
        }
        Log.debug("rate limit: waiting \(wait) ms for \(provider)")
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

    private static func describe(_ outcomes: [(model: String, reason: String)]) -> String {
        outcomes.map { "\($0.model): \($0.reason)" }.joined(separator: "; ")
    }

}
