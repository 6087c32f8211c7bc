// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import ModelsProviders

/// A Lua script of the shared state: its name (for messages), text and SHA-1 (for EVALSHA).
struct SharedScript: Sendable {
    let name: String
    let text: String
    let sha: String

    init(name: String, text: String) {
        self.name = name
        self.text = text
        sha = SHA1.hex(text)
    }

    static let read = SharedScript(name: "read", text: SharedScripts.read)
    static let begin = SharedScript(name: "begin", text: SharedScripts.begin)
    static let cancel = SharedScript(name: "cancel", text: SharedScripts.cancel)
    static let end = SharedScript(name: "end", text: SharedScripts.end)
    static let all = [read, begin, cancel, end]
}

/// Where the shared state is kept: runs one script, atomically. nil means
/// "not now" (unreachable, slow, not Redis): the caller uses local state.
protocol SharedStore: Sendable {
    func eval(_ script: SharedScript, keys: [String], args: [String]) -> RedisReply?
    /// Runs a script whose answer the caller does not need, without waiting
    /// for it (false: not sent). Its effect comes before that of any later script.
    func send(_ script: SharedScript, keys: [String], args: [String]) -> Bool
}

/// Cooldowns, rate limits and deployment load shared by every router that
/// names the same Redis and key prefix. A method whose answer the router
/// needs (a read, a rate-limit wait, a cooldown's length) is one round trip;
/// the other writes are sent without waiting; one with nothing to say sends
/// nothing. nil means Redis did not answer in time: the router then decides on
/// its own state, which it keeps up to date all along.
final class SharedState: Sendable {
    let keys: SharedKeys
    let store: any SharedStore
    /// Names this process's calls in flight: unique across processes and machines.
    private let instance: String
    private let counter = Locked<UInt64>(0)

    init(store: any SharedStore, keyPrefix: String) {
        self.store = store
        keys = SharedKeys(prefix: keyPrefix)
        var g = SystemRandomNumberGenerator()
        instance = "\(getpid())-\(String(g.next() as UInt64, radix: 36))"
    }

    /// The shared state of `config`, or an error when this library was built without Redis.
    static func make(_ config: SharedStateConfig, environment: ProviderRegistry.Environment) throws(ModelsError) -> SharedState {
        let url = try config.resolvedURL(environment)
        #if canImport(CHiredis)
        Log.info("shared state: Redis at \(url.redacted), key prefix \"\(config.keyPrefix)\", timeout \(config.timeoutMs) ms")
        return SharedState(store: RedisClient(url: url, timeoutMs: config.timeoutMs), keyPrefix: config.keyPrefix)
        #else
        _ = url
        throw .invalidArgument("config: \"shared_state\" needs a libmodels built with Redis support (hiredis); "
                               + "this one was built with MODELS_WITH_REDIS=OFF")
        #endif
    }

    /// Cooldowns of the models and, for those with `load`, their calls in flight and usage.
    func read(_ queries: [SharedKeys.Query]) -> SharedSnapshot? {
        guard !queries.isEmpty else { return nil }
        let (k, a) = keys.read(queries)
        let local = MonotonicClock.nowMs()
        guard let reply = store.eval(.read, keys: k, args: a) else { return nil }
        return SharedSnapshot.decode(reply, queries: queries, localMs: local)
    }

    struct Began: Sendable, Equatable {
        /// The call's entry among the model's calls in flight; nil when not tracked.
        var member: String?
        /// Milliseconds to wait for the provider's rate limit.
        var waitMs: Int64
    }

    /// An attempt at `model` starts: counted in flight and in this minute's
    /// requests (when `trackLoad`), and a slot of the provider's rate limit
    /// reserved (when `rate` is given). nil: Redis did not answer.
    func begin(model: String, trackLoad: Bool, leaseMs: Int64, rate: (provider: String, limit: RateLimitConfig)?) -> Began? {
        guard trackLoad || rate != nil else { return Began(member: nil, waitMs: 0) }
        let member = trackLoad ? nextMember() : nil
        let args = [member ?? "", String(max(1, leaseMs)),
                    rate.map { Self.intervalText($0.limit) } ?? "", String(rate?.limit.burst ?? 1)]
        let k = [keys.inFlight(model), keys.usage(model), keys.rate(rate?.provider ?? ""), keys.ended(member ?? "")]
        // Without a rate limit there is nothing to wait for.
        guard rate != nil else { return store.send(.begin, keys: k, args: args) ? Began(member: member, waitMs: 0) : nil }
        guard let wait = store.eval(.begin, keys: k, args: args)?.integer else { return nil }
        return Began(member: member, waitMs: max(0, wait))
    }

    /// Gives back a rate-limit slot whose wait was given up.
    func cancelReservation(provider: String, limit: RateLimitConfig) {
        _ = store.send(.cancel, keys: [keys.rate(provider)], args: [Self.intervalText(limit)])
    }

    enum Outcome: Sendable, Equatable {
        case none
        /// The model answered: its cooldown (and failure count) is cleared.
        case success
        /// The model failed after its retries: cooled down with this config.
        case failure(CooldownConfig)
    }

    /// An attempt or call at `model` ended: out of the calls in flight, its
    /// tokens counted, its cooldown cleared or started. Returns the cooldown
    /// started (ms) for a failure (one round trip); nil when Redis did not
    /// answer, and for the other outcomes, which are sent without waiting.
    @discardableResult
    func end(model: String, member: String?, tokens: Int64, outcome: Outcome) -> Int64? {
        var args = [member ?? "", String(max(0, tokens))]
        switch outcome {
        case .none:
            guard member != nil || tokens > 0 else { return nil }
            args += ["", "0", "1", "0"]
        case .success:
            args += ["s", "0", "1", "0"]
        case .failure(let c):
            // As `Cooldown.delayMs`: the base never above the max, a multiplier of at least 1.
            let maxMs = Cooldown.delayMs(failures: .max, config: c)
            let baseMs = Cooldown.delayMs(failures: 1, config: c)
            let mult = c.multiplier.isNaN ? 1 : Swift.max(1, c.multiplier)
            args += ["f", String(baseMs), String(mult), String(maxMs)]
        }
        let k = [keys.inFlight(model), keys.usage(model), keys.cooldown(model), keys.ended(member ?? "")]
        guard case .failure = outcome else {
            _ = store.send(.end, keys: k, args: args)
            return nil
        }
        return store.eval(.end, keys: k, args: args)?.integer
    }

    private func nextMember() -> String {
        let n = counter.withLock { c -> UInt64 in
            c &+= 1
            return c
        }
        return "\(instance)-\(n)"
    }

    /// 1000 / requests per second, as Lua reads it.
    static func intervalText(_ limit: RateLimitConfig) -> String {
        String(1000 / limit.requestsPerSecond)
    }
}
