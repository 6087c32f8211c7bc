// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

/// A provider stream read up to its first word: the chunks before the first
/// one that carries part of the answer (a role-only chunk, empty deltas) and
/// any thinking are held back, so that a stream failing before then is a
/// failed attempt the router can retry or fall back from, invisibly to the
/// caller. Once primed, the held chunks are delivered first, in order, then
/// the rest of the stream as it comes.
final class PrimedStream: ProviderStream {
    /// The most bytes held back; a stream that sends more before its first
    /// word is delivered as it is (no fallback after that point).
    static let maxHeldBytes = 1 << 20

    private let stream: any ProviderStream
    /// What came before the first word, and in the same reads as it, in order:
    /// all in one buffer (a read can bring thousands of small chunks).
    private var heldBytes: [UInt8] = []
    /// Each held piece: where it lies in `heldBytes` (chunks with their NUL),
    /// and whether it is thinking text rather than a chunk.
    private var heldPieces: [(start: Int, count: Int, isThinking: Bool)] = []
    /// The stream ended (cleanly) while it was being primed.
    private var endedWhilePriming = false
    /// The stream failed in the same read that brought its first word: the
    /// caller gets the error after the chunks that came before it.
    private var failureAfterHeld: ModelsError?

    /// Reads `stream` until a chunk carries part of the answer, thinking
    /// arrives, the stream ends or `maxHeldBytes` are held. Throws the
    /// stream's error (after closing it) when it fails before then.
    init(priming stream: any ProviderStream) throws(ModelsError) {
        self.stream = stream
        var answered = false
        // Once the first word is in, the stream stops at the end of the read in
        // progress, so that no more than that read is held.
        let holder = ChunkOutlet(push: { [unowned self] bytes in
            if !answered && ChunkDelta.carriesAnswer(bytes) {
                answered = true
                stream.pauseAfterThisRead()
            }
            self.hold(bytes, isThinking: false)
            return true
        }, onThinking: { [unowned self] text in
            if !answered { stream.pauseAfterThisRead() }
            answered = true
            self.hold(text, isThinking: true)
        })
        do {
            while !answered && heldBytes.count <= Self.maxHeldBytes {
                guard try stream.pump(holder) else {
                    endedWhilePriming = true
                    break
                }
            }
        } catch {
            stream.close()
            guard answered else { throw error }
            failureAfterHeld = error
        }
    }

    deinit { stream.close() }

    private func hold(_ bytes: UnsafeRawBufferPointer, isThinking: Bool) {
        heldPieces.append((heldBytes.count, bytes.count, isThinking))
        heldBytes.append(contentsOf: bytes)
        if !isThinking { heldBytes.append(0) }
    }

    var usage: (input: Int64, output: Int64) { stream.usage }

    /// The held pieces not delivered yet start here.
    private var nextHeld = 0
    /// Held pieces delivered per pump: a read can bring thousands, and the pull
    /// API's queue should not hold a second copy of them all.
    static let replayBytesPerPump = 64 << 10

    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        if nextHeld < heldPieces.count {
            let first = nextHeld
            var end = first, bytes = 0
            while end < heldPieces.count && (end == first || bytes < Self.replayBytesPerPump) {
                bytes += heldPieces[end].count
                end += 1
            }
            nextHeld = end
            try heldBytes.withUnsafeBytes { all in
                Result { () throws(ModelsError) in
                    for piece in heldPieces[first..<end] {
                        let slice = UnsafeRawBufferPointer(rebasing: all[piece.start..<piece.start + piece.count])
                        if piece.isThinking { outlet.thinking(slice) } else { try outlet.chunk(slice) }
                    }
                }
            }.get()
            if nextHeld == heldPieces.count {
                heldPieces = []
                heldBytes = []
                nextHeld = 0
            }
            return true
        }
        if let failure = failureAfterHeld { throw failure }
        if endedWhilePriming { return false }
        return try stream.pump(outlet)
    }

    func close() { stream.close() }
}
