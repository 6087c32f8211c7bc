// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

/// The routing decisions of one call, as a pure state machine: which model or
/// deployment to try next, whether to try it again, wait, move on or give up.
/// It holds no clock, lock, randomness or provider: the driver (the blocking
/// router today, an event loop later) passes the time, a random number and a
/// view of the shared state, does what the returned action says, and reports
/// how an attempt ended.
///
///     next() ──▶ .send(attempt) ──▶ succeeded()                  (done)
///                               └─▶ failed() ──▶ next() ...
///            ──▶ .wait(until)   ──▶ next() at that time
///            ──▶ .fail(error)                                    (done)
struct RouteStateMachine {
    /// One step of the fallback chain: a model, or a group of deployments.
    enum Entry {
        case model(RoutedModel)
        case group(name: String, strategy: ModelGroup.Strategy, deployments: [(model: RoutedModel, limits: ModelGroup.Deployment)])

        var name: String {
            switch self {
            case .model(let m): return m.name
            case .group(let name, _, _): return name
            }
        }
    }

    struct Settings {
        var retry: RetryPolicy
        var policy: FallbackPolicy
        /// The request named a model other than the primary: that one alone.
        var alone = false
        var stream = false
        var timeoutMs: Int64
        var streamConnectTimeoutMs: Int64
        /// When a whole stream must be over (`stream_timeout_ms`); nil: no limit.
        var streamDeadlineMs: Int64?
        /// How long the call may wait for a model to leave its cooldown when every one is cooling.
        var cooldownWaitMs: Int64 = 0
    }

    struct Attempt {
        var model: RoutedModel
        /// 0 for the first attempt at this model.
        var number: Int
        /// The attempt must have its answer (a stream: its headers) by then.
        var deadlineMs: Int64
        /// The group the model is a deployment of; nil for a plain model.
        var group: String?
    }

    enum Action {
        case send(Attempt)
        /// Call `next` again at this time (a backoff, a rate limit, a cooldown ending).
        case wait(untilMs: Int64)
        case fail(ModelsError)
    }

    /// What the driver does with shared state after a failed attempt.
    struct Failure: Equatable {
        /// The model failed transiently after its retries: cool it down.
        var coolDown: Bool
        /// The same model is tried again after this many milliseconds.
        var retryInMs: Int64? = nil
    }

    /// What the machine needs to know of the state shared between calls.
    protocol View {
        /// Milliseconds until `model` leaves its cooldown; 0 when it is available.
        func cooldownRemainingMs(_ model: String) -> Int64
        func load(_ model: String) -> DeploymentLoad.Snapshot
        /// Milliseconds until `model` is below these limits; 0 when it is.
        func msUntilBelow(_ model: String, rpm: Int64?, tpm: Int64?) -> Int64
        /// A number in [0, 1): asked for only when a choice is random (a
        /// weighted pick, a backoff's jitter), so a plain call costs none.
        func random() -> Double
    }

    /// Log lines the driver writes out (the machine formats, it does not print).
    private(set) var notes: [(level: Log.Level, message: String)] = []

    /// What the last `.wait` waits for.
    enum WaitReason: Equatable {
        /// A retry's backoff.
        case retry
        /// Every model left is at a deployment's rpm or tpm limit (or cooling down), and one frees up first.
        case rateLimit
        /// Every model is in cooldown and the first comes back within `cooldown_wait_ms`.
        case cooldown
    }
    private(set) var waitReason: WaitReason = .retry

    private let settings: Settings
    private let startMs: Int64
    /// The entries of the per-kind fallback lists, by name.
    private let listed: [String: Entry]
    private var entries: [Entry]
    private var index = 0
    /// The deployments (or the model) of the current entry already tried.
    private var tried: Set<String> = []

    private struct Current {
        var model: RoutedModel
        var attempt: Int
        var deadlineMs: Int64
        var group: String?
        /// Set while a retry waits for its backoff.
        var retryAtMs: Int64?
    }
    private var current: Current?
    private var finalError: ModelsError?

    private var outcomes: [(model: String, reason: String)] = []
    private var lastError: ModelsError?
    private var attemptedModels = 0
    /// Entries skipped because they were cooling down, or held at their rate limits.
    private var cooling = 0
    private var limited = 0
    /// The soonest a skipped model leaves its cooldown.
    private var soonestAvailableMs: Int64?
    /// The soonest a group held at its rate limits has a deployment free again.
    private var soonestFreeMs: Int64?
    private var unregistered: [String] = []
    private var switched: Set<ErrorKind> = []
    private var waitedForCooldown = false
    /// Models whose hedge failed in this call: not tried again (see `hedgeFailed`).
    private var excluded: Set<String> = []

