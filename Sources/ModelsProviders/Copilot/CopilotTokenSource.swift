// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// What one GitHub Copilot request needs: a Copilot API token and the API base
/// URL that goes with it (no `/v1`; the provider appends `/chat/completions`).
public struct CopilotCredentials: Sendable, Equatable {
    public var token: String
    public var apiURL: String

    public init(token: String, apiURL: String) {
        self.token = token
        self.apiURL = apiURL
    }

    /// Credentials from outside (a token answer, a C callback) after the checks
    /// that keep them from breaking the request: the token goes into a header
    /// line, so it may hold only visible ASCII (no CR/LF that would inject a
    /// header); the URL must be http(s). `source` names the origin in messages,
    /// which never quote the token.
    public static func checked(token: String, apiURL: String, source: String) throws(ModelsError) -> CopilotCredentials {
        guard !token.isEmpty else { throw ModelsError(.protocol, "\(source) gave an empty token") }
        guard token.utf8.count <= maxTokenBytes else {
            throw ModelsError(.protocol, "\(source) gave a token longer than \(maxTokenBytes) bytes")
        }
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw ModelsError(.protocol, "\(source) gave a token with spaces, control or non-ASCII characters")
        }
        guard let url = normalizedURL(apiURL) else {
            throw ModelsError(.protocol, "\(source) gave an API URL that is not an http:// or https:// URL")
        }
        return CopilotCredentials(token: token, apiURL: url)
    }

    /// The longest token accepted; Copilot tokens are a few hundred bytes.
    public static let maxTokenBytes = 16 << 10

    /// An http(s) URL with a host, without its trailing `/`, or nil when it is not one.
    static func normalizedURL(_ url: String) -> String? {
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.utf8.count > 8, url.utf8.count <= 2048,
              !url.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) else { return nil }
        var u = Substring(url)
        while u.hasSuffix("/") { u = u.dropLast() }
        // "https:////" trims to "https:": a host must follow the scheme.
        let afterScheme = u.utf8.dropFirst(url.hasPrefix("https://") ? 8 : 7)
        guard let first = afterScheme.first, first != UInt8(ascii: "/") else { return nil }
        return String(u)
    }
}

/// Where the Copilot provider gets its credentials, for every request: the
/// counterpart of the Go package's `TokenProvider`. The built-in exchange of a
/// GitHub token (`CopilotTokenExchange`) is one; a C program's callbacks are
/// another. Called from many threads at once.
public protocol CopilotTokenSource: AnyObject, Sendable {
    /// The token and API URL for one request. A thrown error fails that request.
    func credentials(_ cancellation: Cancellation?) throws(ModelsError) -> CopilotCredentials
}

/// A fixed token (config `api_key` of `github-copilot`): no exchange.
public final class FixedCopilotToken: CopilotTokenSource {
    private let value: CopilotCredentials

    public init(_ credentials: CopilotCredentials) { value = credentials }

    public func credentials(_ cancellation: Cancellation?) throws(ModelsError) -> CopilotCredentials { value }
}

/// A source that always fails with the same error: the config named the GitHub
/// token's environment variable but the variable is not set. Routing goes on to
/// the fallbacks, and the error says what to fix.
public final class UnavailableCopilotToken: CopilotTokenSource {
    private let error: ModelsError

    public init(_ error: ModelsError) { self.error = error }

    public func credentials(_ cancellation: Cancellation?) throws(ModelsError) -> CopilotCredentials { throw error }
}
