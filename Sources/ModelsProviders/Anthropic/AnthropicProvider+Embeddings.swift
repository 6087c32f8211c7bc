// SPDX-License-Identifier: Apache-2.0
import ModelsCore
/// Anthropic has no embeddings API: the call ends with a clear error, on the
/// engine too (without a worker thread).
extension AnthropicProvider {
    public func embeddingsExchange(_ call: EmbeddingsCall) throws(ModelsError) -> ChatExchange? {
        throw Embeddings.unsupported(provider: name, model: call.model)
    }
}
