// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

/// An open chat stream as the caller sees it: chunks pulled one at a time
/// (`next`) or pushed to a callback (`pumpAll`), the usage, and the model that
/// answered. Used from one thread at a time; `cancellation` may be triggered
/// from any thread.
public final class ChatStream {
    /// The model that answered (a resumed stream: the first part's; see `resumed`).
    public let model: String
    private let stream: any ProviderStream
    /// Set when the stream resumes after breaks (`stream_recovery: "resume"`).
    private let resuming: ResumingStream?
    private let queue = ChunkOutlet()
    private var ended = false
    private var failure: ModelsError?

    /// The most text `collect` joins.
    private let maxCollectBytes: Int

    /// Told once, when the stream is over, the tokens it used.
    private var onEnd: Router.CallEnd?

    init(stream: any ProviderStream, model: String, maxCollectBytes: Int = 10 << 20, onEnd: Router.CallEnd? = nil,
         resuming: ResumingStream? = nil) {
        self.stream = stream
        self.resuming = resuming
        self.model = model
        self.maxCollectBytes = maxCollectBytes
        self.onEnd = onEnd
    }

    deinit { finish() }

    /// The stream is over (ended, failed or closed): closes it and reports its end once.
    private func finish() {
        stream.close()
        reportEnd()
    }

    private func reportEnd() {
        guard let onEnd = onEnd ?? resuming?.takeEnd() else { return }
        self.onEnd = nil
        let used = stream.usage
        onEnd(usage: TokenUsage(input: used.input, output: used.output), atHand: true, error: failure)
    }

    public var usage: (input: Int64, output: Int64) { stream.usage }

    /// How often the stream was resumed, and `{"count", "parts"}` (which
    /// models answered which part); nil when it was not.
    public var resumed: (count: Int, summary: String)? {
        guard let state = resuming?.state, state.resumes > 0 else { return nil }
        return (state.resumes, state.summary.serialized())
    }

    /// Where thinking text goes in pull mode.
    public var onThinking: ChunkOutlet.Thinking? {
        get { queue.onThinking }
        set { queue.onThinking = newValue }
    }

    /// The next chunk (NUL-terminated JSON bytes, valid until the next call), or
    /// nil at the end. After a failure every call throws the same error. The
    /// connection is closed as soon as the transfer is over; the end is
    /// reported (events, metrics) once the caller has had the last chunk.
    public func next() throws(ModelsError) -> UnsafeRawBufferPointer? {
        while true {
            if let chunk = queue.popQueued() { return chunk }
            if let failure {
                finish()
                throw failure
            }
            if ended {
                finish()
                return nil
            }
            do {
                if try !stream.pump(queue) {
                    ended = true
                    stream.close()
                }
            } catch {
                failure = error
                stream.close()
            }
        }
    }

    /// Delivers every remaining chunk to `outlet` (push mode).
    public func pumpAll(_ outlet: ChunkOutlet) throws(ModelsError) {
        if let failure { throw failure }
        defer { finish() }
        do {
            while try stream.pump(outlet) {}
            ended = true
        } catch {
            failure = error
            throw error
        }
    }

    /// Reads the rest of the stream and returns the text of its `delta.content`
    /// pieces joined (the counterpart of the Go package's `StreamAll`). A text
    /// over `maxCollectBytes` ends the stream with a protocol error, as a
    /// non-streaming answer over the same limit does.
    public func collect() throws(ModelsError) -> String {
        var text = ""
        while let chunk = try next() {
            guard let json = try? JSON.parse(chunk), let choices = json["choices"]?.array else { continue }
            for choice in choices where (choice["index"]?.int ?? 0) == 0 {
                guard let piece = choice["delta"]?["content"]?.string else { continue }
                guard piece.utf8.count <= maxCollectBytes - text.utf8.count else {
                    let error = ModelsError(.protocol, "the streamed answer of \(model) is larger than max_response_bytes (\(maxCollectBytes) bytes)")
                    failure = error
                    finish()
                    throw error
                }
                text += piece
            }
        }
        return text
    }

    public func close() { finish() }
}
