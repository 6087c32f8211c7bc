// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// A provider entry's `"type"`: parsed and checked by the config, and deciding
/// which client `ProviderRegistry` builds (the name decides when it is absent).
@Suite struct ProviderTypeTests {
    static func config(_ text: String) throws(ModelsError) -> RouterConfig { try RouterConfigTests.parse(text) }

    static func build(_ text: String, env: [String: String] = [:]) throws(ModelsError) -> [String: any ChatProvider] {
        try ProviderRegistry.build(try config(text), environment: { env[$0] })
    }

    @Test func typeIsParsedAndResolved() throws {
        let c = try Self.config("""
        {"primary": "anthropic-2/claude", "providers": {
          "anthropic-2": {"type": "anthropic", "api_key_env": "ANTHROPIC_API_KEY_2"},
          "openai-eu": {"type": "openai", "base_url": "https://eu.example.com/v1", "api_key": "k"},
          "work": {"type": "github-copilot", "github_token_env": "WORK_GH", "token_url": "https://ghe.example.com/t"},
          "anthropic": {}, "github-copilot": {"github_token": "t"}, "groq": {}, "gw": {"type": "openai"}
        }}
        """)
        let types = c.providers.map { ($0.name, $0.config.type, $0.config.resolvedType(name: $0.name)) }
        #expect(types.map(\.0) == ["anthropic-2", "openai-eu", "work", "anthropic", "github-copilot", "groq", "gw"])
        #expect(types.map(\.1) == [.anthropic, .openai, .githubCopilot, nil, nil, nil, .openai])
        #expect(types.map(\.2) == [.anthropic, .openai, .githubCopilot, .anthropic, .githubCopilot, .openai, .openai])
        #expect(c.provider(named: "work")?.githubTokenEnv == "WORK_GH")
    }

