// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders
import ModelsTransport
extension Router {
    /// An embeddings answer (`{"object": "list", "data": [...]}`), routed as a
    /// chat is: the primary and the fallbacks (or the model or group the
    /// request names), retries, cooldowns, rate limits. Its `model` is the
    /// model that answered; its usage counts as input tokens (tpm, cost).
    public func embed(_ request: EmbeddingsRequest, options: CallOptions = CallOptions(), cancellation: Cancellation? = nil)
        throws(ModelsError) -> ChatAnswer
    {
        let summary = options.xLibmodels ?? config.xLibmodels
        var (answer, model, end) = try route(.embeddings(request), options: options, cancellation: cancellation, stream: false) {
            provider, plan, attempt throws(ModelsError) in
            try provider.embed(plan.embeddingsCall(attempt, cancellation: cancellation))
        }
        let ended = end(usage: answer.usage)
        answer.setModel(model)
        if summary, let ended { answer.setMember("x_libmodels", ended.json) }
        return answer
    }
}
