// SPDX-License-Identifier: Apache-2.0

/// One entry of the config's `providers`: the API it speaks, its credentials, URL and headers.
public struct ProviderConfig: Sendable, Equatable {
    /// The API the provider speaks, as configured; nil: the name decides (see `resolvedType`).
    public var type: ProviderType?
    public var apiKey: String?
    /// The environment variable that holds the key (read when the router is built).
    public var apiKeyEnv: String?
    public var baseURL: String?
    /// Extra headers sent with every request to this provider (e.g. OpenRouter's `HTTP-Referer`).
    public var headers: [Header] = []
    /// GitHub Copilot type only: the GitHub token exchanged for Copilot API tokens.
    public var githubToken: String?
    public var githubTokenEnv: String?
    public var tokenURL: String?
    /// Azure type only: the `api-version` query parameter (`2024-10-21`).
    public var apiVersion: String?
    /// Bedrock type only: the AWS region (else `AWS_REGION` / `AWS_DEFAULT_REGION`).
    public var region: String?
    /// Bedrock type only: credentials (else `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
    public var awsAccessKeyID: String?
    public var awsSecretAccessKey: String?
    public var awsSessionToken: String?
    /// Which of the provider's models continue an assistant message marked
    /// `"prefix": true` (`assistant_prefix`: true, false or a list of model ids);
    /// nil: the provider's name decides (deepseek and mistral do).
    public var assistantPrefix: AssistantPrefix?

    public enum AssistantPrefix: Sendable, Equatable {
        case all, none
        case models([String])

        public func covers(_ modelID: String) -> Bool {
            switch self {
            case .all: return true
            case .none: return false
            case .models(let ids): return ids.contains(modelID)
            }
        }
    }

    /// Whether `modelID` of the provider named `name` accepts `"prefix": true`.
    public func acceptsAssistantPrefix(name: String, modelID: String) -> Bool {
        (assistantPrefix ?? (Self.prefixProviders.contains(name) ? .all : .none)).covers(modelID)
    }

    /// Providers whose models accept an assistant prefix unless the config says otherwise.
    static let prefixProviders: Set<String> = ["deepseek", "mistral"]

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        package init(name: String, value: String) { (self.name, self.value) = (name, value) }
    }

    public init() {}

    /// The configured `type`, else the one the provider's name implies.
    public func resolvedType(name: String) -> ProviderType { type ?? ProviderType.implied(byName: name) }
}
