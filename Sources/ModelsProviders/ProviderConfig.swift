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

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        package init(name: String, value: String) { (self.name, self.value) = (name, value) }
    }

    public init() {}

    /// The configured `type`, else the one the provider's name implies.
    public func resolvedType(name: String) -> ProviderType { type ?? ProviderType.implied(byName: name) }
}
