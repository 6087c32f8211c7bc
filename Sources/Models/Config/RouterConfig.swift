// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders
import ModelsTransport

/// The router's configuration, read from the one JSON object of `models_router_new`.
/// Every key of the schema is known here; anything else is an error naming the key.
public struct RouterConfig: Sendable, Equatable {
    public var primary: String
    public var fallbacks: [String] = []
    /// `fallback_on`, `context_window_fallbacks` and `content_policy_fallbacks`.
    public var fallbackPolicy = FallbackPolicy()
    /// Names that stand for several deployments (`model_groups`), in config order.
    public var modelGroups: [ModelGroup] = []
    /// When every model is cooling down and the first comes back within this
    /// many milliseconds, the call waits for it instead of failing.
    public var cooldownWaitMs: Int64 = 0
    /// Providers by name, in the order the config gave them.
    public var providers: [(name: String, config: ProviderConfig)] = []
    public var timeoutMs: Int64 = 120_000
    public var streamConnectTimeoutMs: Int64 = 30_000
    /// The longest a stream may go without an event (comments and pings do not
    /// count); nil: `timeoutMs`.
    public var streamIdleTimeoutMs: Int64?
    /// The longest a whole stream may take, from the call to its last chunk; nil: no limit.
    public var streamTimeoutMs: Int64?
    /// The largest answer read into memory: a non-streaming body, or a stream's
    /// text joined by `collect`.
    public var maxResponseBytes: Int = 10 << 20
    public var maxRetries: Int = 2
    public var retryBaseMs: Int64 = 500
    public var retryMaxMs: Int64 = 10_000
    /// nil: no cooldowns.
    public var cooldown: CooldownConfig?
    public var rateLimits: [(provider: String, limit: RateLimitConfig)] = []
    public var thinking = ThinkingConfig()
    /// nil: cooldowns, rate limits and load stay in this router.
    public var sharedState: SharedStateConfig?
    /// Prices per model or deployment (`prices`), for the cost in events, metrics and `x_libmodels`.
    public var prices = PriceTable()
    /// Adds an `x_libmodels` member to every chat answer (`x_libmodels`); a call's options may too.
    public var xLibmodels = false
    /// Hedging (`hedge_after_ms`): when an attempt has not sent its first word
    /// within this many milliseconds, the same request also goes to the next
    /// candidate and the first to answer wins; nil: off.
    public var hedgeAfterMs: Int64?
    /// What a stream does when it breaks after its first word (`stream_recovery`); a call's options may say otherwise.
    public var streamRecovery = StreamRecovery.off

    public init(primary: String) { self.primary = primary }

    public func provider(named name: String) -> ProviderConfig? {
        providers.first(where: { $0.name == name })?.config
    }

    public static func == (a: RouterConfig, b: RouterConfig) -> Bool {
        a.primary == b.primary && a.fallbacks == b.fallbacks && a.fallbackPolicy == b.fallbackPolicy
            && a.modelGroups == b.modelGroups && a.cooldownWaitMs == b.cooldownWaitMs
            && a.providers.elementsEqual(b.providers, by: { $0.name == $1.name && $0.config == $1.config })
            && a.timeoutMs == b.timeoutMs && a.streamConnectTimeoutMs == b.streamConnectTimeoutMs
            && a.streamIdleTimeoutMs == b.streamIdleTimeoutMs && a.streamTimeoutMs == b.streamTimeoutMs
            && a.maxResponseBytes == b.maxResponseBytes
            && a.maxRetries == b.maxRetries && a.retryBaseMs == b.retryBaseMs && a.retryMaxMs == b.retryMaxMs
            && a.cooldown == b.cooldown && a.thinking == b.thinking && a.sharedState == b.sharedState
            && a.prices == b.prices && a.xLibmodels == b.xLibmodels
            && a.hedgeAfterMs == b.hedgeAfterMs && a.streamRecovery == b.streamRecovery
            && a.rateLimits.elementsEqual(b.rateLimits, by: { $0.provider == $1.provider && $0.limit == $1.limit })
    }
}

public struct CooldownConfig: Sendable, Equatable {
    public var baseMs: Int64 = 60_000
    public var maxMs: Int64 = 3_600_000
    public var multiplier: Double = 5
    public init() {}
}

