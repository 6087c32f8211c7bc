// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// Where a token from a token source goes in a provider's requests.
package enum TokenPlacement: Sendable, Equatable {
    /// `Authorization: Bearer <token>`, and the configured key is not sent:
    /// an OAuth token, an Azure Entra ID token, a gateway's token.
    case bearer
    /// Where the provider's key goes: `Authorization: Bearer` (OpenAI-compatible),
    /// `x-api-key` (Anthropic), `api-key` (Azure): a key that rotates.
    case apiKey
}

/// A token (or key) that may change, for any provider: asked for every
/// request, and refreshed by the source when it expires or is refused.
/// Called from many threads at once.
package protocol TokenSource: AnyObject, Sendable {
    /// The token for one request; may block while a fresh one is fetched.
    func token(_ cancellation: Cancellation?) throws(ModelsError) -> String
    /// The cached token while it is fresh; nil when `token` would fetch. Never blocks.
    func tokenAtHand() -> String?
    /// The provider answered HTTP 401 to `token`: it is not handed out again.
    func refused(_ token: String)
}

/// A provider's token source and where its token goes.
package struct TokenAuth: Sendable {
    package var source: any TokenSource
    package var placement: TokenPlacement

    package init(source: any TokenSource, placement: TokenPlacement) {
        self.source = source
        self.placement = placement
    }
}

/// A provider whose requests carry a token from a token source: the engine
/// fetches one on a worker thread when none is at hand, and hands it to the
/// attempt as `ChatCall.prefetchedToken`.
package protocol TokenSourcedProvider: ChatProvider {
    var tokenSource: (any TokenSource)? { get }
}

/// The checks on a token from outside (a callback, a token answer): it goes
/// into a header line, so it may hold only visible ASCII (no CR/LF that would
/// inject a header, no spaces), and it has a bounded size. Messages never
/// quote it.
package enum TokenText {
    /// The longest token accepted; real ones are a few hundred bytes to a few KiB.
    package static let maxBytes = 16 << 10

    /// What is wrong with `token` ("gave an empty token", ...), or nil.
    package static func problem(_ token: String) -> String? {
        if token.isEmpty { return "gave an empty token" }
        if token.utf8.count > maxBytes { return "gave a token longer than \(maxBytes) bytes" }
        if !token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) {
            return "gave a token with spaces, control or non-ASCII characters"
        }
        return nil
    }
}

/// A token source around a function that fetches a token and its expiry (a
/// program's callback): each token is checked, kept until a minute before it
/// expires (not kept when its expiry is unknown), and fetched once however
/// many threads need a new one at once. A failed fetch fails the request
/// with the kind `auth`, permanently (no retry on the same model), with a
/// message that begins "<provider>: the token source failed".
package final class RefreshingTokenSource: TokenSource {
    /// One fetch: the token and its expiry in Unix seconds (0: unknown).
    package typealias Fetch = @Sendable (Cancellation?) throws(ModelsError) -> (token: String, expiresAt: Int64)

    private let flight: SingleFlightToken<String>

    package init(provider: String, marginSeconds: Int64 = 60,
                now: @escaping @Sendable () -> Int64 = SingleFlightToken<String>.unixSeconds, fetch: @escaping Fetch) {
        // The last token handed out: a failing source's message may quote it.
        let last = Locked<String?>(nil)
        flight = SingleFlightToken(what: provider, marginSeconds: marginSeconds, now: now) { cancellation throws(ModelsError) in
            let fetched: (token: String, expiresAt: Int64)
            do throws(ModelsError) { fetched = try fetch(cancellation) } catch {
                throw Self.failure(error, provider: provider, known: last.withLock { $0.map { [$0] } ?? [] })
            }
            if let problem = TokenText.problem(fetched.token) {
                throw ModelsError(.protocol, "\(provider): the token source \(problem)", kind: .auth)
            }
            last.withLock { $0 = fetched.token }
            var expiresAt = fetched.expiresAt
            if expiresAt != 0, !ExpiringToken<String>.plausibleExpiry.contains(expiresAt) {
                Log.debug("\(provider): the token source gave an expiry that is not a time in Unix seconds; the token is not kept")
                expiresAt = 0
            }
            return ExpiringToken(value: fetched.token, expiresAt: expiresAt)
        }
    }

    package func token(_ cancellation: Cancellation?) throws(ModelsError) -> String { try flight.value(cancellation) }

    package func tokenAtHand() -> String? { flight.atHand() }

    package func refused(_ token: String) { flight.refused(token) }

    /// The source's failure, as the caller reads it: what ends a call
    /// (cancelled, invalid argument, out of memory) stays as it is; anything
    /// else is an `auth` failure that is not retried on the same model.
    static func failure(_ error: ModelsError, provider: String, known: [String]) -> ModelsError {
        var failed = error
        failed.message = "\(provider): the token source failed: " + Redact.secrets(error.message, known: known)
        switch error.code {
        case .cancelled, .invalidArgument, .noMemory: break
        default:
            failed.isTransient = false
            failed.kind = .auth
        }
        return failed
    }
}
