// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import ModelsTransport

/// A `TokenCache` shared by threads, around a function that fetches a fresh
/// token (Copilot's HTTP exchange, a program's callback): the token is reused
/// until `marginSeconds` before it expires, and however many threads need a
/// new one at once, one fetches while the others wait for its outcome.
package final class SingleFlightToken<Value: Sendable & Equatable>: Sendable {
    package typealias Fetch = @Sendable (Cancellation?) throws(ModelsError) -> ExpiringToken<Value>

    private let fetch: Fetch
    private let now: @Sendable () -> Int64
    private let cache: ConditionLock<TokenCache<Value>>
    /// Names the source in the message of an impossible state.
    private let what: String

    /// `now` is the wall clock in Unix seconds (`expires_at` is wall-clock time).
    package init(what: String, marginSeconds: Int64 = 60, now: @escaping @Sendable () -> Int64 = unixSeconds,
                fetch: @escaping Fetch) {
        self.what = what
        self.fetch = fetch
        self.now = now
        cache = ConditionLock(TokenCache(marginSeconds: marginSeconds))
    }

    package static var unixSeconds: @Sendable () -> Int64 { { Int64(time(nil)) } }

    /// The cached value when it is fresh; nil when `value` would have to fetch.
    /// Never blocks on a fetch.
    package func atHand() -> Value? {
        cache.withLock { $0.fresh(now: now()) }
    }

    /// The provider refused `value`: the next caller fetches a new one.
    package func refused(_ value: Value) {
        cache.update { $0.refused(value) }
    }

    /// A fresh value: the cached one, the outcome of a fetch in progress, or
    /// one this thread fetches. A cancelled caller stops waiting; a cancelled
    /// fetch is nobody else's failure (a waiter fetches instead).
    package func value(_ cancellation: Cancellation?) throws(ModelsError) -> Value {
        var ticket: UInt64?
        let step = try cancellation.whileWaitingOrDirect(wake: { { [cache] in cache.wakeAll() } }) { () throws(ModelsError) in
            try cache.wait { (state: inout TokenCache<Value>) throws(ModelsError) -> TokenCache<Value>.Step? in
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
        case .use(let value): return value
        case .fail(let error): throw error
        case .wait: throw ModelsError(.protocol, "\(what): token cache in an impossible state")
        case .exchange:
            do {
                let token = try fetch(cancellation)
                cache.update { $0.exchangeFinished(.success(token)) }
                return token.value
            } catch {
                if error.code == .cancelled {
                    cache.update { $0.exchangeAbandoned() }
                } else {
                    cache.update { $0.exchangeFinished(.failure(error)) }
                }
                throw error
            }
        }
    }
}