public struct RateLimitConfig: Sendable, Equatable {
    public var requestsPerSecond: Double
    public var burst: Int
}

extension RouterConfig {
    static let topLevelKeys = [
        "primary", "fallbacks", "fallback_on", "context_window_fallbacks", "content_policy_fallbacks", "model_groups",
        "cooldown_wait_ms", "providers", "timeout_ms", "stream_connect_timeout_ms", "stream_idle_timeout_ms",
        "stream_timeout_ms", "max_response_bytes", "max_retries",
        "retry_base_ms", "retry_max_ms", "cooldown", "rate_limits", "thinking", "shared_state", "prices", "x_libmodels",
        "hedge_after_ms",
        "stream_recovery",
    ]
    static let providerKeys = [
        "type", "api_key", "api_key_env", "base_url", "headers", "github_token", "github_token_env", "token_url", "api_version",
        "region", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
        "assistant_prefix",
    ]
    static let copilotOnlyKeys = ["github_token", "github_token_env", "token_url"]
    static let azureOnlyKeys = ["api_version"]
    static let bedrockOnlyKeys = ["region", "aws_access_key_id", "aws_secret_access_key", "aws_session_token"]

    /// The largest config text accepted; a config is a few kilobytes.
    public static let maxTextBytes = 1 << 20

    /// Parses and validates config JSON text.
    public init(text: UnsafeRawBufferPointer) throws(ModelsError) {
        guard text.count <= Self.maxTextBytes else {
            throw .invalidArgument("config: \(text.count) bytes is larger than the limit of \(Self.maxTextBytes)")
        }
        let json: JSON
        do { json = try JSON.parse(text) } catch {
            throw .invalidArgument("config: not valid JSON: \(error.message) (line \(error.line), column \(error.column))")
        }
        try self.init(json: json)
    }

    public init(json: JSON) throws(ModelsError) {
        let top = try ConfigReader(json, path: "", allowed: Self.topLevelKeys)
        guard let primary = try top.string("primary") else {
            throw .invalidArgument("config: \"primary\" is required (a model name such as \"openai/gpt-4o\")")
        }
        try Self.checkModel(primary, key: "primary")
        self.init(primary: primary)

        fallbacks = try top.stringArray("fallbacks") ?? []
        for (i, model) in fallbacks.enumerated() { try Self.checkModel(model, key: "fallbacks[\(i)]") }
        fallbackPolicy = try Self.readFallbackPolicy(top)
        modelGroups = try Self.readModelGroups(top)

        for (name, value) in try top.objectMembers("providers") ?? [] {
            try Self.checkProviderName(name, key: "providers")
            providers.append((name, try Self.readProvider(name, value)))
        }

        let durations = 1...Int64(86_400_000)
        timeoutMs = try top.integer("timeout_ms", in: durations) ?? timeoutMs
        streamConnectTimeoutMs = try top.integer("stream_connect_timeout_ms", in: durations) ?? streamConnectTimeoutMs
        streamIdleTimeoutMs = try top.integer("stream_idle_timeout_ms", in: durations)
        streamTimeoutMs = try top.integer("stream_timeout_ms", in: durations)
        maxResponseBytes = Int(try top.integer("max_response_bytes", in: 1024...(1 << 30)) ?? Int64(maxResponseBytes))
        maxRetries = Int(try top.integer("max_retries", in: 0...100) ?? Int64(maxRetries))
        retryBaseMs = try top.integer("retry_base_ms", in: 0...3_600_000) ?? retryBaseMs
        retryMaxMs = try top.integer("retry_max_ms", in: 0...3_600_000) ?? retryMaxMs
        cooldownWaitMs = try top.integer("cooldown_wait_ms", in: 0...3_600_000) ?? cooldownWaitMs
        // 0 is off, as leaving it out is.
        hedgeAfterMs = try top.integer("hedge_after_ms", in: 0...3_600_000).flatMap { $0 > 0 ? $0 : nil }

        if let c = try top.child("cooldown", allowed: ["base_ms", "max_ms", "multiplier"]) {
            var cooldown = CooldownConfig()
            cooldown.baseMs = try c.integer("base_ms", in: durations) ?? cooldown.baseMs
            cooldown.maxMs = try c.integer("max_ms", in: durations) ?? cooldown.maxMs
            cooldown.multiplier = try c.number("multiplier", above: 0.999_999, max: 1000) ?? cooldown.multiplier
            guard cooldown.maxMs >= cooldown.baseMs else {
                throw .invalidArgument("config: \"cooldown.max_ms\" must not be below \"cooldown.base_ms\"")
            }
            self.cooldown = cooldown
        }

        for (name, value) in try top.objectMembers("rate_limits") ?? [] {
            try Self.checkProviderName(name, key: "rate_limits")
            let r = try ConfigReader(value, path: "rate_limits.\(name)", allowed: ["requests_per_second", "burst"])
            guard let rps = try r.number("requests_per_second", above: 0, max: 1_000_000) else {
                throw .invalidArgument("config: \"rate_limits.\(name).requests_per_second\" is required")
            }
            let defaultBurst = max(1, Int64(rps.rounded(.up)))
            let burst = try r.integer("burst", in: 1...1_000_000) ?? defaultBurst
            rateLimits.append((name, RateLimitConfig(requestsPerSecond: rps, burst: Int(burst))))
        }

        if let s = try top.child("shared_state", allowed: SharedStateConfig.keys) {
            sharedState = try SharedStateConfig(s)
        }

        if let t = try top.child("thinking", allowed: ["level", "enabled", "budget_tokens"]) {
            if let level = try t.string("level") {
                guard let parsed = ThinkingConfig.Level(rawValue: level) else {
                    throw .invalidArgument("config: \"thinking.level\" must be \"off\", \"enabled\" or \"adaptive\"")
                }
                thinking.level = parsed
            }
            thinking.enabled = try t.bool("enabled")
            thinking.budgetTokens = Int(try t.integer("budget_tokens", in: 1024...1_000_000) ?? Int64(thinking.budgetTokens))
        }
        prices = try PriceTable.read(top)
        xLibmodels = try top.bool("x_libmodels") ?? false
        streamRecovery = try Self.readStreamRecovery(top, document: "config") ?? .off
    }

