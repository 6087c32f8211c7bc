// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// The router's side of the shared state (`shared_state`): what a call reads
/// before each decision, tells when an attempt starts, and tells when it ends.
/// Without `shared_state` none of this talks to anything.
extension Router {
    /// One read of what other routers share about `entries`' models: their
    /// cooldowns (when this router has cooldowns) and, for group deployments,
    /// their calls in flight and usage. nil: nothing to read, or Redis did not answer.
    func readShared(_ entries: [RouteStateMachine.Entry], cooldown: Cooldown?) -> SharedSnapshot? {
        guard let shared else { return nil }
        var seen = Set<String>()
        var queries: [SharedKeys.Query] = []
        for entry in entries {
            switch entry {
            case .model(let m):
                if cooldown != nil, seen.insert(m.name).inserted { queries.append(.init(model: m.name, load: false)) }
            case .group(_, _, let deployments):
                for (m, _) in deployments where seen.insert(m.name).inserted { queries.append(.init(model: m.name, load: true)) }
            }
        }
        return shared.read(queries)
    }

    /// An attempt starts: counted in the shared load (a deployment) and paced by
    /// the provider's rate limit, shared when Redis answers and local when it
    /// does not. Returns the attempt's entry among the calls in flight.
    func startAttempt(_ routed: RoutedModel, _ attempt: RouteStateMachine.Attempt, token: Cancellation?,
                      observer: CallObserver?) throws(ModelsError) -> String? {
        let provider = routed.providerName
        let limiter = rateLimiters[provider]
        let trackLoad = attempt.group != nil || deployments.contains(routed.name)
        guard let shared, trackLoad || limiter != nil else {
            try waitForRateLimit(provider, deadline: attempt.deadlineMs, token: token, observer: observer)
            return nil
        }
        let now = MonotonicClock.nowMs()
        // A crashed process's calls leave the count when this lease ends.
        let leaseMs = max(attempt.deadlineMs - now, config.timeoutMs).saturatingAdd(10_000)
        guard let began = shared.begin(model: routed.name, trackLoad: trackLoad, leaseMs: leaseMs,
                                       rate: limiter.map { (provider, $0.config) })
        else {
            try waitForRateLimit(provider, deadline: attempt.deadlineMs, token: token, observer: observer)
            return nil
        }
        guard let limiter, began.waitMs > 0 else { return began.member }
        func giveBack() {
            shared.cancelReservation(provider: provider, limit: limiter.config)
            shared.end(model: routed.name, member: began.member, tokens: 0, outcome: .none)
        }
        if MonotonicClock.nowMs().saturatingAdd(began.waitMs) >= attempt.deadlineMs {
            giveBack()
            throw ModelsError(.timeout, "rate limit of \(provider) needs a wait of \(began.waitMs) ms, past the model's timeout",
                              isTransient: true)
        }
        Log.debug("rate limit (shared): waiting \(began.waitMs) ms for \(provider)")
        observer?.rateLimitWait(provider: provider, ms: began.waitMs)
        do { try Self.sleep(ms: began.waitMs, token: token) } catch {
            giveBack()
            throw error
        }
        return began.member
    }

    /// A failed attempt ends in the shared state: out of the calls in flight,
    /// and cooled down there when `coolDown` is given. Returns the shared
    /// cooldown (escalated by every router's failures); nil when not shared.
    func endShared(_ model: String, member: String?, coolDown: CooldownConfig?) -> Int64? {
        guard let shared else { return nil }
        return shared.end(model: model, member: member, tokens: 0, outcome: coolDown.map { .failure($0) } ?? .none)
    }

    /// What a successful call tells the shared state when it is over (a chat
    /// at once, a stream when it ends): one round trip, or none when there is nothing to say.
    struct SharedEnd: Sendable {
        let state: SharedState
        let member: String?
        /// Redis held failures for the model: the success clears them for every router.
        let clearsCooldown: Bool

        func callAsFunction(_ model: String, tokens: Int64) {
            state.end(model: model, member: member, tokens: tokens, outcome: clearsCooldown ? .success : .none)
        }
    }
}

/// How the live view combines this router's own load with the shared one:
/// the larger of the two, so that one process stays exact about its own calls
/// (its decisions are taken under its lock) even when the shared count lags.
enum SharedView {
    static func load(_ local: DeploymentLoad.Snapshot, _ shared: SharedSnapshot?, _ model: String, now: Int64) -> DeploymentLoad.Snapshot {
        guard let shared, let m = shared.models[model], let inFlight = m.inFlight, let window = m.window else { return local }
        var out = local
        let used = window.used(at: shared.redisMs(atLocal: now))
        out.inFlight = max(local.inFlight, inFlight)
        out.requestsThisMinute = max(local.requestsThisMinute, used.requests)
        out.tokensThisMinute = max(local.tokensThisMinute, used.tokens)
        return out
    }

    static func msUntilBelow(_ local: Int64, _ shared: SharedSnapshot?, _ model: String, rpm: Int64?, tpm: Int64?, now: Int64) -> Int64 {
        guard rpm != nil || tpm != nil, let shared, let window = shared.models[model]?.window else { return local }
        return max(local, window.msUntilBelow(rpm: rpm, tpm: tpm, at: shared.redisMs(atLocal: now)) ?? Int64.max)
    }
}
