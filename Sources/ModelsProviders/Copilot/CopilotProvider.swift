// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// The GitHub Copilot provider: OpenAI Chat Completions at `{api}/chat/completions`
/// (no `/v1`), where every request asks its token source for a token and the
/// API URL that goes with it, carries VS Code's editor headers, and uses
/// HTTP/1.1 only (the Copilot API may time out on HTTP/2 handshakes). The
/// counterpart of the Go package's `NewCopilotProvider`.
public enum CopilotProvider {
    /// The headers Copilot expects of an editor integration.
    public static let headers: [(name: String, value: String)] = [
        ("Editor-Version", CopilotTokenExchange.editorVersion),
        ("Editor-Plugin-Version", CopilotTokenExchange.editorPluginVersion),
        ("Openai-Intent", "conversation-edits"),
        ("Copilot-Integration-Id", "vscode-chat"),
    ]

    /// A provider named `name` served by `source`. `apiURL`, when given, replaces
    /// the URL the source reports (a proxy in front of Copilot); `extraHeaders`
    /// are added to Copilot's, replacing those of the same name.
    public static func make(source: any CopilotTokenSource, name: String = ModelName.copilotProvider,
                            apiURL: String? = nil, extraHeaders: [(name: String, value: String)] = [])
        -> OpenAICompatibleProvider
    {
        let overridden = Set(extraHeaders.map { $0.name.lowercased() })
        let sent = headers.filter { !overridden.contains($0.name.lowercased()) } + extraHeaders
        // The caller's headers may carry credentials; Copilot's own are not secret.
        let secrets = extraHeaders.map(\.value)
        return OpenAICompatibleProvider(name: name, http1Only: true) { cancellation throws(ModelsError) in
            let credentials = try source.credentials(cancellation)
            return .init(baseURL: apiURL ?? credentials.apiURL, bearer: credentials.token, headers: sent, secrets: secrets)
        }
    }

    /// The provider a config entry of type `github-copilot` describes (the entry
    /// named `github-copilot`, or one with `"type": "github-copilot"`):
    /// `github_token` or `github_token_env` → the built-in exchange at `token_url`
    /// (default `https://api.github.com/copilot_internal/v2/token`); otherwise
    /// `api_key` / `api_key_env` → that Copilot token as is. `base_url` replaces
    /// the API URL the token reports; `headers` are added.
    public static func fromConfig(_ pc: ProviderConfig, name: String = ModelName.copilotProvider, exchangeTimeoutMs: Int64,
                                  environment env: ProviderRegistry.Environment) throws(ModelsError) -> OpenAICompatibleProvider
    {
        let extra = pc.headers.map { (name: $0.name, value: $0.value) }
        func provider(_ source: any CopilotTokenSource) -> OpenAICompatibleProvider {
            make(source: source, name: name, apiURL: pc.baseURL, extraHeaders: extra)
        }
        if pc.githubToken != nil && pc.githubTokenEnv != nil {
            throw .invalidArgument("config: \"providers.\(name)\" gives both \"github_token\" and \"github_token_env\"; keep one")
        }
        let tokenURL = pc.tokenURL ?? KnownProviders.copilotTokenURL
        if let token = pc.githubToken {
            return provider(CopilotTokenExchange(githubToken: token, tokenURL: tokenURL, timeoutMs: exchangeTimeoutMs))
        }
        if let variable = pc.githubTokenEnv {
            if let token = try ProviderRegistry.credential(env, variable, namedBy: "providers.\(name).github_token_env") {
                return provider(CopilotTokenExchange(githubToken: token, tokenURL: tokenURL, timeoutMs: exchangeTimeoutMs))
            }
            let message = "\(name): no GitHub token: the environment variable \(variable) named by "
                + "\"providers.\(name).github_token_env\" is not set"
            Log.warn(message)
            return provider(UnavailableCopilotToken(ModelsError(.noProvider, message)))
        }
        if pc.tokenURL != nil {
            throw .invalidArgument("config: \"providers.\(name).token_url\" needs \"github_token\" or \"github_token_env\"")
        }
        let key: String?
        if let variable = pc.apiKeyEnv {
            key = try ProviderRegistry.credential(env, variable, namedBy: "providers.\(name).api_key_env")
            if key == nil { Log.warn("provider \(name): the environment variable \(variable) named by api_key_env is not set") }
        } else {
            key = pc.apiKey
        }
        if let key {
            do {
                let credentials = try CopilotCredentials.checked(token: key, apiURL: pc.baseURL ?? KnownProviders.copilotAPIURL,
                                                                 source: "the api_key")
                return provider(FixedCopilotToken(credentials))
            } catch {
                throw .invalidArgument("config: \"providers.\(name)\": \(error.message)")
            }
        }
        if pc.apiKeyEnv != nil {
            return provider(UnavailableCopilotToken(ModelsError(.noProvider,
                "\(name): no Copilot token: the environment variable \(pc.apiKeyEnv!) named by \"providers.\(name).api_key_env\" is not set")))
        }
        throw .invalidArgument("config: \"providers.\(name)\" needs \"github_token\" or \"github_token_env\" "
                               + "(or register a token source with models_router_add_copilot())")
    }
}
