// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// Reading the answer of GitHub's token exchange
/// (`GET https://api.github.com/copilot_internal/v2/token`):
///
///     {"token": "tid=...", "expires_at": 1760000000, "refresh_in": 1500,
///      "endpoints": {"api": "https://api.individual.githubcopilot.com", ...}, ...}
///
/// Messages name the host, never the token nor the GitHub token.
public enum CopilotTokenResponse {
    /// The token of a 2xx answer. `endpoints.api` defaults to `defaultAPIURL`.
    public static func parse(_ body: [UInt8], host: String, defaultAPIURL: String = KnownProviders.copilotAPIURL)
        throws(ModelsError) -> CopilotToken
    {
        let source = "the Copilot token exchange at \(host)"
        let json: JSON
        do { json = try JSON.parse(body) } catch {
            throw ModelsError(.protocol, "github-copilot: \(source) answered with invalid JSON: \(error.message)")
        }
        guard json.kind == .object else {
            throw ModelsError(.protocol, "github-copilot: \(source) answered with \(json.kindName), not an object")
        }
        guard let token = json["token"]?.string else {
            throw ModelsError(.protocol, "github-copilot: \(source) answered without a \"token\" string")
        }
        guard let expiresAt = json["expires_at"]?.int else {
            throw ModelsError(.protocol, "github-copilot: \(source) answered without a whole-number \"expires_at\"")
        }
        guard CopilotToken.plausibleExpiry.contains(expiresAt) else {
            throw ModelsError(.protocol, "github-copilot: \(source) answered with \"expires_at\" \(expiresAt), "
                                         + "which is not a time in Unix seconds between 1970 and 9999")
        }
        var apiURL = defaultAPIURL
        if let endpoint = json["endpoints"]?["api"] {
            guard let url = endpoint.string else {
                throw ModelsError(.protocol, "github-copilot: \(source) answered with \"endpoints.api\" that is \(endpoint.kindName), not a string")
            }
            apiURL = url
        }
        let credentials = try CopilotCredentials.checked(token: token, apiURL: apiURL, source: "github-copilot: \(source)")
        return CopilotToken(credentials: credentials, expiresAt: expiresAt)
    }

    /// The error for a non-2xx answer. 401 and 403 mean GitHub refused the
    /// GitHub token (revoked, expired, no Copilot access): permanent, and the
    /// message says so. Others are classified by status (429, 5xx are transient).
    /// `secrets` (the GitHub token) are removed from the server's message.
    public static func refusal(status: Int, body: [UInt8], host: String, retryAfterMs: Int64, secrets: [String]) -> ModelsError {
        let detail = ProviderErrors.message(inBody: body, secrets: secrets)
        if status == 401 || status == 403 {
            return ModelsError(.api, "github-copilot: the GitHub token was refused by the Copilot token exchange at \(host) "
                                   + "(HTTP \(status): \(detail)); check github_token / github_token_env and the account's Copilot access",
                               status: status, retryAfterMs: retryAfterMs, isTransient: false)
        }
        return .api(status: status, message: "github-copilot: the Copilot token exchange at \(host) answered HTTP \(status): \(detail)",
                    retryAfterMs: retryAfterMs)
    }
}
