// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import ModelsTransport

/// The built-in token source: exchanges a GitHub token for short-lived Copilot
/// API tokens (`GET token_url` with `Authorization: Bearer <github token>`),
/// caches each until a minute before it expires, and refreshes it once however
/// many threads need it at the same moment (the others wait for that result).
///
/// A 401/403 from the exchange is a permanent error saying the GitHub token was
/// refused; transport failures, 429 and 5xx stay transient so the router retries.
/// Neither token reaches a log line or an error message.
public final class CopilotTokenExchange: CopilotTokenSource {
    /// Fetches one fresh token; the HTTP exchange, or a fake in tests.
    public typealias Fetch = @Sendable (Cancellation?) throws(ModelsError) -> CopilotToken

    private let fetch: Fetch
    private let now: @Sendable () -> Int64
    private let cache: ConditionLock<CopilotTokenCache>

    /// A source around any fetch function. `now` is the wall clock in Unix
    /// seconds (`expires_at` is wall-clock time).
    public init(marginSeconds: Int64 = 60, now: @escaping @Sendable () -> Int64 = CopilotTokenExchange.unixSeconds,
                fetch: @escaping Fetch) {
        self.fetch = fetch
        self.now = now
        cache = ConditionLock(CopilotTokenCache(marginSeconds: marginSeconds))
    }

    /// The exchange of `githubToken` at `tokenURL`, each attempt bounded by `timeoutMs`.
    public convenience init(githubToken: String, tokenURL: String = KnownProviders.copilotTokenURL,
                            timeoutMs: Int64 = 30_000,
                            now: @escaping @Sendable () -> Int64 = CopilotTokenExchange.unixSeconds) {
        self.init(now: now) { cancellation throws(ModelsError) in
            try Self.exchange(githubToken: githubToken, tokenURL: tokenURL, timeoutMs: timeoutMs, cancellation: cancellation)
        }
    }

    public static let unixSeconds: @Sendable () -> Int64 = { Int64(time(nil)) }

    public func credentials(_ cancellation: Cancellation?) throws(ModelsError) -> CopilotCredentials {
        var ticket: UInt64?
        let step = try cancellation.whileWaitingOrDirect(wake: { { [cache] in cache.wakeAll() } }) { () throws(ModelsError) in
            try cache.wait { (state: inout CopilotTokenCache) throws(ModelsError) -> CopilotTokenCache.Step? in
                try cancellation?.checkCancelled()
                let step = state.next(now: now(), ticket: ticket)
                if case .wait(let t) = step {
                    ticket = t
                    return nil
                }
                return step
            }
        }
        switch step {
        case .use(let credentials): return credentials
        case .fail(let error): throw error
        case .wait: throw ModelsError(.protocol, "github-copilot: token cache in an impossible state")
        case .exchange:
            do {
                let token = try fetch(cancellation)
                cache.update { $0.exchangeFinished(.success(token)) }
                return token.credentials
            } catch {
                // A cancelled caller's failure is its own: another waiter exchanges instead.
                if error.code == .cancelled {
                    cache.update { $0.exchangeAbandoned() }
                } else {
                    cache.update { $0.exchangeFinished(.failure(error)) }
                }
                throw error
            }
        }
    }

    /// Editor identification sent as VS Code's Copilot Chat does; the exchange
    /// and the API reject clients that send none.
    public static let editorVersion = "vscode/1.99.3"
    public static let editorPluginVersion = "copilot-chat/0.26.7"
    public static let userAgent = "GitHubCopilotChat/0.26.7"

    /// One `GET token_url`.
    static func exchange(githubToken: String, tokenURL: String, timeoutMs: Int64, cancellation: Cancellation?)
        throws(ModelsError) -> CopilotToken
    {
        let host = HTTPTransfer.hostForMessages(tokenURL)
        let secrets = [githubToken]
        Log.debug("github-copilot: exchanging the GitHub token for a Copilot token at \(host)")
        let request = HTTPRequest(method: .get, url: tokenURL, headers: [
            ("Authorization", "Bearer \(githubToken)"),
            ("Accept", "application/json"),
            ("Editor-Version", editorVersion),
            ("Editor-Plugin-Version", editorPluginVersion),
            ("User-Agent", userAgent),
        ])
        let deadline = MonotonicClock.nowMs().saturatingAdd(timeoutMs)
        var limits = TransferLimits(headersDeadlineMs: deadline, totalDeadlineMs: deadline, idleTimeoutMs: timeoutMs)
        limits.maxBodyBytes = 1 << 20
        do throws(ModelsError) {
            let transfer = try HTTPTransfer(request, limits: limits, cancellation: cancellation)
            defer { transfer.close() }
            let head = try transfer.awaitHead()
            guard head.isSuccess else {
                let body = (try? transfer.readBody(limit: 64 << 10, truncate: true)) ?? []
                throw CopilotTokenResponse.refusal(status: head.status, body: body, host: host,
                                                   retryAfterMs: head.retryAfterMs, secrets: secrets)
            }
            let token = try CopilotTokenResponse.parse(try transfer.readBody(limit: limits.maxBodyBytes), host: host)
            let lifetime = token.expiresAt.saturatingSubtract(Int64(time(nil)))
            Log.debug("github-copilot: got a Copilot token for \(HTTPTransfer.hostForMessages(token.credentials.apiURL)), "
                      + (lifetime > 0 ? "expiring in \(lifetime) s" : "already expired"))
            return token
        } catch {
            guard !error.message.hasPrefix("github-copilot:") else { throw error }
            // Transport failures keep their code and transience; the message says where.
            var wrapped = error
            wrapped.message = "github-copilot: token exchange: " + Redact.secrets(error.message, known: secrets)
            throw wrapped
        }
    }
}
