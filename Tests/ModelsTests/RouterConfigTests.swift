// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct RouterConfigTests {
    static func parse(_ text: String) throws(ModelsError) -> RouterConfig {
        var text = text
        return try text.withUTF8 { buf in Result { () throws(ModelsError) in try RouterConfig(text: UnsafeRawBufferPointer(buf)) } }.get()
    }

    @Test func fullDesignConfigIsAccepted() throws {
        let config = try Self.parse("""
        {
          "primary": "anthropic/claude-sonnet-4-6",
          "fallbacks": ["openai/gpt-4o", "github-copilot/gpt-4.1"],
          "providers": {
            "openai":    {"api_key_env": "OPENAI_API_KEY"},
            "anthropic": {"api_key": "sk-ant-x", "base_url": "https://api.anthropic.com/v1/"},
            "local":     {"base_url": "http://127.0.0.1:11434/v1", "headers": {"X-Title": "demo"}},
            "github-copilot": {"github_token_env": "GITHUB_TOKEN", "token_url": "http://127.0.0.1:1/t"}
          },
          "timeout_ms": 120000,
          "stream_connect_timeout_ms": 30000,
          "max_retries": 2,
          "retry_base_ms": 500,
          "retry_max_ms": 10000,
          "cooldown": {"base_ms": 60000, "max_ms": 3600000, "multiplier": 5},
          "rate_limits": {"openai": {"requests_per_second": 5, "burst": 10}, "groq": {"requests_per_second": 0.5}},
          "thinking": {"level": "adaptive", "budget_tokens": 8192}
        }
        """)
        #expect(config.primary == "anthropic/claude-sonnet-4-6")
        #expect(config.fallbacks == ["openai/gpt-4o", "github-copilot/gpt-4.1"])
        #expect(config.providers.map(\.name) == ["openai", "anthropic", "local", "github-copilot"])
        #expect(config.provider(named: "anthropic")?.baseURL == "https://api.anthropic.com/v1")
        #expect(config.provider(named: "openai")?.apiKeyEnv == "OPENAI_API_KEY")
        #expect(config.provider(named: "local")?.headers == [.init(name: "X-Title", value: "demo")])
        #expect(config.provider(named: "github-copilot")?.githubTokenEnv == "GITHUB_TOKEN")
        #expect(config.cooldown == CooldownConfig())
        #expect(config.rateLimits.first?.limit == RateLimitConfig(requestsPerSecond: 5, burst: 10))
        #expect(config.rateLimits.last?.limit == RateLimitConfig(requestsPerSecond: 0.5, burst: 1))
        #expect(config.thinking.level == .adaptive)
    }

    @Test func defaults() throws {
        let config = try Self.parse(#"{"primary":"openai/gpt-4o"}"#)
        #expect(config.fallbacks.isEmpty)
        #expect(config.timeoutMs == 120_000)
        #expect(config.streamConnectTimeoutMs == 30_000)
        #expect(config.maxRetries == 2)
        #expect(config.retryBaseMs == 500)
        #expect(config.retryMaxMs == 10_000)
        #expect(config.cooldown == nil)
        #expect(config.thinking.level == nil && config.thinking.budgetTokens == 8192)
        #expect(try Self.parse(#"{"primary":"openai/gpt-4o","cooldown":{}}"#).cooldown == CooldownConfig())
        #expect(try Self.parse(#"{"primary":"openai/gpt-4o","max_retries":0}"#).maxRetries == 0)
        #expect(config.streamIdleTimeoutMs == nil && config.streamTimeoutMs == nil)
        #expect(config.maxResponseBytes == 10 << 20)
    }

    @Test func streamLimitsAndResponseCap() throws {
        let config = try Self.parse(#"{"primary":"o/m","stream_idle_timeout_ms":400,"stream_timeout_ms":9000,"max_response_bytes":4096}"#)
        #expect(config.streamIdleTimeoutMs == 400)
        #expect(config.streamTimeoutMs == 9000)
        #expect(config.maxResponseBytes == 4096)
    }

    @Test func fallbackPolicy() throws {
        #expect(try Self.parse(#"{"primary":"o/m"}"#).fallbackPolicy == FallbackPolicy())
        let config = try Self.parse(#"{"primary":"o/m","fallback_on":["server","rate_limit"],"context_window_fallbacks":["a/big"],"content_policy_fallbacks":["b/c","d/e"]}"#)
        #expect(config.fallbackPolicy == FallbackPolicy(fallbackOn: [.server, .rateLimit], contextWindowFallbacks: ["a/big"],
                                                        contentPolicyFallbacks: ["b/c", "d/e"]))
        #expect(try Self.parse(#"{"primary":"o/m","fallback_on":[]}"#).fallbackPolicy.fallbackOn.isEmpty)
    }

    @Test func modelGroups() throws {
        let config = try Self.parse(#"""
        {"primary":"smart","cooldown_wait_ms":500,"model_groups":{"smart":{"strategy":"least_busy","deployments":[
          {"model":"openai/gpt-4o","weight":3,"rpm":500,"tpm":200000},{"model":"openai-2/gpt-4o"}]}}}
        """#)
        #expect(config.modelGroups == [ModelGroup(name: "smart", strategy: .leastBusy, deployments: [
            .init(model: "openai/gpt-4o", weight: 3, rpm: 500, tpm: 200_000), .init(model: "openai-2/gpt-4o")])])
        #expect(config.cooldownWaitMs == 500)
        #expect(try Self.parse(#"{"primary":"o/m"}"#).modelGroups.isEmpty)
    }

    /// Each bad config and the text its error message must contain (the key, by full path).
    static let badConfigs: [(String, String)] = [
        ("", "not valid JSON"),
        ("nul", "not valid JSON"),
        ("[1]", "must be an object"),
        (#"{"primary":"openai/gpt-4o"} x"#, "not valid JSON"),
        ("{}", "\"primary\" is required"),
        (#"{"primary":""}"#, "\"primary\" must not be empty"),
        (#"{"primary":"openai/"}"#, "\"primary\" has an empty model id"),
        (#"{"primary":"/gpt"}"#, "\"primary\" has an empty provider name"),
        (#"{"primary":"a b"}"#, "\"primary\" contains spaces"),
        (#"{"primary":["x"]}"#, "\"primary\" must be a string, not an array"),
        (#"{"primary":"o/m","Primary":"x"}"#, "unknown key \"Primary\" (did you mean \"primary\"?)"),
        (#"{"primary":"o/m","fallback":[]}"#, "unknown key \"fallback\" (did you mean \"fallbacks\"?)"),
        (#"{"primary":"o/m","fallbacks":"x"}"#, "\"fallbacks\" must be an array of strings, not a string"),
        (#"{"primary":"o/m","fallbacks":["ok/x", null]}"#, "\"fallbacks[1]\" must be a string, not null"),
        (#"{"primary":"o/m","fallbacks":["bad/"]}"#, "\"fallbacks[0]\" has an empty model id"),
        (#"{"primary":"o/m","providers":[]}"#, "\"providers\" must be an object, not an array"),
        (#"{"primary":"o/m","providers":{"openai":"k"}}"#, "\"providers.openai\" must be an object, not a string"),
        (#"{"primary":"o/m","providers":{"openai":{"key":"k"}}}"#, "unknown key \"providers.openai.key\""),
        (#"{"primary":"o/m","providers":{"openai":{"api_key":1}}}"#, "\"providers.openai.api_key\" must be a string, not a number"),
        (#"{"primary":"o/m","providers":{"openai":{"api_key":"a","api_key_env":"B"}}}"#, "both \"api_key\" and \"api_key_env\""),
        (#"{"primary":"o/m","providers":{"openai":{"base_url":"ftp://x"}}}"#, "\"providers.openai.base_url\" must be an http:// or https:// URL"),
        (#"{"primary":"o/m","providers":{"openai":{"base_url":true}}}"#, "\"providers.openai.base_url\" must be a string, not a boolean"),
        (#"{"primary":"o/m","providers":{"openai":{"headers":{"X":1}}}}"#, "\"providers.openai.headers.X\" must be a string"),
        (#"{"primary":"o/m","providers":{"openai":{"headers":{"Bad Header":"v"}}}}"#, "is not a valid HTTP header"),
        (#"{"primary":"o/m","providers":{"openai":{"github_token":"t"}}}"#, "applies to github-copilot providers only"),
        (#"{"primary":"o/m","providers":{"a/b":{}}}"#, "provider name"),
        (#"{"primary":"o/m","timeout_ms":0}"#, "\"timeout_ms\" must be between 1 and"),
        (#"{"primary":"o/m","timeout_ms":1.5}"#, "\"timeout_ms\" must be a whole number"),
        (#"{"primary":"o/m","timeout_ms":"100"}"#, "\"timeout_ms\" must be a whole number, not a string"),
        (#"{"primary":"o/m","stream_connect_timeout_ms":-1}"#, "\"stream_connect_timeout_ms\" must be between"),
        (#"{"primary":"o/m","stream_idle_timeout_ms":0}"#, "\"stream_idle_timeout_ms\" must be between 1 and"),
        (#"{"primary":"o/m","stream_timeout_ms":1e30}"#, "\"stream_timeout_ms\" must be a whole number"),
        (#"{"primary":"o/m","max_response_bytes":1023}"#, "\"max_response_bytes\" must be between 1024 and"),
        (#"{"primary":"o/m","max_response_bytes":9223372036854775807}"#, "\"max_response_bytes\" must be between"),
        (#"{"primary":"o/m","fallback_on":["server","cancelled"]}"#, "\"fallback_on[1]\" must be one of \"rate_limit\""),
        (#"{"primary":"o/m","fallback_on":"server"}"#, "\"fallback_on\" must be an array of strings"),
        (#"{"primary":"o/m","context_window_fallbacks":["no-slash-is-copilot",""]}"#, "\"context_window_fallbacks[1]\""),
        (#"{"primary":"o/m","model_groups":{"a/b":{"deployments":[{"model":"o/m"}]}}}"#, "group name"),
        (#"{"primary":"o/m","model_groups":{"g":{}}}"#, "\"model_groups.g.deployments\" is required"),
        (#"{"primary":"o/m","model_groups":{"g":{"deployments":[]}}}"#, "must be a non-empty array"),
        (#"{"primary":"o/m","model_groups":{"g":{"strategy":"fastest","deployments":[{"model":"o/m"}]}}}"#, "\"model_groups.g.strategy\" must be one of"),
        (#"{"primary":"o/m","model_groups":{"g":{"deployments":[{"model":"other"}]}}}"#, "must be a provider/model name"),
        (#"{"primary":"o/m","model_groups":{"g":{"deployments":[{"model":"o/m"},{"model":"o/m"}]}}}"#, "repeats"),
        (#"{"primary":"o/m","model_groups":{"g":{"deployments":[{"model":"o/m","weight":0}]}}}"#, "\"model_groups.g.deployments[0].weight\" must be above 0"),
        (#"{"primary":"o/m","model_groups":{"g":{"deployments":[{"model":"o/m","rpm":0}]}}}"#, "\"model_groups.g.deployments[0].rpm\" must be between 1"),
        (#"{"primary":"o/m","model_groups":{"g":{"deployments":[{"model":"o/m","tpm":1.5}]}}}"#, "\"model_groups.g.deployments[0].tpm\" must be a whole number"),
        (#"{"primary":"o/m","model_groups":{"g":{"deployments":[{"modle":"o/m"}]}}}"#, "unknown key \"model_groups.g.deployments[0].modle\""),
        (#"{"primary":"o/m","cooldown_wait_ms":-1}"#, "\"cooldown_wait_ms\" must be between 0"),
        (#"{"primary":"o/m","max_retries":101}"#, "\"max_retries\" must be between 0 and 100"),
        (#"{"primary":"o/m","retry_base_ms":null}"#, "\"retry_base_ms\" must be a whole number, not null"),
        (#"{"primary":"o/m","retry_max_ms":false}"#, "\"retry_max_ms\" must be a whole number, not a boolean"),
        (#"{"primary":"o/m","cooldown":true}"#, "\"cooldown\" must be an object, not a boolean"),
        (#"{"primary":"o/m","cooldown":{"base":1}}"#, "unknown key \"cooldown.base\""),
        (#"{"primary":"o/m","cooldown":{"multiplier":0.5}}"#, "\"cooldown.multiplier\" must be above"),
        (#"{"primary":"o/m","cooldown":{"base_ms":10,"max_ms":5}}"#, "\"cooldown.max_ms\" must not be below"),
        (#"{"primary":"o/m","rate_limits":{"openai":{"requests_per_second":0}}}"#, "\"rate_limits.openai.requests_per_second\" must be above 0"),
        (#"{"primary":"o/m","rate_limits":{"openai":{"requests_per_second":1,"burst":0}}}"#, "\"rate_limits.openai.burst\" must be between 1"),
        (#"{"primary":"o/m","rate_limits":{"openai":{"rps":1}}}"#, "unknown key \"rate_limits.openai.rps\""),
        (#"{"primary":"o/m","thinking":{"level":"high"}}"#, "\"thinking.level\" must be \"off\", \"enabled\" or \"adaptive\""),
        (#"{"primary":"o/m","thinking":{"enabled":"yes"}}"#, "\"thinking.enabled\" must be true or false, not a string"),
        (#"{"primary":"o/m","thinking":{"budget_tokens":100}}"#, "\"thinking.budget_tokens\" must be between 1024"),
        (#"{"primary":"o/m","thinking":{"budget":100}}"#, "unknown key \"thinking.budget\""),
    ]

    @Test(arguments: badConfigs)
    func badConfigIsRejectedNamingTheKey(config: String, expected: String) {
        do {
            _ = try Self.parse(config)
            Issue.record("accepted: \(config)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(expected), "message: \(error.message)")
        }
    }

    @Test func secretsAreNeverEchoed() {
        for config in [#"{"primary":"o/m","providers":{"openai":{"api_key":["sk-SECRET"]}}}"#,
                       #"{"primary":"o/m","providers":{"openai":{"api_key":"sk-SECRET","api_key_env":"X"}}}"#,
                       #"{"primary":"o/m","providers":{"github-copilot":{"github_token":1,"x":"sk-SECRET"}}}"#] {
            do { _ = try Self.parse(config); Issue.record("accepted") } catch {
                #expect(!error.message.contains("SECRET"))
            }
        }
    }

    @Test func oversizedConfigIsRejected() {
        let big = "{\"primary\":\"o/m\"}" + String(repeating: " ", count: RouterConfig.maxTextBytes)
        #expect(throws: ModelsError.self) { try Self.parse(big) }
    }
}

@Suite struct ModelNameTests {
    @Test(arguments: [
        ("anthropic/claude-sonnet-4-6", "anthropic", "claude-sonnet-4-6"),
        ("openai/gpt-4o", "openai", "gpt-4o"),
        ("openrouter/meta-llama/llama-3.3-70b", "openrouter", "meta-llama/llama-3.3-70b"),
        ("gpt-4.1", "github-copilot", "gpt-4.1"),
        ("github-copilot/claude-sonnet-4.6", "github-copilot", "claude-sonnet-4.6"),
    ])
    func splitsProviderAndID(full: String, provider: String, id: String) {
        #expect(ModelName.provider(of: full) == provider)
        #expect(ModelName.modelID(full) == id)
    }

    @Test func knownBaseURLs() {
        let expected = [
            "openai": "https://api.openai.com/v1", "groq": "https://api.groq.com/openai/v1",
            "openrouter": "https://openrouter.ai/api/v1", "mistral": "https://api.mistral.ai/v1",
            "together": "https://api.together.xyz/v1", "fireworks": "https://api.fireworks.ai/inference/v1",
            "perplexity": "https://api.perplexity.ai", "gemini": "https://generativelanguage.googleapis.com/v1beta/openai",
            "ollama": "http://localhost:11434/v1", "lmstudio": "http://localhost:1234/v1",
            "anthropic": "https://api.anthropic.com/v1",
        ]
        for (name, url) in expected { #expect(KnownProviders.defaultBaseURL(name) == url) }
        #expect(KnownProviders.defaultBaseURL("acme") == nil)
        #expect(KnownProviders.apiKeyVariable("openai") == "OPENAI_API_KEY")
        #expect(KnownProviders.apiKeyVariable("my-llm") == "MY_LLM_API_KEY")
    }
}
