// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// An OpenAI-compatible event stream: each `data:` event is one
/// `chat.completion.chunk`, passed on byte for byte once `ChunkInspector` has
/// checked it and set its `"model"` to the routed name. `data: [DONE]` ends
/// it; a body that ends before is an error, and so is an `event: error` (some
/// servers name their error events so).
final class OpenAIStream: ProviderStream {
    private let transfer: HTTPTransfer
    private let decoder: OpenAIStreamDecoder

    /// `model`: the full routed name (`openai/gpt-4o`) every chunk carries.
    init(transfer: HTTPTransfer, provider: String, model: String, secrets: [String], contentFilterIsRefusal: Bool = false) {
        self.transfer = transfer
        decoder = OpenAIStreamDecoder(provider: provider, secrets: secrets, model: model,
                                      contentFilterIsRefusal: contentFilterIsRefusal)
    }

    deinit { transfer.close() }

    var usage: (input: Int64, output: Int64) { decoder.usage }

    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        guard !decoder.finished else { return false }
        let more = try transfer.pump { bytes throws(ModelsError) in
            try self.decoder.feed(bytes, to: outlet, onEvent: self.transfer.noteEvent)
        }
        if decoder.finished {
            transfer.finishQuietly()
            return false
        }
        if !more { throw decoder.endedEarly }
        return true
    }

    func close() { transfer.close() }

    func pauseAfterThisRead() { transfer.pauseAfterThisRead() }
}

/// The event stream of an OpenAI-compatible provider, as bytes come: events
/// parsed, chunks checked and passed on (see `OpenAIStream`).
final class OpenAIStreamDecoder: StreamDecoder {
    private let provider: String
    private var parser = SSEParser()
    private var inspector: ChunkInspector
    private(set) var finished = false
    /// Azure: a chunk whose choice ends with `finish_reason: "content_filter"`
    /// ends the stream with a `content_policy` error instead of being passed on.
    private let contentFilterIsRefusal: Bool

    /// `model`: the full routed name every chunk carries.
    init(provider: String, secrets: [String], model: String, contentFilterIsRefusal: Bool = false) {
        self.provider = provider
        self.contentFilterIsRefusal = contentFilterIsRefusal
        inspector = ChunkInspector(source: provider, secrets: secrets, model: model)
    }

    var usage: (input: Int64, output: Int64) { inspector.usage }

    var endedEarly: ModelsError { ModelsError(.protocol, "stream from \(provider) ended before completion (no [DONE])") }

    func feed(_ bytes: UnsafeRawBufferPointer, to outlet: ChunkOutlet, onEvent: () -> Void) throws(ModelsError) {
        try parser.feed(bytes) { event throws(ModelsError) in
            guard !self.finished else { return }
            onEvent()
            if event.typeEquals("error") { throw self.inspector.errorEvent(event.data) }
            if event.dataEquals("[DONE]") {
                self.finished = true
                return
            }
            if self.contentFilterIsRefusal, let refusal = AzureContentFilter.refusal(inChunk: event.data, provider: self.provider) {
                throw refusal
            }
            try self.inspector.deliver(event.data, to: outlet)
        }
    }
}
