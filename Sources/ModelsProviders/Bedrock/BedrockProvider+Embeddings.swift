// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// Embeddings of a Bedrock provider: InvokeModel (`POST {base}/model/{id}/invoke`,
/// signed like Converse) with the bodies of `BedrockEmbeddings`. A model that
/// is not a known embeddings model gets the "no embeddings API" error. A Titan
/// call with several inputs sends one request per input, one after another
/// (on the engine: on a worker thread); the others are one exchange.
extension BedrockProvider {
    public func embed(_ call: EmbeddingsCall) throws(ModelsError) -> ChatAnswer {
        let (family, bodies) = try embeddingsBodies(call)
        let secrets = embeddingsSecrets(call)
        var answers: [JSON] = []
        var headerTokens: Int64 = 0
        for body in bodies {
            let transfer = try HTTPTransfer(invokeRequest(body, call: call), limits: call.limits, cancellation: call.cancellation)
            defer { transfer.close() }
            let head = try transfer.awaitHead()
            guard head.isSuccess else {
                throw httpError(head, (try? transfer.readBody(limit: ProviderExchange.errorBodyBytes, truncate: true)) ?? [], secrets: secrets)
            }
            answers.append(try parse(try transfer.readBody(limit: call.limits.maxBodyBytes)))
            headerTokens = Self.adding(headerTokens, Self.tokens(head))
        }
        return ChatAnswer(json: try BedrockEmbeddings.answer(answers, family: family, model: call.model, base64: Self.wantsBase64(call),
                                                             headerTokens: headerTokens, provider: name))
    }

    public func embeddingsExchange(_ call: EmbeddingsCall) throws(ModelsError) -> ChatExchange? {
        let (family, bodies) = try embeddingsBodies(call)
        guard bodies.count == 1 else { return nil } // several requests: `embed` on a worker thread
        let secrets = embeddingsSecrets(call), base64 = Self.wantsBase64(call), name = self.name
        return ChatExchange(
            request: invokeRequest(bodies[0], call: call), secrets: secrets,
            answer: { head, bytes throws(ModelsError) in
                ChatAnswer(json: try BedrockEmbeddings.answer([try self.parse(bytes)], family: family, model: call.model, base64: base64,
                                                              headerTokens: Self.tokens(head), provider: name))
            },
            failure: { head, bytes in self.httpError(head, bytes, secrets: secrets) },
            retryInstead: nil)
    }

    private func embeddingsBodies(_ call: EmbeddingsCall) throws(ModelsError) -> (BedrockEmbeddings.Family, [JSON]) {
        guard let family = BedrockEmbeddings.family(modelID: call.modelID) else {
            throw Embeddings.unsupported(provider: name, model: call.model)
        }
        return (family, try BedrockEmbeddings.bodies(call.request, family: family, provider: name, model: call.model))
    }

    private func embeddingsSecrets(_ call: EmbeddingsCall) -> [String] {
        endpoint.signer.secrets + headers.map(\.value) + call.extraHeaders.map(\.value)
    }

    private func invokeRequest(_ body: JSON, call: EmbeddingsCall) -> HTTPRequest {
        var request = HTTPRequest(method: .post, url: endpoint.invokeURL(modelID: call.modelID),
                                  headers: [("Content-Type", "application/json"), ("Accept", "application/json")] + headers,
                                  body: body.serializedBytes())
        request.add(extraHeaders: call.extraHeaders, extraQuery: call.extraQuery)
        return endpoint.signer.sign(request, now: now())
    }

    private func parse(_ bytes: [UInt8]) throws(ModelsError) -> JSON {
        do { return try JSON.parse(bytes) } catch {
            throw ModelsError(.protocol, "\(name) answered with invalid JSON: \(error.message)")
        }
    }

    private static func wantsBase64(_ call: EmbeddingsCall) -> Bool { call.request.json["encoding_format"]?.string == "base64" }

    /// The `X-Amzn-Bedrock-Input-Token-Count` header: 0 when absent or not a number of at most 18 digits.
    static func tokens(_ head: HTTPResponseHead) -> Int64 {
        guard let text = head.bedrockInputTokens, (1...18).contains(text.utf8.count),
              text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return 0 }
        return Int64(text) ?? 0
    }

    private static func adding(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}