    /// `listed` holds an entry for every name of the settings' per-kind fallback lists.
    init(entries: [Entry], settings: Settings, startMs: Int64, listed: [String: Entry] = [:]) {
        self.entries = entries
        self.settings = settings
        self.startMs = startMs
        self.listed = listed
    }

    /// The notes written since the last call, for the driver to log.
    mutating func takeNotes() -> [(level: Log.Level, message: String)] {
        defer { notes.removeAll() }
        return notes
    }

    // MARK: Deciding

    mutating func next(now: Int64, view: some View) -> Action {
        if let finalError { return .fail(finalError) }
        if var c = current, let at = c.retryAtMs {
            if now < at {
                waitReason = .retry
                return .wait(untilMs: at)
            }
            c.retryAtMs = nil
            current = c
            return .send(Attempt(model: c.model, number: c.attempt, deadlineMs: c.deadlineMs, group: c.group))
        }
        while index < entries.count {
            switch entries[index] {
            case .model(let m):
                // A plain model is tried once: after it the entry is done.
                if !isUsable(m, now: now, view: view) {
                    advance()
                    continue
                }
                return begin(m, now: now)
            case .group(let name, let strategy, let deployments):
                var candidates: [(model: RoutedModel, candidate: DeploymentPicker.Candidate)] = []
                var waits: [(model: String, ms: Int64, limit: String)] = []
                var coolingHere = 0, untried = 0
                for (m, limits) in deployments where !tried.contains(m.name) && !excluded.contains(m.name) {
                    untried += 1
                    guard m.provider != nil else {
                        unregister(m)
                        continue
                    }
                    let remaining = view.cooldownRemainingMs(m.name)
                    if remaining > 0 {
                        coolingHere += 1
                        noteSoonest(now.saturatingAdd(remaining))
                        continue
                    }
                    let free = view.msUntilBelow(m.name, rpm: limits.rpm, tpm: limits.tpm)
                    if free > 0 {
                        // Which limit, for the message: each one alone.
                        let limit = limits.limitsReached(
                            rpm: limits.rpm != nil && view.msUntilBelow(m.name, rpm: limits.rpm, tpm: nil) > 0,
                            tpm: limits.tpm != nil && view.msUntilBelow(m.name, rpm: nil, tpm: limits.tpm) > 0)
                        waits.append((m.name, free, limit))
                        continue
                    }
                    let load = view.load(m.name)
                    candidates.append((m, DeploymentPicker.Candidate(
                        weight: limits.weight, inFlight: load.inFlight, latencyMs: load.latencyMs,
                        usageShare: Self.usageShare(load, limits))))
                }
                if !candidates.isEmpty {
                    let chosen = candidates.count == 1 ? 0
                        : DeploymentPicker.pick(candidates.map(\.candidate), strategy: strategy, random: view.random())
                    return begin(candidates[chosen].model, now: now, group: name)
                }
                if let soonest = waits.min(by: { $0.ms < $1.ms }) {
                    // Every deployment left is at its limit: the next entry may answer
                    // now; when none can, `finish` waits for the first to free up.
                    limited += 1
                    soonestFreeMs = min(soonestFreeMs ?? .max, now.saturatingAdd(soonest.ms))
                    notes.append((.debug, "skipping \(name): every deployment is at its rate limit"))
                    let each = waits.map { "\($0.model) at \($0.limit)" }.joined(separator: ", ")
                    outcomes.append((name, "every deployment is at a rate limit (\(each); \(soonest.model) frees up in \(ModelHealth.formatRemaining(soonest.ms)))"))
                } else if untried > 0 && coolingHere == untried {
                    cooling += 1
                    outcomes.append((name, "every deployment is in cooldown"))
                    notes.append((.debug, "skipping \(name): every deployment is in cooldown"))
                }
                advance()
            }
        }
        return finish(now: now)
    }

    /// Whether a plain model can be tried; records why not.
    private mutating func isUsable(_ m: RoutedModel, now: Int64, view: some View) -> Bool {
        guard !excluded.contains(m.name) else { return false }
        guard m.provider != nil else {
            unregister(m)
            return false
        }
        let remaining = view.cooldownRemainingMs(m.name)
        guard remaining <= 0 else {
            let text = ModelHealth.formatRemaining(remaining)
            outcomes.append((m.name, "in cooldown (\(text) remaining)"))
            notes.append((.debug, "skipping \(m.name): in cooldown for \(text)"))
            cooling += 1
            noteSoonest(now.saturatingAdd(remaining))
            return false
        }
        return true
    }

    private mutating func unregister(_ m: RoutedModel) {
        outcomes.append((m.name, "provider \"\(m.providerName)\" is not registered"))
        unregistered.append(m.providerName)
    }

