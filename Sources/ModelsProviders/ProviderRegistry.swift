// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import ModelsTransport

/// Builds the providers a config names: the counterpart of the Go package's
/// `BuildProviders`. A provider of type `anthropic` gets the native Messages
/// client, `github-copilot` the Copilot client, `openai` an OpenAI-compatible
/// client, `azure` an OpenAI-compatible client at Azure's URLs with an
/// `api-key` header; without `"type"`, the name decides (see `ProviderType.implied`).
public enum ProviderRegistry {
    public typealias Environment = (String) -> String?

    public static func processEnvironment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }

    /// What every provider of one config shares: Anthropic's thinking, and the
    /// longest a Copilot token exchange may take (ms).
    package struct Shared {
        var thinking: ThinkingConfig
        var exchangeTimeoutMs: Int64

        package init(thinking: ThinkingConfig, exchangeTimeoutMs: Int64) {
            (self.thinking, self.exchangeTimeoutMs) = (thinking, exchangeTimeoutMs)
        }
    }

    /// Builds one provider per config entry (`configured`), then adds providers
    /// that the environment provides for the models in use (`models`, full names:
    /// `OPENAI_API_KEY` for an `openai/...` model) and `anthropic` when
    /// `ANTHROPIC_API_KEY` is set. `RouterConfig` calls it with its entries and models.
    package static func build(_ configured: [(name: String, config: ProviderConfig)], models: [String], shared: Shared,
                              environment env: Environment) throws(ModelsError) -> [String: any ChatProvider]
    {
        var providers: [String: any ChatProvider] = [:]
        for (name, pc) in configured {
            providers[name] = try make(name: name, config: pc, shared: shared, environment: env)
        }
        var wanted = Set(models.map(ModelName.provider(of:)))
        wanted.insert("anthropic")
        for name in wanted.sorted() where providers[name] == nil {
            guard KnownProviders.defaultBaseURL(name) != nil, name != ModelName.copilotProvider,
                  try credential(env, KnownProviders.apiKeyVariable(name), namedBy: nil) != nil else { continue }
            providers[name] = try make(name: name, config: ProviderConfig(), shared: shared, environment: env)
            Log.debug("registered provider \(name) from \(KnownProviders.apiKeyVariable(name))")
        }
        return providers
    }

    /// The provider for one config entry, of the type it names (or its name implies).
    /// Without `base_url`: an anthropic type goes to Anthropic's API; an openai type
    /// to the known URL of its name when there is one (groq, mistral, ...), else to
    /// OpenAI's (with a warning only when the type came from an unknown name, since
    /// `"type": "openai"` asks for OpenAI's API); Copilot to the URL its token names.
    ///
    /// With `token`, a token source gives the key or token instead of the
    /// config and the environment (see `TokenAuth`).
    package static func make(name: String, config pc: ProviderConfig, shared: Shared, environment env: Environment,
                             token: TokenAuth? = nil) throws(ModelsError) -> any ChatProvider
    {
        let headers = pc.headers.map { (name: $0.name, value: $0.value) }
        if let token { return try make(name: name, config: pc, shared: shared, headers: headers, token: token) }
        switch pc.resolvedType(name: name) {
        case .githubCopilot:
            // Copilot reads its own credentials (a GitHub token or a Copilot token).
            return try CopilotProvider.fromConfig(pc, name: name, exchangeTimeoutMs: shared.exchangeTimeoutMs, environment: env)
        case .anthropic:
            let key = try apiKey(name: name, config: pc, environment: env)
            return AnthropicProvider(name: name, baseURL: pc.baseURL ?? KnownProviders.anthropicBaseURL, apiKey: key,
                                     headers: headers, thinking: shared.thinking)
        case .openai:
            let key = try apiKey(name: name, config: pc, environment: env)
            return OpenAICompatibleProvider(name: name, baseURL: openAIBaseURL(name: name, config: pc), apiKey: key, headers: headers)
        case .azure:
            // The config checked that an azure entry has a base_url (and api_version where needed).
            guard let url = pc.baseURL else { throw .invalidArgument("config: \"providers.\(name).base_url\" is required for type azure") }
            var key = try apiKey(name: name, config: pc, environment: env)
            if key == nil, pc.apiKeyEnv == nil { key = try credential(env, azureKeyVariable, namedBy: nil) }
            if key == nil, pc.apiKeyEnv == nil, !pc.headers.contains(where: { $0.name.lowercased() == "api-key" }) {
                Log.warn("provider \(name) has type azure and no key (api_key, api_key_env, \(KnownProviders.apiKeyVariable(name)) "
                         + "or \(azureKeyVariable)); requests carry no api-key header")
            }
            return OpenAICompatibleProvider(name: name, azure: AzureEndpoint(baseURL: url, apiVersion: pc.apiVersion),
                                            apiKey: key, headers: headers)
        case .bedrock:
            return try bedrock(name: name, config: pc, environment: env)
        }
    }

    /// The provider of one config entry whose key or token comes from a token source.
    private static func make(name: String, config pc: ProviderConfig, shared: Shared,
                             headers: [(name: String, value: String)], token: TokenAuth) throws(ModelsError) -> any ChatProvider {
        switch pc.resolvedType(name: name) {
        case .githubCopilot:
            let source = CopilotTokenFromSource(token.source, apiURL: pc.baseURL ?? KnownProviders.copilotAPIURL)
            return CopilotProvider.make(source: source, name: name, extraHeaders: headers)
        case .anthropic:
            return AnthropicProvider(name: name, baseURL: pc.baseURL ?? KnownProviders.anthropicBaseURL, apiKey: nil,
                                     headers: headers, thinking: shared.thinking, token: token)
        case .openai:
            return OpenAICompatibleProvider(name: name, baseURL: openAIBaseURL(name: name, config: pc), token: token, headers: headers)
        case .azure:
            guard let url = pc.baseURL else { throw .invalidArgument("config: \"providers.\(name).base_url\" is required for type azure") }
            let azure = AzureEndpoint(baseURL: url, apiVersion: pc.apiVersion)
            return OpenAICompatibleProvider(name: name, baseURL: azure.root, azure: azure, token: token, headers: headers)
        case .bedrock:
            throw .invalidArgument("provider \"\(name)\" has type bedrock, whose requests are signed with AWS credentials: "
                                   + "it takes no token source")
        }
    }

    /// A Bedrock provider: region and credentials from the config, else from the
    /// standard AWS environment variables. Without a region or credentials the
    /// router is not built: no request could be signed.
    static func bedrock(name: String, config pc: ProviderConfig, environment env: Environment) throws(ModelsError) -> BedrockProvider {
        var region = pc.region
        if region == nil { region = try credential(env, "AWS_REGION", namedBy: nil) }
        if region == nil { region = try credential(env, "AWS_DEFAULT_REGION", namedBy: nil) }
        guard let region else {
            throw .invalidArgument("config: provider \(name) has type bedrock and no region: give \"providers.\(name).region\" "
                                   + "or set AWS_REGION")
        }
        guard BedrockEndpoint.isValidRegion(region) else {
            throw .invalidArgument("config: the AWS region of provider \(name) (from AWS_REGION or AWS_DEFAULT_REGION) must look like \"us-east-1\"")
        }
        var keyID = pc.awsAccessKeyID, secret = pc.awsSecretAccessKey, token = pc.awsSessionToken
        if keyID == nil {
            keyID = try credential(env, "AWS_ACCESS_KEY_ID", namedBy: nil)
            secret = try credential(env, "AWS_SECRET_ACCESS_KEY", namedBy: nil)
            token = try credential(env, "AWS_SESSION_TOKEN", namedBy: nil)
        }
        guard let keyID, let secret else {
            throw .invalidArgument("config: provider \(name) has type bedrock and no AWS credentials: give \"aws_access_key_id\" and "
                                   + "\"aws_secret_access_key\" (and \"aws_session_token\" for temporary ones), or set AWS_ACCESS_KEY_ID "
                                   + "and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)")
        }
        let signer = AWSSigV4(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token, region: region, service: "bedrock")
        return BedrockProvider(name: name, endpoint: BedrockEndpoint(baseURL: pc.baseURL, signer: signer),
                               headers: pc.headers.map { (name: $0.name, value: $0.value) })
    }

    /// Where an azure provider without `api_key`, `api_key_env` or `<NAME>_API_KEY` finds its key.
    static let azureKeyVariable = "AZURE_OPENAI_API_KEY"

    /// `base_url`, else the known URL for the name, else OpenAI's.
    static func openAIBaseURL(name: String, config pc: ProviderConfig) -> String {
        if let url = pc.baseURL { return url }
        // A known name of another API (an "anthropic" entry typed openai) has no
        // OpenAI-compatible URL of its own here.
        if ProviderType.implied(byName: name) == .openai, let url = KnownProviders.defaultBaseURL(name) { return url }
        if pc.type == .openai {
            Log.info("provider \(name) has type openai and no base_url; using \(KnownProviders.openAIBaseURL)")
        } else {
            Log.warn("provider \(name) has no base_url and is not a known provider; using \(KnownProviders.openAIBaseURL)")
        }
        return KnownProviders.openAIBaseURL
    }

    /// `api_key`, else the variable `api_key_env` names, else `<NAME>_API_KEY`.
    static func apiKey(name: String, config pc: ProviderConfig, environment env: Environment) throws(ModelsError) -> String? {
        if let key = pc.apiKey { return key }
        if let variable = pc.apiKeyEnv {
            if let key = try credential(env, variable, namedBy: "providers.\(name).api_key_env") { return key }
            Log.warn("provider \(name): the environment variable \(variable) named by api_key_env is not set")
            return nil
        }
        return try credential(env, KnownProviders.apiKeyVariable(name), namedBy: nil)
    }

    /// A key or token from the environment variable `variable` (nil when unset),
    /// checked as config keys are: the error names the variable, never its value.
    public static func credential(_ env: Environment, _ variable: String, namedBy key: String?) throws(ModelsError) -> String? {
        guard let value = env(variable) else { return nil }
        guard HeaderText.isValidCredential(value) else {
            let origin = key.map { " (named by \"\($0)\")" } ?? ""
            throw .invalidArgument("config: the environment variable \(variable)\(origin) \(HeaderText.credentialProblem)")
        }
        return value
    }
}
