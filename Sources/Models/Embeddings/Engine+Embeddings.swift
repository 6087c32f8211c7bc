// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders
import ModelsTransport
extension Engine {
    /// Starts an embeddings call; `done` gets the answer or the error, on the
    /// engine's thread, once. Throws (and `done` is never called) for a request
    /// the router refuses before sending anything.
    public func embed(_ request: EmbeddingsRequest, options: CallOptions = CallOptions(), cancellation: Cancellation? = nil,
                      done: @escaping (Result<ChatAnswer, ModelsError>) -> Void) throws(ModelsError) {
        try submit(.embeddings(request), options: options, stream: false, cancellation: cancellation, handlers: EngineCall.Handlers(
            done: { result in done(result.map { $0! }) }))
    }
}
