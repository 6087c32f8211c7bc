// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// A token (or key, or Copilot's token and API URL) with when it stops being
/// accepted, in Unix seconds; `expiresAt` 0 means unknown: the token serves
/// the request it was fetched for and is not kept.
public struct ExpiringToken<Value: Sendable & Equatable>: Sendable, Equatable {
    public var value: Value
    public var expiresAt: Int64

    /// The `expires_at` values a token source may give: Unix seconds from 1970
    /// to the end of 9999. Anything else is not a time.
    public static var plausibleExpiry: ClosedRange<Int64> { 1...253_402_300_799 }

    public init(value: Value, expiresAt: Int64) {
        self.value = value
        self.expiresAt = expiresAt
    }
}

/// The decisions of a token cache, with no threads and no clock of its own, so
/// tests can walk through every state: a token is reused until `marginSeconds`
/// before it expires; when a fresh one is needed exactly one caller fetches it
/// (single flight) while the others wait for that fetch's outcome, success or
/// failure. Serves the Copilot token exchange and every provider's token source.
///
/// States: `idle` (with or without a usable token) and `exchanging`. Every
/// finished fetch bumps `completed`, which is how a waiter knows the outcome
/// it reads is one it waited for.
public struct TokenCache<Value: Sendable & Equatable>: Sendable {
    public typealias Token = ExpiringToken<Value>

    public enum Step: Sendable, Equatable {
        /// Use this value.
        case use(Value)
        /// You fetch, then call `exchangeFinished` or `exchangeAbandoned`.
        case exchange
        /// Another caller is fetching: wait for a change, then ask again with
        /// this ticket.
        case wait(ticket: UInt64)
        /// The fetch you waited for failed with this error.
        case fail(ModelsError)
    }

    /// Seconds before `expires_at` at which a token is no longer handed out, so a
    /// request never starts with a token that expires on the way.
    public let marginSeconds: Int64
    public private(set) var token: Token?
    public private(set) var isExchanging = false
    /// Fetches finished (successfully or not) so far.
    public private(set) var completed: UInt64 = 0
    private var lastOutcome: Result<Token, ModelsError>?

    public init(marginSeconds: Int64 = 60) { self.marginSeconds = marginSeconds }

    /// Whether `token` may still be handed out at `now` (Unix seconds). A token
    /// whose expiry is unknown (0) never is.
    public func isFresh(_ token: Token, now: Int64) -> Bool {
        token.expiresAt != 0 && now < token.expiresAt.saturatingSubtract(marginSeconds)
    }

    /// The cached value when it is fresh at `now`, without starting anything.
    public func fresh(now: Int64) -> Value? {
        guard let token, isFresh(token, now: now) else { return nil }
        return token.value
    }

    /// What a caller needing a token at `now` does. `ticket` is nil on the
    /// first call and the ticket of the `.wait` step on the calls after a wait.
    public mutating func next(now: Int64, ticket: UInt64? = nil) -> Step {
        // A waiter takes the outcome of the fetch it waited for, even a token
        // that is already stale by its expiry: it is the freshest there is, and
        // fetching again at once would defeat the single flight.
        if let ticket, completed > ticket, let outcome = lastOutcome {
            switch outcome {
            case .success(let t): return .use(t.value)
            case .failure(let e): return .fail(e)
            }
        }
        if let token, isFresh(token, now: now) { return .use(token.value) }
        if isExchanging { return .wait(ticket: ticket ?? completed) }
        isExchanging = true
        return .exchange
    }

    /// The fetching caller reports its outcome; waiters will read it.
    public mutating func exchangeFinished(_ outcome: Result<Token, ModelsError>) {
        if case .success(let t) = outcome { token = t }
        lastOutcome = outcome
        completed &+= 1
        isExchanging = false
    }

    /// The fetching caller gave up without an outcome that concerns the others
    /// (its own call was cancelled): one of the waiters fetches instead.
    public mutating func exchangeAbandoned() {
        isExchanging = false
    }

    /// The provider refused `value` (HTTP 401): it is not handed out again, so
    /// the next request fetches a new one. A value other than the cached one
    /// (already replaced) changes nothing.
    public mutating func refused(_ value: Value) {
        if token?.value == value { token = nil }
    }
}

/// The Copilot exchange's token: its credentials (token and API URL) and expiry.
public typealias CopilotToken = ExpiringToken<CopilotCredentials>
public typealias CopilotTokenCache = TokenCache<CopilotCredentials>

extension ExpiringToken where Value == CopilotCredentials {
    public var credentials: CopilotCredentials {
        get { value }
        set { value = newValue }
    }

    public init(credentials: CopilotCredentials, expiresAt: Int64) {
        self.init(value: credentials, expiresAt: expiresAt)
    }
}
