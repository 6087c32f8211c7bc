// SPDX-License-Identifier: Apache-2.0
/// Where a stream's chunks go: straight to a push callback, or into a queue
/// that the pull API drains one chunk per call.
///
/// A chunk is the bytes of one `chat.completion.chunk` JSON object, always
/// followed in memory by a NUL byte, so C receives it without a copy.
public final class ChunkOutlet {
    /// Receives one chunk; returns false to stop the stream.
    public typealias PushChunk = (UnsafeRawBufferPointer) -> Bool
    /// Receives a piece of the model's thinking (UTF-8, not NUL-terminated).
    public typealias Thinking = (UnsafeRawBufferPointer) -> Void

    private let push: PushChunk?
    private var queue = ByteQueue()
    public var onThinking: Thinking?

    /// Chunks go to `push` as they arrive.
    public init(push: @escaping PushChunk, onThinking: Thinking? = nil) {
        self.push = push
        self.onThinking = onThinking
    }

    /// Chunks wait in a queue for `popQueued`.
    public init() {
        push = nil
    }

    public var wantsThinking: Bool { onThinking != nil }

    /// Delivers a chunk. `bytes` must be followed by a NUL byte in memory.
    package func chunk(_ bytes: UnsafeRawBufferPointer) throws(ModelsError) {
        if let push {
            guard push(bytes) else { throw ModelsError(.cancelled, "stopped by the chunk callback") }
        } else {
            try queue.push(bytes)
        }
    }

    /// Delivers a chunk built as JSON (by a translating provider).
    package func chunk(json: JSON) throws(ModelsError) {
        // Serialised straight to bytes with the NUL the C side expects: no String in between.
        var bytes = json.serializedBytes()
        let count = bytes.count
        bytes.append(0)
        try bytes.withUnsafeBytes { all in
            Result { () throws(ModelsError) in try chunk(UnsafeRawBufferPointer(rebasing: all[..<count])) }
        }.get()
    }

    package func thinking(_ text: UnsafeRawBufferPointer) {
        onThinking?(text)
    }

    package func thinking(_ text: String) {
        guard let onThinking else { return }
        var text = text
        text.withUTF8 { onThinking(UnsafeRawBufferPointer($0)) }
    }

    var hasQueued: Bool { !queue.isEmpty }

    /// The next queued chunk (NUL-terminated), valid until the next call that can
    /// deliver chunks; nil when the queue is empty (and then the queue's memory is reused).
    package func popQueued() -> UnsafeRawBufferPointer? {
        if let chunk = queue.pop() { return chunk }
        queue.clear()
        return nil
    }
}
