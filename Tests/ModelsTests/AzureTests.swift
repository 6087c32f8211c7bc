// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// Azure OpenAI (`"type": "azure"`): the URL of each request from the
/// resource endpoint, the API version and the deployment; the `api-key`
/// header; the config's checks; the content filter as a `content_policy` error.
@Suite struct AzureTests {
    static func config(_ provider: String) throws(ModelsError) -> RouterConfig {
        try RouterConfigTests.parse(#"{"primary":"az/dep","providers":{"az":"# + provider + "}}")
    }

    @Test func deploymentForm() {
        let e = AzureEndpoint(baseURL: "https://res.openai.azure.com", apiVersion: "2024-10-21")
        #expect(e.form == .deployment)
        #expect(e.chatURL(modelID: "my-gpt4o-deployment")
            == "https://res.openai.azure.com/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2024-10-21")
        // A base_url that already ends in /openai is not given a second one.
        let o = AzureEndpoint(baseURL: "https://res.openai.azure.com/openai", apiVersion: "2025-01-01-preview")
        #expect(o.chatURL(modelID: "d.1_x~")
            == "https://res.openai.azure.com/openai/deployments/d.1_x~/chat/completions?api-version=2025-01-01-preview")
    }

    @Test func deploymentNameIsOnePathSegment() {
        let e = AzureEndpoint(baseURL: "https://res.openai.azure.com", apiVersion: "2024-10-21")
        #expect(e.chatURL(modelID: "a/b?c#d%e é")
            == "https://res.openai.azure.com/openai/deployments/a%2Fb%3Fc%23d%25e%20%C3%A9/chat/completions?api-version=2024-10-21")
    }

    @Test func v1Form() {
        let e = AzureEndpoint(baseURL: "https://res.openai.azure.com/openai/v1", apiVersion: nil)
        #expect(e.form == .v1)
        #expect(e.chatURL(modelID: "gpt-4o") == "https://res.openai.azure.com/openai/v1/chat/completions")
        let p = AzureEndpoint(baseURL: "https://res.openai.azure.com/openai/v1", apiVersion: "preview")
        #expect(p.chatURL(modelID: "gpt-4o") == "https://res.openai.azure.com/openai/v1/chat/completions?api-version=preview")
    }

    @Test(arguments: ["2024-10-21", "2025-01-01-preview", "2024-02-15-preview", "preview", "latest", "2023-12-31-alpha"])
    func validAPIVersion(_ v: String) { #expect(AzureEndpoint.isValidAPIVersion(v)) }

    @Test(arguments: ["", "2024-10", "2024-13-01", "2024-00-10", "2024-10-32", "24-10-21", "2024/10/21", "2024-10-21-",
                      "2024-10-21preview", "2024-10-21-Preview", "2024-10-21&x=1", "2024-10-21-pre view", "v1", "1999-01-01",
                      "2024-10-21-" + String(repeating: "a", count: 40)])
    func invalidAPIVersion(_ v: String) { #expect(!AzureEndpoint.isValidAPIVersion(v)) }

    @Test func configIsParsed() throws {
        let c = try Self.config(#"{"type":"azure","base_url":"https://res.openai.azure.com/","api_version":"2024-10-21","api_key":"k"}"#)
        let pc = try #require(c.provider(named: "az"))
        #expect(pc.type == .azure)
        #expect(pc.baseURL == "https://res.openai.azure.com")
        #expect(pc.apiVersion == "2024-10-21")
        _ = try Self.config(#"{"type":"azure","base_url":"https://res.openai.azure.com/openai/v1"}"#)
    }

    static let badConfigs: [(String, String)] = [
        (#"{"type":"azure","api_version":"2024-10-21"}"#, #""providers.az.base_url" is required for type azure"#),
        (#"{"type":"azure","base_url":"https://r.openai.azure.com"}"#, #""providers.az.api_version" is required for type azure"#),
        (#"{"type":"azure","base_url":"https://r.openai.azure.com/openai/deployments/d?api-version=2024-10-21"}"#,
         "must not hold a query"),
        (#"{"type":"azure","base_url":"https://r.openai.azure.com","api_version":"2024-10-21&sig=SECRETVALUE"}"#,
         #""providers.az.api_version" must be an Azure API version"#),
        (#"{"type":"azure","base_url":"https://r.openai.azure.com","api_version":7}"#, #""providers.az.api_version" must be a string"#),
        (#"{"type":"azure","base_url":"https://r.openai.azure.com","api-version":"2024-10-21"}"#,
         #"unknown key "providers.az.api-version" (did you mean "api_version"?)"#),
        (#"{"type":"azure","base_url":"https://r.openai.azure.com","apiversion":"2024-10-21"}"#, #"did you mean "api_version"?"#),
        (#"{"type":"openai","base_url":"https://x.example.com/v1","api_version":"2024-10-21"}"#,
         #""providers.az.api_version" applies to providers with "type": "azure" only"#),
        (#"{"type":"azure","base_url":"https://r.openai.azure.com","api_version":"2024-10-21","api_key":"key\n"}"#,
         #""providers.az.api_key""#),
        (#"{"type":"azure","base_url":"https://r.openai.azure.com","api_version":"2024-10-21","github_token":"t"}"#,
         "applies to github-copilot providers only"),
    ]

    @Test(arguments: badConfigs)
    func badConfigIsRefused(entry: String, expected: String) {
        do {
            _ = try Self.config(entry)
            Issue.record("accepted: \(entry)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(expected), "message: \(error.message)")
            #expect(!error.message.contains("SECRETVALUE"))
        }
    }

    static func provider(_ entry: String, env: [String: String] = [:]) throws -> OpenAICompatibleProvider {
        let providers = try ProviderRegistry.build(try Self.config(entry), environment: { env[$0] })
        return try #require(providers["az"] as? OpenAICompatibleProvider)
    }

    static func request(_ p: OpenAICompatibleProvider, model: String = "az/dep", stream: Bool = false) throws -> HTTPRequest {
        let text = #"{"model":"x","messages":[{"role":"user","content":"hi"}]}"#
        let request = try text.utf8CString.withUnsafeBytes { b throws(ModelsError) in
            try ChatRequest(text: UnsafeRawBufferPointer(rebasing: b.dropLast()))
        }
        var call = ChatCall(request: request, model: model,
                            limits: TransferLimits(headersDeadlineMs: 1, totalDeadlineMs: nil, idleTimeoutMs: 1), cancellation: nil)
        call.extraQuery = "trace=1"
        return stream ? try p.streamExchange(call).request : try p.chatExchange(call).request
    }

    @Test func requestsCarryApiKeyAndNoBearer() throws {
        let p = try Self.provider(#"{"type":"azure","base_url":"https://r.openai.azure.com","api_version":"2024-10-21","api_key":"azk","#
                                  + #""headers":{"X-Trace":"t"}}"#)
        for stream in [false, true] {
            let r = try Self.request(p, stream: stream)
            #expect(r.url == "https://r.openai.azure.com/openai/deployments/dep/chat/completions?api-version=2024-10-21&trace=1")
            #expect(r.headers.contains { $0.name == "api-key" && $0.value == "azk" })
            #expect(!r.headers.contains { $0.name.lowercased() == "authorization" })
            #expect(r.headers.contains { $0.name == "X-Trace" })
            #expect(String(decoding: r.body, as: UTF8.self).contains(#""model":"dep""#))
        }
    }

    @Test func anApiKeyHeaderReplacesTheKey() throws {
        let p = try Self.provider(#"{"type":"azure","base_url":"https://r.openai.azure.com/openai/v1","api_key":"k","#
                                  + #""headers":{"API-Key":"h"}}"#)
        let keys = try Self.request(p).headers.filter { $0.name.lowercased() == "api-key" }
        #expect(keys.map(\.value) == ["h"])
    }

    @Test func keyFromTheEnvironment() throws {
        let entry = #"{"type":"azure","base_url":"https://r.openai.azure.com/openai/v1"}"#
        let key = { (p: OpenAICompatibleProvider) throws in try Self.request(p).headers.first { $0.name == "api-key" }?.value }
        #expect(try key(Self.provider(entry, env: ["AZURE_OPENAI_API_KEY": "general", "AZ_API_KEY": "own"])) == "own")
        #expect(try key(Self.provider(entry, env: ["AZURE_OPENAI_API_KEY": "general"])) == "general")
        #expect(try key(Self.provider(entry)) == nil)
        let named = #"{"type":"azure","base_url":"https://r.openai.azure.com/openai/v1","api_key_env":"MY_AZ"}"#
        #expect(try key(Self.provider(named, env: ["MY_AZ": "mine", "AZURE_OPENAI_API_KEY": "general"])) == "mine")
        #expect(try key(Self.provider(named, env: ["AZURE_OPENAI_API_KEY": "general"])) == nil)
        #expect(try Self.request(Self.provider(entry), model: "az/gpt-4o").url
            == "https://r.openai.azure.com/openai/v1/chat/completions?trace=1")
    }

    @Test func contentFilterFinishIsARefusal() throws {
        let filtered = #"{"choices":[{"index":0,"finish_reason":"content_filter","message":{"content":null},"#
            + #""content_filter_results":{"hate":{"filtered":true}}}]}"#
        let error = try #require(AzureContentFilter.refusal(inAnswer: Array(filtered.utf8), provider: "az"))
        #expect(error.kind == .contentPolicy)
        #expect(error.message.contains("az stopped the answer"))
        let fine = #"{"choices":[{"finish_reason":"stop","content_filter_results":{}}],"prompt_filter_results":[]}"#
        #expect(AzureContentFilter.refusal(inAnswer: Array(fine.utf8), provider: "az") == nil)
        // The word in the text of an answer is not a finish reason.
        let quoted = #"{"choices":[{"finish_reason":"stop","message":{"content":"\"content_filter\""}}]}"#
        #expect(AzureContentFilter.refusal(inAnswer: Array(quoted.utf8), provider: "az") == nil)
        let chunk = Array(#"{"choices":[{"delta":{},"finish_reason":"content_filter"}]}"#.utf8)
        let chunkError = chunk.withUnsafeBytes { AzureContentFilter.refusal(inChunk: $0, provider: "az") }
        #expect(chunkError?.kind == .contentPolicy)
    }
}
