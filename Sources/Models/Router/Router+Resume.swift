// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders
import ModelsTransport

/// Stream resumption (`stream_recovery: "resume"`), the parts both drivers share:
/// how a model is asked to continue, and what a resume tells the machine, the
/// ledger, the log and the events.
extension Router {
    /// How `model` is asked to continue an answer: Anthropic by prefill, a
    /// provider whose models accept `"prefix": true` (`assistant_prefix`) by
    /// that, any other by an instruction.
    func continuationForm(_ model: RoutedModel) -> StreamResume.Form {
        if model.provider is AnthropicProvider { return .prefill }
        let provider = config.provider(named: model.providerName) ?? ProviderConfig()
        return provider.acceptsAssistantPrefix(name: model.providerName, modelID: model.id) ? .prefix : .instruction
    }

    /// The request that asks `attempt`'s model to continue what `state` delivered
    /// (the caller's request when nothing was); `state` learns the form.
    func continuation(_ request: ChatRequest, _ attempt: RouteStateMachine.Attempt, _ state: inout StreamResume)
        throws(ModelsError) -> ChatRequest
    {
        guard state.hasDelivered else { return request }
        let form = continuationForm(attempt.model)
        state.attemptBegan(form: form)
        return try ChatRequest(json: state.continuation(of: request.json, form: form))
    }

    /// A stream attempt past its first word broke with `error` and is resumed:
    /// the machine sees it fail (it retries the model, with backoff, or moves
    /// on); a log line and a `stream.resume` event say so.
    func noteResume(_ plan: inout CallPlan, _ ledger: inout CallLedger, _ attempt: RouteStateMachine.Attempt,
                    _ error: ModelsError, sentAt: Int64, view: LiveView, state: StreamResume) {
        let model = attempt.model.name
        Log.info("\(model): the stream broke after \(state.content.count) bytes of text (\(error.message)); resuming (resume \(state.resumes + 1))")
        ledger.observer.emit("stream.resume") {
            $0.describe(attempt.model, group: attempt.group)
            $0.int("libmodels.resume", Int64(state.resumes + 1))
            $0.int("libmodels.delivered_bytes", Int64(state.content.count))
            $0.error(error)
        }
        plan.machine.resuming(attempt, now: MonotonicClock.nowMs())
        ledger.attemptFailed(&plan, attempt, error, sentAt: sentAt, view: view)
    }

    /// An attempt's stream read to its first word; a break before it is retried as transient.
    static func primed(_ attempt: RouteStateMachine.Attempt, _ call: ChatCall) throws(ModelsError) -> PrimedStream {
        do { return try PrimedStream(priming: attempt.model.provider!.openStream(call)) } catch { throw StreamResume.retryable(error) }
    }

    /// A stream that resumes after a break past its first word (see `ResumingStream`).
    func openResumingStream(_ request: ChatRequest, options: CallOptions, cancellation: Cancellation?) throws(ModelsError) -> ChatStream {
        var plan = try plan(.chat(request), options: options, stream: true)
        var ledger = ledger(plan)
        var view = view(plan)
        var sentAt: Int64 = 0
        let (stream, attempt, end) = try drive(&plan, &ledger, &view, cancellation: cancellation) {
            attempt, plan throws(ModelsError) in
            sentAt = MonotonicClock.nowMs()
            return try Self.primed(attempt, plan.call(attempt, cancellation: cancellation))
        }
        let resuming = ResumingStream(router: self, plan: plan, ledger: ledger, view: view, cancellation: cancellation,
                                      attempt: attempt, sentAt: sentAt, stream: stream, end: end)
        return ChatStream(stream: resuming, model: attempt.model.name, maxCollectBytes: config.maxResponseBytes, resuming: resuming)
    }
}