    /// `stream_recovery`: "off" or "resume".
    static func readStreamRecovery(_ r: ConfigReader, document: String) throws(ModelsError) -> StreamRecovery? {
        guard let text = try r.string("stream_recovery") else { return nil }
        guard let value = StreamRecovery(rawValue: text) else {
            throw .invalidArgument("\(document): \"stream_recovery\" must be \"off\" or \"resume\"")
        }
        return value
    }

    private static func readModelGroups(_ top: ConfigReader) throws(ModelsError) -> [ModelGroup] {
        var groups: [ModelGroup] = []
        for (name, value) in try top.objectMembers("model_groups") ?? [] {
            let path = "model_groups.\(name)"
            guard ModelName.problem(with: name) == nil, !name.utf8.contains(UInt8(ascii: "/")) else {
                throw .invalidArgument("config: \"model_groups\" has a group name that is empty, holds '/' (which "
                                       + "provider/model names use), spaces or control characters")
            }
            let g = try ConfigReader(value, path: path, allowed: ["strategy", "deployments"])
            var strategy = ModelGroup.Strategy.weighted
            if let text = try g.string("strategy") {
                guard let parsed = ModelGroup.Strategy(rawValue: text) else {
                    let names = ModelGroup.Strategy.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                    throw .invalidArgument("config: \"\(path).strategy\" must be one of \(names)")
                }
                strategy = parsed
            }
            guard let items = g.object["deployments"] else { throw .invalidArgument("config: \"\(path).deployments\" is required") }
            guard let array = items.array, !array.isEmpty else {
                throw .invalidArgument("config: \"\(path).deployments\" must be a non-empty array of objects")
            }
            var deployments: [ModelGroup.Deployment] = []
            for (i, item) in array.enumerated() {
                let d = try ConfigReader(item, path: "\(path).deployments[\(i)]", allowed: ["model", "weight", "rpm", "tpm"])
                guard let model = try d.string("model") else {
                    throw .invalidArgument("config: \"\(path).deployments[\(i)].model\" is required")
                }
                try checkModel(model, key: "\(path).deployments[\(i)].model")
                guard model.utf8.contains(UInt8(ascii: "/")) else {
                    throw .invalidArgument("config: \"\(path).deployments[\(i)].model\" must be a provider/model name, not a group")
                }
                guard !deployments.contains(where: { $0.model == model }) else {
                    throw .invalidArgument("config: \"\(path).deployments[\(i)].model\" repeats \"\(model)\"")
                }
                deployments.append(ModelGroup.Deployment(
                    model: model, weight: try d.number("weight", above: 0, max: 1_000_000) ?? 1,
                    rpm: try d.integer("rpm", in: 1...1_000_000_000), tpm: try d.integer("tpm", in: 1...1_000_000_000_000)))
            }
            groups.append(ModelGroup(name: name, strategy: strategy, deployments: deployments))
        }
        return groups
    }

