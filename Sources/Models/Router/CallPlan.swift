// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders
import ModelsTransport

/// One call's routing, set up: the state machine with its settings, and what
/// each attempt gets (limits, the `ChatCall`). Built by `Router.plan`; driven
/// by the blocking `Router.route` (sleeps) and by the `Engine` (timers) alike.
struct CallPlan {
    var machine: RouteStateMachine
    let request: CallRequest
    let options: CallOptions
    let stream: Bool
    let startMs: Int64
    /// The model (or group) the call is counted under in the metrics.
    let first: String
    /// A whole stream's deadline (connecting and fallbacks included), and the duration that set it.
    let streamDeadline: (atMs: Int64, afterMs: Int64)?
    let idleTimeoutMs: Int64
    let maxResponseBytes: Int
    /// The cooldown tracker as the call began.
    let cooldown: Cooldown?
    /// Every entry the call may try, when their state is shared through Redis (else empty).
    let sharedEntries: [RouteStateMachine.Entry]
    /// Hedging (`hedge_after_ms`, the call's options over the config's); nil: off.
    var hedgeAfterMs: Int64? = nil

    /// The transfer limits of an attempt whose answer (a stream: its headers) is due by `deadlineMs`.
    func limits(deadlineMs: Int64) -> TransferLimits {
        var limits = TransferLimits(headersDeadlineMs: deadlineMs, totalDeadlineMs: stream ? nil : deadlineMs,
                                    idleTimeoutMs: idleTimeoutMs)
        limits.streamDeadline = streamDeadline
        limits.maxBodyBytes = maxResponseBytes
        return limits
    }

    /// What the provider gets for `attempt` of a chat or a stream.
    func call(_ attempt: RouteStateMachine.Attempt, cancellation: Cancellation?) -> ChatCall {
        guard case .chat(let request) = request else { preconditionFailure("an embeddings call has no chat attempt") }
        var call = ChatCall(request: request, model: attempt.model.name, modelID: attempt.model.id,
                            limits: limits(deadlineMs: attempt.deadlineMs), cancellation: cancellation)
        call.extraHeaders = options.extraHeaders
        call.extraQuery = options.extraQuery
        return call
    }

    /// What the provider gets for `attempt` of an embeddings call.
    func embeddingsCall(_ attempt: RouteStateMachine.Attempt, cancellation: Cancellation?) -> EmbeddingsCall {
        guard case .embeddings(let request) = request else { preconditionFailure("a chat call has no embeddings attempt") }
        var call = EmbeddingsCall(request: request, model: attempt.model.name, modelID: attempt.model.id,
                                  limits: limits(deadlineMs: attempt.deadlineMs), cancellation: cancellation)
        call.extraHeaders = options.extraHeaders
        call.extraQuery = options.extraQuery
        return call
    }
}

/// What one call reports as its routing goes on: to the metrics and the
/// events (through its `CallObserver`), to `load`, to the cooldowns and to the
/// state shared through Redis. The one place a driver tells it, so that the
/// blocking router and the engine count alike.
struct CallLedger {
    private(set) var observer: CallObserver
    let load: DeploymentLoad
    /// Every model that is a deployment of some group (their tokens are counted for tpm).
    let deployments: Set<String>
    /// The state shared with other routers through Redis, when the config names one.
    let shared: SharedState?
    /// The call asked for `x_libmodels` in its answer.
    let wantsSummary: Bool

    init(observer: CallObserver, load: DeploymentLoad, deployments: Set<String>, shared: SharedState?, wantsSummary: Bool) {
        self.observer = observer
        self.load = load
        self.deployments = deployments
        self.shared = shared
        self.wantsSummary = wantsSummary
    }

    /// The call ends with an error (no attempt answered).
    mutating func callFailed(_ error: ModelsError) { observer.callFailed(error) }

    /// The call waits `ms` (a backoff, a cooldown, a rate limit) for the reason the machine gives.
    mutating func waiting(_ plan: CallPlan, ms: Int64) { observer.waiting(plan.machine.waitReason, ms: ms) }

    /// An attempt is about to go out (the load counted it when the machine chose it).
    mutating func sending(_ attempt: RouteStateMachine.Attempt) {
        observer.attemptStarted(attempt.model, group: attempt.group, retry: attempt.number)
    }

    /// The attempt answered (a stream: its first word): what to call when the call is over.
    func answered(_ plan: inout CallPlan, _ attempt: RouteStateMachine.Attempt, began: Int64, sentAt: Int64,
                  now: Int64) -> Router.CallEnd {
        let model = attempt.model.name
        plan.machine.succeeded()
        if let cooldown = plan.cooldown {
            // Only a handler is told whether the success ended a cooldown: one more lookup.
            let hadFailures = observer.events != nil && cooldown.failures(model) > 0
            cooldown.recordSuccess(model)
            if hadFailures { observer.cooldownEnded(model, group: attempt.group) }
        }
        return observer.answered(attempt.model, group: attempt.group, began: began, sentAt: sentAt, now: now, load: load,
                                 countsTokens: attempt.group != nil || (!deployments.isEmpty && deployments.contains(model)),
                                 wantsSummary: wantsSummary)
    }

    /// The attempt failed: counted, told to the machine, and the model cooled
    /// down when the machine says so (in the shared state too, where the
    /// attempt's `member` of the calls in flight leaves it).
    mutating func attemptFailed(_ plan: inout CallPlan, _ attempt: RouteStateMachine.Attempt, _ error: ModelsError,
                                sentAt: Int64, view: some RouteStateMachine.View, member: String? = nil) {
        let model = attempt.model.name
        let now = MonotonicClock.nowMs()
        load.end(model, at: now, firstByteMs: nil, tokens: 0)
        observer.attemptFailed(attempt.model, group: attempt.group, ms: now - sentAt, error: error)
        let failure = plan.machine.failed(error, now: MonotonicClock.nowMs(), view: view)
        Router.log(plan.machine.takeNotes())
        if let delay = failure.retryInMs { observer.retrying(attempt.model, group: attempt.group, delayMs: delay, error: error) }
        let coolDown = failure.coolDown ? plan.cooldown : nil
        let sharedMs = shared.flatMap {
            $0.end(model: model, member: member, tokens: 0, outcome: coolDown.map { .failure($0.config) } ?? .none)
        }
        if let cooldown = coolDown {
            let localMs = cooldown.recordFailure(model)
            let ms = sharedMs ?? localMs
            observer.cooldownStarted(model, group: attempt.group, ms: ms)
            Log.warn("cooling \(model) down for \(ModelHealth.formatRemaining(ms))")
        }
    }
}
