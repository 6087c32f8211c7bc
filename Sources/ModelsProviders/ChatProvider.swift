// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// One attempt at one model, as the router hands it to a provider.
public struct ChatCall: @unchecked Sendable {
    /// The caller's request in the OpenAI shape, untouched.
    public var request: ChatRequest
    /// The full model name (`openai/gpt-4o`), reported back as the answering model.
    public var model: String
    /// What the provider receives as `model` (`gpt-4o`).
    public var modelID: String
    public var limits: TransferLimits
    public var cancellation: Cancellation?
    /// The call's extra headers and query parameters (see `CallOptions`), for
    /// providers that speak HTTP to add with `HTTPRequest.add(extrasOf:)`.
    public var extraHeaders: [(name: String, value: String)] = []
    public var extraQuery = ""

    public init(request: ChatRequest, model: String, modelID: String? = nil, limits: TransferLimits, cancellation: Cancellation?) {
        self.request = request
        self.model = model
        self.modelID = modelID ?? ModelName.modelID(model)
        self.limits = limits
        self.cancellation = cancellation
    }
}

/// A chat backend: the counterpart of the Go package's `Provider`.
public protocol ChatProvider: AnyObject, Sendable {
    var name: String { get }
    /// A complete answer in the `chat.completion` shape.
    func chat(_ call: ChatCall) throws(ModelsError) -> ChatAnswer
    /// A stream that is open: the provider accepted the request (HTTP 2xx) and
    /// its chunks can be read. Errors before that point are thrown here, so the
    /// router can still retry or fall back.
    func openStream(_ call: ChatCall) throws(ModelsError) -> any ProviderStream
    /// An embeddings answer (`{"object": "list", "data": [...]}`). The default
    /// (Embeddings/EmbeddingsCall.swift) says the provider has none.
    func embed(_ call: EmbeddingsCall) throws(ModelsError) -> ChatAnswer
}

/// An open stream of `chat.completion.chunk` objects.
public protocol ProviderStream: AnyObject {
    /// Reads more of the stream and hands the chunks it completes to `outlet`.
    /// Returns false once the stream has ended cleanly; throws when it failed.
    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool
    /// Tokens reported so far: prompt (input) and completion (output).
    var usage: (input: Int64, output: Int64) { get }
    /// Stops reading; the connection is closed unless the stream had ended.
    func close()
    /// Asks the stream to stop at the end of the read in progress: the next
    /// `pump` goes on from there. Streams that read nothing themselves ignore it.
    func pauseAfterThisRead()
}

extension ProviderStream {
    public func pauseAfterThisRead() {}
}
