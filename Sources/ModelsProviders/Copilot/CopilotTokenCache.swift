// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// A Copilot API token as the exchange returns it.
public struct CopilotToken: Sendable, Equatable {
    public var credentials: CopilotCredentials
    /// When GitHub stops accepting it, in Unix seconds (`expires_at`).
    public var expiresAt: Int64

    /// The `expires_at` values a token exchange may answer: Unix seconds from 1970
    /// to the end of 9999. Anything else is not a time and the answer is refused.
    public static let plausibleExpiry: ClosedRange<Int64> = 1...253_402_300_799

    public init(credentials: CopilotCredentials, expiresAt: Int64) {
        self.credentials = credentials
        self.expiresAt = expiresAt
    }
}

/// The decisions of the token cache, with no threads and no clock of its own, so
/// tests can walk through every state: a token is reused until `marginSeconds`
/// before it expires; when a fresh one is needed exactly one caller exchanges
/// (single flight) while the others wait for that exchange's outcome, success or
/// failure.
///
/// States: `idle` (with or without a usable token) and `exchanging`. Every
/// finished exchange bumps `completed`, which is how a waiter knows the outcome
/// it reads is one it waited for.
public struct CopilotTokenCache: Sendable {
    public enum Step: Sendable, Equatable {
        /// Use these credentials.
        case use(CopilotCredentials)
        /// You exchange, then call `exchangeFinished` or `exchangeAbandoned`.
        case exchange
        /// Another caller is exchanging: wait for a change, then ask again with
        /// this ticket.
        case wait(ticket: UInt64)
        /// The exchange you waited for failed with this error.
        case fail(ModelsError)
    }

    /// Seconds before `expires_at` at which a token is no longer handed out, so a
    /// request never starts with a token that expires on the way.
    public let marginSeconds: Int64
    public private(set) var token: CopilotToken?
    public private(set) var isExchanging = false
    /// Exchanges finished (successfully or not) so far.
    public private(set) var completed: UInt64 = 0
    private var lastOutcome: Result<CopilotToken, ModelsError>?

    public init(marginSeconds: Int64 = 60) { self.marginSeconds = marginSeconds }

    /// Whether `token` may still be handed out at `now` (Unix seconds).
    public func isFresh(_ token: CopilotToken, now: Int64) -> Bool {
        now < token.expiresAt.saturatingSubtract(marginSeconds)
    }

    /// What a caller needing credentials at `now` does. `ticket` is nil on the
    /// first call and the ticket of the `.wait` step on the calls after a wait.
    public mutating func next(now: Int64, ticket: UInt64? = nil) -> Step {
        // A waiter takes the outcome of the exchange it waited for, even a token
        // that is already stale by its expiry: it is the freshest there is, and
        // exchanging again at once would defeat the single flight.
        if let ticket, completed > ticket, let outcome = lastOutcome {
            switch outcome {
            case .success(let t): return .use(t.credentials)
            case .failure(let e): return .fail(e)
            }
        }
        if let token, isFresh(token, now: now) { return .use(token.credentials) }
        if isExchanging { return .wait(ticket: ticket ?? completed) }
        isExchanging = true
        return .exchange
    }

    /// The exchanging caller reports its outcome; waiters will read it.
    public mutating func exchangeFinished(_ outcome: Result<CopilotToken, ModelsError>) {
        if case .success(let t) = outcome { token = t }
        lastOutcome = outcome
        completed &+= 1
        isExchanging = false
    }

    /// The exchanging caller gave up without an outcome that concerns the others
    /// (its own call was cancelled): one of the waiters exchanges instead.
    public mutating func exchangeAbandoned() {
        isExchanging = false
    }
}