    private mutating func noteSoonest(_ atMs: Int64) {
        soonestAvailableMs = min(soonestAvailableMs ?? .max, atMs)
    }

    private mutating func advance() {
        index += 1
        tried = []
    }

    /// The latest a wait for a rate limit or a cooldown may end.
    private var callDeadline: Int64 {
        let deadline = startMs.saturatingAdd(settings.timeoutMs)
        return settings.streamDeadlineMs.map { min($0, deadline) } ?? deadline
    }

    private static func usageShare(_ load: DeploymentLoad.Snapshot, _ limits: ModelGroup.Deployment) -> Double {
        var share = 0.0
        if let rpm = limits.rpm, rpm > 0 { share = max(share, Double(load.requestsThisMinute) / Double(rpm)) }
        if let tpm = limits.tpm, tpm > 0 { share = max(share, Double(load.tokensThisMinute) / Double(tpm)) }
        return share
    }

    private mutating func begin(_ m: RoutedModel, now: Int64, group: String? = nil) -> Action {
        attemptedModels += 1
        if group != nil { tried.insert(m.name) }
        if attemptedModels > 1 {
            notes.append((.info, group.map { "falling back to \(m.name) (group \($0))" } ?? "falling back to \(m.name)"))
        }
        // The primary, when there is somewhere to fall back to, gets at most 60 s; a
        // stream's primary must connect within stream_connect_timeout_ms, retries
        // included, so that a hanging one does not use up the fallbacks' time.
        let hasFallbacks = index == 0 && (entries.count > 1 || Self.groupSize(entries[0]) > 1)
        var timeout = settings.timeoutMs
        if hasFallbacks { timeout = min(timeout, 60_000) }
        var deadline = now.saturatingAdd(timeout)
        if settings.stream && hasFallbacks { deadline = min(deadline, now.saturatingAdd(settings.streamConnectTimeoutMs)) }
        if let streamDeadline = settings.streamDeadlineMs { deadline = min(deadline, streamDeadline) }
        current = Current(model: m, attempt: 0, deadlineMs: deadline, group: group)
        return .send(Attempt(model: m, number: 0, deadlineMs: deadline, group: group))
    }

    private static func groupSize(_ entry: Entry) -> Int {
        if case .group(_, _, let deployments) = entry { return deployments.count }
        return 1
    }

    // MARK: Outcomes

    /// The attempt in progress answered.
    mutating func succeeded() {
        current = nil
    }

    /// A stream that answered broke at `now` and is to be resumed: `attempt` is
    /// in progress again (its retries as they were), so that `failed` retries it
    /// or moves on. The retry must connect within the stream connect timeout.
    mutating func resuming(_ attempt: Attempt, now: Int64) {
        var deadline = now.saturatingAdd(min(settings.timeoutMs, settings.streamConnectTimeoutMs))
        if let streamDeadline = settings.streamDeadlineMs { deadline = min(deadline, streamDeadline) }
        current = Current(model: attempt.model, attempt: attempt.number, deadlineMs: deadline, group: attempt.group)
    }

    /// The attempt in progress failed with `error` at `now`; the view's random number jitters the backoff.
    mutating func failed(_ error: ModelsError, now: Int64, view: some View) -> Failure {
        guard var c = current else { return Failure(coolDown: false) }
        if error.code == .cancelled || error.code == .invalidArgument || error.code == .noMemory {
            finalError = error
            current = nil
            return Failure(coolDown: false)
        }
        lastError = error
        let model = c.model.name
        if settings.retry.shouldRetry(after: error, attempt: c.attempt) {
            let delay = settings.retry.delayMs(retry: c.attempt, retryAfterMs: error.retryAfterMs, random: view.random())
            // Only when the wait ends before the model's deadline: a retry past it could only time out.
            if now.saturatingAdd(delay) < c.deadlineMs {
                notes.append((.info, "\(model): attempt \(c.attempt + 1) failed: \(error.message); retrying in \(delay) ms"))
                c.attempt += 1
                c.retryAtMs = now.saturatingAdd(delay)
                current = c
                return Failure(coolDown: false, retryInMs: delay)
            }
        }
        // The model's last attempt: worth a warning, as the caller may now get a fallback's answer or an error.
        notes.append((.warn, "\(model): attempt \(c.attempt + 1) failed: \(error.message)"))
        outcomes.append((model, error.message))
        current = nil
        let decision: FallbackPolicy.Decision = settings.alone ? .next : settings.policy.decision(after: error.kind, switched: switched)
        switch decision {
        case .stop:
            notes.append((.info, "\(model): a \(error.kind.rawValue) error is not in fallback_on; not falling back"))
            finalError = error
        case .next:
            // A group goes on with its other deployments; a model is done.
            if case .model = entries[index] { advance() }
        case .switchTo(let names):
            switched.insert(error.kind)
            notes.append((.info, "\(model): a \(error.kind.rawValue) error; trying its fallbacks [\(names.joined(separator: ", "))]"))
            entries = Array(entries[...index]) + names.compactMap { listed[$0] }
            advance()
        }
        return Failure(coolDown: error.isTransient)
    }

