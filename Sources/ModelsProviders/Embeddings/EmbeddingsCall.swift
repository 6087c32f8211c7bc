// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport
/// One attempt of an embeddings call at one model, as the router hands it to a provider.
public struct EmbeddingsCall: @unchecked Sendable { // as ChatCall: its request holds an unchanged tree
    /// The caller's request in the OpenAI shape, untouched.
    public var request: EmbeddingsRequest
    /// The full model name (`openai/text-embedding-3-small`), reported back as the answering model.
    public var model: String
    /// What the provider receives as `model` (`text-embedding-3-small`).
    public var modelID: String
    public var limits: TransferLimits
    public var cancellation: Cancellation?
    /// The call's extra headers and query parameters (see `CallOptions`).
    public var extraHeaders: [(name: String, value: String)] = []
    public var extraQuery = ""

    public init(request: EmbeddingsRequest, model: String, modelID: String? = nil, limits: TransferLimits,
                cancellation: Cancellation?) {
        self.request = request
        self.model = model
        self.modelID = modelID ?? ModelName.modelID(model)
        self.limits = limits
        self.cancellation = cancellation
    }
}

/// The embeddings of providers that have none: a clear error, which ends the
/// call (it is not worth a retry or a fallback). A provider with an embeddings
/// API implements `embed` (and, to run on an engine without a thread,
/// `embeddingsExchange`).
extension ChatProvider {
    public func embed(_ call: EmbeddingsCall) throws(ModelsError) -> ChatAnswer {
        throw Embeddings.unsupported(provider: name, model: call.model)
    }
}

extension ExchangeProvider {
    /// nil: the engine runs the provider's blocking `embed` on a worker thread.
    public func embeddingsExchange(_ call: EmbeddingsCall) throws(ModelsError) -> ChatExchange? { nil }
}

public enum Embeddings {
    /// The error for a provider that has no embeddings API.
    public static func unsupported(provider: String, model: String) -> ModelsError {
        .invalidArgument("provider \"\(provider)\" has no embeddings API (model \"\(model)\")")
    }
}
