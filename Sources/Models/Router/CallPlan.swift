/// One call's routing, set up: the state machine with its settings, and what
/// each attempt gets (limits, the `ChatCall`). Built by `Router.plan`; driven
/// by the blocking `Router.route` (sleeps) and by the `Engine` (timers) alike.
struct CallPlan {
    var machine: RouteStateMachine
    let request: ChatRequest
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

    /// The transfer limits of an attempt whose answer (a stream: its headers) is due by `deadlineMs`.
    func limits(deadlineMs: Int64) -> TransferLimits {
        var limits = TransferLimits(headersDeadlineMs: deadlineMs, totalDeadlineMs: stream ? nil : deadlineMs,
                                    idleTimeoutMs: idleTimeoutMs)
        limits.streamDeadline = streamDeadline
        limits.maxBodyBytes = maxResponseBytes
        return limits
    }

    /// What the provider gets for `attempt`.
    func call(_ attempt: RouteStateMachine.Attempt, cancellation: Cancellation?) -> ChatCall {
        var call = ChatCall(request: request, model: attempt.model.name, modelID: attempt.model.id,
                            limits: limits(deadlineMs: attempt.deadlineMs), cancellation: cancellation)
        call.extraHeaders = options.extraHeaders
        call.extraQuery = options.extraQuery
        return call
    }
}

/// What one call reports to the state shared between calls (metrics, load,
/// cooldowns) as its routing goes on: the one place a driver tells it, so that
/// the blocking router and the engine count alike. (Call events and cost
/// telemetry belong here too.)
struct CallLedger {
    let metrics: RouterMetrics
    let load: DeploymentLoad
    /// Every model that is a deployment of some group (their tokens are counted for tpm).
    let deployments: Set<String>
    /// The state shared with other routers through Redis, when the config names one.
    let shared: SharedState?
    private(set) var callCounted = false
    /// The model whose last attempt failed: a send to another one is a fallback.
    private var failed: (model: String, group: String?)?

    init(metrics: RouterMetrics, load: DeploymentLoad, deployments: Set<String>, shared: SharedState?) {
        self.metrics = metrics
        self.load = load
        self.deployments = deployments
        self.shared = shared
    }

    /// The call ends with an error (no attempt answered).
    mutating func callFailed(_ plan: CallPlan, now: Int64) {
        if !callCounted { metrics.callStarted(plan.first) }
        callCounted = true
        metrics.callEnded(plan.first, ms: now - plan.startMs)
    }

    /// The call waits (a backoff, a cooldown, a rate limit).
    mutating func waiting(_ plan: CallPlan) {
        if !callCounted { metrics.callStarted(plan.first) }
        callCounted = true
    }

    /// An attempt is about to go out (the load counted it when the machine chose it).
    mutating func sending(_ plan: CallPlan, _ attempt: RouteStateMachine.Attempt) {
        let model = attempt.model.name
        if let f = failed, f.model != model { metrics.fellBack(from: f.model, group: f.group) }
        failed = nil
        if callCounted {
            metrics.attemptStarted(model, group: attempt.group, number: attempt.number)
        } else {
            metrics.firstAttemptStarted(call: plan.first, model: model, group: attempt.group)
            callCounted = true
        }
    }

    /// The attempt answered (a stream: its first word): what to call when the call is over.
    func answered(_ plan: inout CallPlan, _ attempt: RouteStateMachine.Attempt, began: Int64, sentAt: Int64,
                  now: Int64) -> Router.CallEnd {
        let model = attempt.model.name
        plan.machine.succeeded()
        plan.cooldown?.recordSuccess(model)
        metrics.answered(call: plan.first, model: model, group: attempt.group, attemptMs: now - sentAt, callMs: now - plan.startMs)
        return Router.CallEnd(load: load, metrics: metrics, model: model, group: attempt.group, firstWordMs: now - began,
                              countsTokens: attempt.group != nil || (!deployments.isEmpty && deployments.contains(model)))
    }

    /// The attempt failed: counted, told to the machine, and the model cooled
    /// down when the machine says so (in the shared state too, where the
    /// attempt's `member` of the calls in flight leaves it).
    mutating func attemptFailed(_ plan: inout CallPlan, _ attempt: RouteStateMachine.Attempt, _ error: ModelsError,
                                sentAt: Int64, view: some RouteStateMachine.View, member: String? = nil) {
        let model = attempt.model.name
        let now = MonotonicClock.nowMs()
        load.end(model, at: now, firstByteMs: nil, tokens: 0)
        metrics.attemptEnded(model, group: attempt.group, ms: now - sentAt, error: error.kind)
        failed = (model, attempt.group)
        let failure = plan.machine.failed(error, now: MonotonicClock.nowMs(), view: view)
        Router.log(plan.machine.takeNotes())
        let coolDown = failure.coolDown ? plan.cooldown : nil
        let sharedMs = shared.flatMap {
            $0.end(model: model, member: member, tokens: 0, outcome: coolDown.map { .failure($0.config) } ?? .none)
        }
        if let cooldown = coolDown {
            let localMs = cooldown.recordFailure(model)
            metrics.cooldownStarted(model, group: attempt.group)
            Log.warn("cooling \(model) down for \(ModelHealth.formatRemaining(sharedMs ?? localMs))")
        }
    }
}