    private static func readFallbackPolicy(_ top: ConfigReader) throws(ModelsError) -> FallbackPolicy {
        var policy = FallbackPolicy()
        if let kinds = try top.stringArray("fallback_on") {
            policy.fallbackOn = []
            for (i, name) in kinds.enumerated() {
                guard let kind = ErrorKind(rawValue: name), ErrorKind.providerFailures.contains(kind) else {
                    let names = ErrorKind.providerFailures.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                    throw .invalidArgument("config: \"fallback_on[\(i)]\" must be one of \(names)")
                }
                policy.fallbackOn.insert(kind)
            }
        }
        for key in ["context_window_fallbacks", "content_policy_fallbacks"] {
            let models = try top.stringArray(key) ?? []
            for (i, model) in models.enumerated() { try checkModel(model, key: "\(key)[\(i)]") }
            if key == "context_window_fallbacks" { policy.contextWindowFallbacks = models } else { policy.contentPolicyFallbacks = models }
        }
        return policy
    }

    private static func readProvider(_ name: String, _ value: JSON) throws(ModelsError) -> ProviderConfig {
        let r = try ConfigReader(value, path: "providers.\(name)", allowed: providerKeys)
        var p = ProviderConfig()
        if let type = try r.string("type") {
            p.type = try ProviderType.parse(type, key: r.keyPath("type"))
        }
        p.apiKey = try r.credential("api_key")
        p.apiKeyEnv = try r.string("api_key_env")
        if p.apiKey != nil && p.apiKeyEnv != nil {
            throw .invalidArgument("config: \"providers.\(name)\" gives both \"api_key\" and \"api_key_env\"; keep one")
        }
        if let url = try r.string("base_url") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.utf8.count > 8,
                  !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7f }) else {
                throw .invalidArgument("config: \"providers.\(name).base_url\" must be an http:// or https:// URL")
            }
            guard !url.utf8.contains(UInt8(ascii: "#")) else {
                throw .invalidArgument("config: \"providers.\(name).base_url\" must not hold a fragment (#...)")
            }
            // A query stays (every request carries it); the path loses its trailing '/'.
            p.baseURL = BaseURL.trimmed(url)
        }
        for (header, v) in try r.objectMembers("headers") ?? [] {
            guard let text = v.string else {
                throw .invalidArgument("config: \"providers.\(name).headers.\(header)\" must be a string, not \(v.kindName)")
            }
            guard isHeaderName(header), HeaderText.isValidValue(text) else {
                throw .invalidArgument("config: \"providers.\(name).headers.\(header)\" is not a valid HTTP header")
            }
            p.headers.append(.init(name: header, value: text))
        }
        p.githubToken = try r.credential("github_token")
        p.githubTokenEnv = try r.string("github_token_env")
        if let url = try r.string("token_url") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw .invalidArgument("config: \"providers.\(name).token_url\" must be an http:// or https:// URL")
            }
            p.tokenURL = url
        }
        if p.resolvedType(name: name) != .githubCopilot, let key = copilotOnlyKeys.first(where: { r.has($0) }) {
            throw .invalidArgument("config: \"providers.\(name).\(key)\" applies to github-copilot providers only "
                                   + "(the provider named github-copilot, or one with \"type\": \"github-copilot\")")
        }
        if let version = try r.string("api_version") {
            guard AzureEndpoint.isValidAPIVersion(version) else {
                throw .invalidArgument("config: \"providers.\(name).api_version\" must be an Azure API version such as "
                                       + "\"2024-10-21\" or \"2025-01-01-preview\" (or \"preview\" / \"latest\" for /openai/v1)")
            }
            p.apiVersion = version
        }
        try readBedrock(name, r, &p)
        if let prefix = r.object["assistant_prefix"] {
            if let all = prefix.bool {
                p.assistantPrefix = all ? .all : ProviderConfig.AssistantPrefix.none
            } else if let ids = try r.stringArray("assistant_prefix") {
                p.assistantPrefix = .models(ids)
            }
        }
        if p.resolvedType(name: name) == .azure {
            try checkAzure(name, p)
        } else if let key = azureOnlyKeys.first(where: { r.has($0) }) {
            throw .invalidArgument("config: \"providers.\(name).\(key)\" applies to providers with \"type\": \"azure\" only")
        }
        return p
    }

    /// The bedrock-only keys: refused on other types; the key id and the secret go together.
    private static func readBedrock(_ name: String, _ r: ConfigReader, _ p: inout ProviderConfig) throws(ModelsError) {
        guard p.resolvedType(name: name) == .bedrock else {
            if let key = bedrockOnlyKeys.first(where: { r.has($0) }) {
                throw .invalidArgument("config: \"providers.\(name).\(key)\" applies to providers with \"type\": \"bedrock\" only")
            }
            return
        }
        if let region = try r.string("region") {
            guard BedrockEndpoint.isValidRegion(region) else {
                throw .invalidArgument("config: \"providers.\(name).region\" must be an AWS region such as \"us-east-1\"")
            }
            p.region = region
        }
        p.awsAccessKeyID = try r.credential("aws_access_key_id")
        p.awsSecretAccessKey = try r.credential("aws_secret_access_key")
        p.awsSessionToken = try r.credential("aws_session_token")
        if (p.awsAccessKeyID == nil) != (p.awsSecretAccessKey == nil) {
            throw .invalidArgument("config: \"providers.\(name)\" needs both \"aws_access_key_id\" and \"aws_secret_access_key\", or neither")
        }
        if p.awsSessionToken != nil && p.awsAccessKeyID == nil {
            throw .invalidArgument("config: \"providers.\(name).aws_session_token\" goes with \"aws_access_key_id\" and \"aws_secret_access_key\"")
        }
        if let key = ["api_key", "api_key_env"].first(where: { r.has($0) }) {
            throw .invalidArgument("config: \"providers.\(name).\(key)\" does not apply to type bedrock: requests are signed "
                                   + "with AWS credentials (\"aws_access_key_id\", \"aws_secret_access_key\" or AWS_ACCESS_KEY_ID, ...)")
        }
    }

    /// An Azure provider needs its resource endpoint, without a query (the
    /// version is `api_version`), and an `api_version` unless it uses `/openai/v1`.
    private static func checkAzure(_ name: String, _ p: ProviderConfig) throws(ModelsError) {
        guard let url = p.baseURL else {
            throw .invalidArgument("config: \"providers.\(name).base_url\" is required for type azure: the resource "
                                   + "endpoint, such as \"https://NAME.openai.azure.com\"")
        }
        guard !url.utf8.contains(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) else {
            throw .invalidArgument("config: \"providers.\(name).base_url\" of an azure provider must not hold a query or "
                                   + "fragment; give the version as \"api_version\"")
        }
        if AzureEndpoint(baseURL: url, apiVersion: nil).form == .deployment, p.apiVersion == nil {
            throw .invalidArgument("config: \"providers.\(name).api_version\" is required for type azure (such as "
                                   + "\"2024-10-21\"), unless \"base_url\" ends with /openai/v1")
        }
    }

    private static func checkModel(_ model: String, key: String) throws(ModelsError) {
        if let problem = ModelName.problem(with: model) {
            throw .invalidArgument("config: \"\(key)\" \(problem); model names look like \"provider/model-id\"")
        }
    }

    private static func checkProviderName(_ name: String, key: String) throws(ModelsError) {
        guard !name.isEmpty, !name.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 <= 0x20 || $0 == 0x7f }) else {
            throw .invalidArgument("config: \"\(key)\" has a provider name that is empty or holds '/', spaces or control characters")
        }
    }

    private static func isHeaderName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f
        }
    }
}