    /// Each bad entry and the text its error must contain.
    static let badTypes: [(String, String)] = [
        (#"{"type":"Azure"}"#, #""providers.x.type" must be one of "openai", "anthropic", "github-copilot", "azure", "bedrock""#),
        (#"{"type":"Bedrock"}"#, #""providers.x.type" must be one of "openai", "anthropic", "github-copilot", "azure", "bedrock""#),
        // The Bedrock-only keys follow the type too.
        (#"{"type":"openai","region":"us-east-1"}"#, #""providers.x.region" applies to providers with "type": "bedrock" only"#),
        (#"{"aws_access_key_id":"AKID"}"#, #""providers.x.aws_access_key_id" applies to providers with "type": "bedrock" only"#),
        (#"{"type":"bedrock","aws_access_key_id":"AKID"}"#, #"needs both "aws_access_key_id" and "aws_secret_access_key", or neither"#),
        (#"{"type":"bedrock","region":"US East"}"#, #""providers.x.region" must be an AWS region"#),
        (#"{"type":"bedrock","api_key":"k"}"#, #""providers.x.api_key" does not apply to type bedrock"#),
        (#"{"type":"Anthropic"}"#, #""providers.x.type" must be one of "openai", "anthropic", "github-copilot", "azure", "bedrock""#),
        (#"{"type":""}"#, #""providers.x.type" must not be empty"#),
        (#"{"type":null}"#, #""providers.x.type" must be a string, not null"#),
        (#"{"typ":"openai"}"#, #"unknown key "providers.x.typ" (did you mean "type"?)"#),
        // The Copilot-only keys follow the type, not the name.
        (#"{"type":"anthropic","github_token":"t"}"#, #""providers.x.github_token" applies to github-copilot providers only"#),
        (#"{"type":"openai","token_url":"https://t.example.com"}"#, #""providers.x.token_url" applies to github-copilot"#),
    ]

    @Test(arguments: badTypes)
    func badTypeIsRejected(entry: String, expected: String) {
        do {
            _ = try Self.config(#"{"primary":"x/m","providers":{"x":"# + entry + "}}")
            Issue.record("accepted: \(entry)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(expected), "message: \(error.message)")
        }
    }

    @Test func typeOverridesTheName() {
        // "github-copilot" typed openai is an ordinary OpenAI-compatible provider: no GitHub token.
        #expect(throws: ModelsError.self) {
            _ = try Self.config(#"{"primary":"x/m","providers":{"github-copilot":{"type":"openai","github_token":"t"}}}"#)
        }
        #expect(throws: Never.self) {
            _ = try Self.config(#"{"primary":"x/m","providers":{"work":{"type":"github-copilot","github_token":"t"}}}"#)
        }
    }

    @Test func registryBuildsTheClientOfTheType() throws {
        let providers = try Self.build("""
        {"primary": "anthropic-2/claude", "providers": {
          "anthropic-2": {"type": "anthropic", "api_key_env": "ANTHROPIC_API_KEY_2"},
          "anthropic": {"api_key": "a"},
          "claude-gw": {"type": "openai", "base_url": "https://gw.example.com/v1", "api_key": "g"},
          "openai-2": {"type": "openai", "api_key": "o"},
          "anthropic-as-openai": {"type": "openai", "base_url": "https://gw.example.com/v1"}
        }}
        """, env: ["ANTHROPIC_API_KEY_2": "k2"])
        #expect((providers["anthropic-2"] as? AnthropicProvider)?.name == "anthropic-2")
        #expect((providers["anthropic"] as? AnthropicProvider)?.name == "anthropic")
        #expect((providers["claude-gw"] as? OpenAICompatibleProvider)?.name == "claude-gw")
        #expect((providers["openai-2"] as? OpenAICompatibleProvider)?.name == "openai-2")
        #expect(providers["anthropic-as-openai"] is OpenAICompatibleProvider)
    }

    @Test func copilotTypeReadsCopilotCredentials() throws {
        let providers = try Self.build(#"{"primary":"work/gpt-4.1","providers":{"work":{"type":"github-copilot","github_token":"t"}}}"#)
        #expect((providers["work"] as? OpenAICompatibleProvider)?.name == "work")
        // A Copilot-typed entry without a GitHub token fails as the github-copilot entry does, naming it.
        do {
            _ = try Self.build(#"{"primary":"work/gpt-4.1","providers":{"work":{"type":"github-copilot"}}}"#)
            Issue.record("accepted a Copilot provider without credentials")
        } catch {
            #expect(error.message.contains("\"providers.work\" needs \"github_token\""), "message: \(error.message)")
        }
    }

    @Test func typedKeyComesFromItsOwnName() throws {
        let pc = try #require(try Self.config(#"{"primary":"anthropic-2/c","providers":{"anthropic-2":{"type":"anthropic"}}}"#)
            .provider(named: "anthropic-2"))
        let env = ["ANTHROPIC_API_KEY": "first", "ANTHROPIC_2_API_KEY": "second"]
        #expect(KnownProviders.apiKeyVariable("anthropic-2") == "ANTHROPIC_2_API_KEY")
        #expect(try ProviderRegistry.apiKey(name: "anthropic-2", config: pc, environment: { env[$0] }) == "second")
    }

    @Test func openAIBaseURLWithoutBaseURL() {
        var typed = ProviderConfig()
        typed.type = .openai
        // A known name keeps its URL; another name goes to OpenAI's.
        #expect(ProviderRegistry.openAIBaseURL(name: "groq", config: typed) == "https://api.groq.com/openai/v1")
        #expect(ProviderRegistry.openAIBaseURL(name: "openai-2", config: typed) == KnownProviders.openAIBaseURL)
        #expect(ProviderRegistry.openAIBaseURL(name: "acme", config: ProviderConfig()) == KnownProviders.openAIBaseURL)
        // The known URL of a name that implies another API is not an OpenAI-compatible one.
        #expect(ProviderRegistry.openAIBaseURL(name: "anthropic", config: typed) == KnownProviders.openAIBaseURL)
        typed.baseURL = "https://eu.example.com/v1"
        #expect(ProviderRegistry.openAIBaseURL(name: "openai-eu", config: typed) == "https://eu.example.com/v1")
    }
}
