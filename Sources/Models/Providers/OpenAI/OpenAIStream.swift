/// An OpenAI-compatible event stream: each `data:` event is one
/// `chat.completion.chunk`, passed on byte for byte once `ChunkInspector` has
/// checked it and set its `"model"` to the routed name. `data: [DONE]` ends
/// it; a body that ends before is an error, and so is an `event: error` (some
/// servers name their error events so).
final class OpenAIStream: ProviderStream {
    private let transfer: HTTPTransfer
    private let provider: String
    private var parser = SSEParser()
    private var inspector: ChunkInspector
    private var finished = false

    /// `model`: the full routed name (`openai/gpt-4o`) every chunk carries.
    init(transfer: HTTPTransfer, provider: String, model: String, secrets: [String]) {
        self.transfer = transfer
        self.provider = provider
        inspector = ChunkInspector(source: provider, secrets: secrets, model: model)
    }

    deinit { transfer.close() }

    var usage: (input: Int64, output: Int64) { inspector.usage }

    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        guard !finished else { return false }
        let more = try transfer.pump { bytes throws(ModelsError) in
            try self.parser.feed(bytes) { event throws(ModelsError) in
                guard !self.finished else { return }
                self.transfer.noteEvent()
                if event.typeEquals("error") { throw self.inspector.errorEvent(event.data) }
                if event.dataEquals("[DONE]") {
                    self.finished = true
                    return
                }
                try self.inspector.deliver(event.data, to: outlet)
            }
        }
        if finished {
            transfer.finishQuietly()
            return false
        }
        if !more { throw ModelsError(.protocol, "stream from \(provider) ended before completion (no [DONE])") }
        return true
    }

    func close() { transfer.close() }

    func pauseAfterThisRead() { transfer.pauseAfterThisRead() }
}
