// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// A provider whose work is done by functions the embedding program supplies
/// (the C API's providers): the router routes, retries, falls back and cools
/// down for it exactly as for a built-in provider. The functions speak the
/// OpenAI shape; this type checks what they return.
public final class CallbackProvider: ChatProvider, @unchecked Sendable {
    /// One open stream of the embedding program's.
    public struct Stream {
        /// The next chunk (NUL-terminated JSON bytes, valid until the next call), or nil at the end.
        public var next: () throws(ModelsError) -> UnsafeRawBufferPointer?
        public var close: () -> Void

        public init(next: @escaping () throws(ModelsError) -> UnsafeRawBufferPointer?, close: @escaping () -> Void) {
            self.next = next
            self.close = close
        }
    }

    public let name: String
    private let chatFunction: (ChatCall) throws(ModelsError) -> String
    private let streamFunction: ((ChatCall) throws(ModelsError) -> Stream)?
    private let onRelease: () -> Void

    /// `stream` may be nil: streams are then refused with an error naming the provider.
    /// `onRelease` runs once, when the router no longer holds the provider.
    public init(name: String, chat: @escaping (ChatCall) throws(ModelsError) -> String,
                stream: ((ChatCall) throws(ModelsError) -> Stream)?, onRelease: @escaping () -> Void) {
        self.name = name
        chatFunction = chat
        streamFunction = stream
        self.onRelease = onRelease
    }

    deinit { onRelease() }

    public func chat(_ call: ChatCall) throws(ModelsError) -> ChatAnswer {
        try call.cancellation?.checkCancelled()
        let text = try chatFunction(call)
        let json: JSON
        do { json = try JSON.parse(text) } catch {
            throw ModelsError(.protocol, "provider \(name) returned invalid JSON: \(error.message)")
        }
        guard json.kind == .object, json["choices"]?.kind == .array else {
            throw ModelsError(.protocol, "provider \(name) returned JSON that is not a chat.completion object")
        }
        return ChatAnswer(json: json)
    }

    public func openStream(_ call: ChatCall) throws(ModelsError) -> any ProviderStream {
        try call.cancellation?.checkCancelled()
        // Not the caller's fault and not transient: the router moves on to a fallback that streams.
        guard let streamFunction else { throw ModelsError(.noProvider, "provider \(name) does not stream") }
        return CallbackStream(try streamFunction(call), provider: self, model: call.model, cancellation: call.cancellation)
    }
}

private final class CallbackStream: ProviderStream {
    private let stream: CallbackProvider.Stream
    /// Held so the provider's destroy callback runs only after its last stream
    /// is closed, even when the router that registered it is freed first.
    private let provider: CallbackProvider
    private var inspector: ChunkInspector
    private let cancellation: Cancellation?
    private var closed = false

    /// `model`: the full routed name every chunk carries, whatever the callback put there.
    init(_ stream: CallbackProvider.Stream, provider: CallbackProvider, model: String, cancellation: Cancellation?) {
        self.stream = stream
        self.provider = provider
        self.cancellation = cancellation
        inspector = ChunkInspector(source: "provider \(provider.name)", model: model)
    }

    deinit { close() }

    var usage: (input: Int64, output: Int64) { inspector.usage }

    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        guard !closed else { return false }
        try cancellation?.checkCancelled()
        guard let chunk = try stream.next() else { return false }
        try inspector.deliver(chunk, to: outlet)
        return true
    }

    func close() {
        guard !closed else { return }
        closed = true
        stream.close()
    }
}