    /// Every entry was tried or skipped: the error that says why.
    private mutating func finish(now: Int64) -> Action {
        if attemptedModels == 0 && (cooling > 0 || limited > 0) {
            // Nothing could take the call now. A rate limit that frees up within the
            // call's deadline is waited for; so is a cooldown that ends within
            // cooldown_wait_ms (once), as long as it is within the deadline too.
            if let free = soonestFreeMs, free < callDeadline {
                notes.append((.info, "every model is cooling down or at its rate limit; waiting \(max(0, free - now)) ms for the first to free up"))
                restart()
                waitReason = .rateLimit
                return .wait(untilMs: free)
            }
            if let back = soonestAvailableMs, !waitedForCooldown, back - now <= settings.cooldownWaitMs, back < callDeadline {
                waitedForCooldown = true
                notes.append((.info, "every model is in cooldown; waiting \(max(0, back - now)) ms for the first to come back"))
                restart()
                waitReason = .cooldown
                return .wait(untilMs: back)
            }
            let soonest = min(soonestAvailableMs ?? .max, soonestFreeMs ?? .max)
            let what = limited > 0 && cooling == 0 ? "all models at their rate limits" : "all models in cooldown"
            finalError = ModelsError(.allCooldown, "\(what) (" + Self.describe(outcomes) + ")",
                                     retryAfterMs: max(1, soonest == .max ? 1 : soonest - now))
            return .fail(finalError!)
        }
        guard let lastError else {
            let names = Array(Set(unregistered)).sorted()
            let hint = names.map { name in
                name == ModelName.copilotProvider
                    ? "add \"github-copilot\" under \"providers\" with a github_token, or register a token source"
                    : "add \"\(name)\" under \"providers\" in the config or set \(KnownProviders.apiKeyVariable(name))"
            }.joined(separator: "; ")
            finalError = ModelsError(.noProvider, "no provider registered for \(names.map { "\"\($0)\"" }.joined(separator: ", ")): \(hint)")
            return .fail(finalError!)
        }
        if attemptedModels == 1 && outcomes.count == 1 {
            finalError = lastError
        } else {
            finalError = ModelsError(.allFailed, "all models failed: " + Self.describe(outcomes),
                                     status: lastError.status, retryAfterMs: lastError.retryAfterMs, isTransient: lastError.isTransient)
        }
        return .fail(finalError!)
    }

    /// Back to the first entry, as if the call had just begun (after a cooldown wait).
    private mutating func restart() {
        index = 0
        tried = []
        outcomes = []
        cooling = 0
        limited = 0
        soonestAvailableMs = nil
        soonestFreeMs = nil
        unregistered = []
    }

    private static func describe(_ outcomes: [(model: String, reason: String)]) -> String {
        outcomes.map { "\($0.model): \($0.reason)" }.joined(separator: "; ")
    }
}

// MARK: Hedging (issue 18, see HedgeRace)

extension RouteStateMachine {
    /// The hedge of the attempt in flight: the attempt `next` would send had
    /// this one failed and been given up (another deployment of its group, else
    /// the next entry that can take the call now), and the machine as it would
    /// then be, with the hedge as its attempt in progress. This machine is not
    /// changed. nil: nothing else can take the call now (a hedge never waits).
    func hedge(now: Int64, view: some View) -> (attempt: Attempt, machine: RouteStateMachine)? {
        guard finalError == nil, let c = current, c.retryAtMs == nil, index < entries.count else { return nil }
        var probe = self
        probe.current = nil
        if case .model = probe.entries[probe.index] { probe.advance() }
        guard case .send(let attempt) = probe.next(now: now, view: view), attempt.model.name != c.model.name else { return nil }
        _ = probe.takeNotes()
        return (attempt, probe)
    }

    /// The hedge to `model` failed with `error` (this machine's own attempt may
    /// still run): the model is not tried again by this call, and the error
    /// counts among the call's failures.
    mutating func hedgeFailed(model: String, error: ModelsError) {
        excluded.insert(model)
        outcomes.append((model, error.message))
        if lastError == nil || current == nil { lastError = error }
        attemptedModels += 1
    }
}
