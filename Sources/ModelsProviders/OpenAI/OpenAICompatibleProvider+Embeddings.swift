// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport
/// Embeddings of an OpenAI-compatible provider: `POST {base}/embeddings`
/// (Azure: the deployment's `/embeddings`), the caller's request with its
/// `model` set, the answer passed back as sent.
extension OpenAICompatibleProvider {
    public func embed(_ call: EmbeddingsCall) throws(ModelsError) -> ChatAnswer {
        let (request, secrets) = try embeddingsRequest(call)
        let transfer = try HTTPTransfer(request, limits: call.limits, cancellation: call.cancellation)
        defer { transfer.close() }
        let head = try transfer.awaitHead()
        guard head.isSuccess else { throw ProviderErrors.fromTransfer(transfer, provider: name, secrets: secrets) }
        return try EmbeddingsAnswer.read(try transfer.readBody(limit: call.limits.maxBodyBytes), provider: name,
                                         status: head.status, secrets: secrets)
    }

    public func embeddingsExchange(_ call: EmbeddingsCall) throws(ModelsError) -> ChatExchange? {
        let (request, secrets) = try embeddingsRequest(call)
        let name = self.name
        return ChatExchange(
            request: request, secrets: secrets,
            answer: { head, body throws(ModelsError) in
                try EmbeddingsAnswer.read(body, provider: name, status: head.status, secrets: secrets)
            },
            failure: { head, body in ProviderErrors.httpError(provider: name, head: head, body: body, secrets: secrets) })
    }
}
