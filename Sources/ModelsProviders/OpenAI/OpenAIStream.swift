// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// The event stream of an OpenAI-compatible provider, as bytes come: each
/// `data:` event is one `chat.completion.chunk`, passed on byte for byte once
/// `ChunkInspector` has checked it and set its `"model"` to the routed name.
/// `data: [DONE]` ends it; a body that ends before is an error, and so is an
/// `event: error` (some servers name their error events so).
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
