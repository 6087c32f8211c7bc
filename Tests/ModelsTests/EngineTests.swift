// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// The engine's timer heap: entries come out earliest first, and only once due.
@Suite struct TimerHeapTests {
    @Test func entriesComeOutInTimeOrderOnceDue() {
        var heap = TimerHeap()
        var random = SplitMix64(state: 15)
        var times: [Int64] = []
        for id in 0..<500 {
            let at = Int64(random.below(10_000))
            times.append(at)
            heap.push(.init(atMs: at, id: UInt64(id)))
        }
        #expect(heap.count == 500)
        #expect(heap.popDue(nowMs: times.min()! - 1) == nil)
        var out: [Int64] = []
        while let e = heap.popDue(nowMs: 5_000) { out.append(e.atMs) }
        #expect(out == times.filter { $0 <= 5_000 }.sorted())
        #expect(heap.first.map { $0.atMs > 5_000 } ?? true)
        while let e = heap.popDue(nowMs: .max) { out.append(e.atMs) }
        #expect(out == times.sorted())
        #expect(heap.isEmpty)
    }

    @Test func equalTimesAllComeOut() {
        var heap = TimerHeap()
        for id in 0..<10 { heap.push(.init(atMs: 7, id: UInt64(id))) }
        var ids = Set<UInt64>()
        while let e = heap.popDue(nowMs: 7) { ids.insert(e.id) }
        #expect(ids == Set(0..<10))
    }
}

/// The stream decoders the engine feeds: the same chunks whatever the reads.
@Suite struct StreamDecoderTests {
    static let body = """
        data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}

        data: {"choices":[{"index":0,"delta":{"content":"one"}}]}

        : a comment

        data: {"choices":[{"index":0,"delta":{"content":" two"}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}

        data: [DONE]

        data: {"choices":[]}


        """

    static func decode(_ body: String, readSize: Int) throws -> (chunks: [String], events: Int, decoder: OpenAIStreamDecoder) {
        let decoder = OpenAIStreamDecoder(provider: "p", secrets: [], model: "p/m")
        var chunks: [String] = []
        var events = 0
        let outlet = ChunkOutlet(push: { chunks.append(String(decoding: $0, as: UTF8.self)); return true })
        let bytes = Array(body.utf8)
        var i = 0
        while i < bytes.count {
            let piece = Array(bytes[i..<min(bytes.count, i + readSize)])
            try piece.withUnsafeBytes { raw in try decoder.feed(raw, to: outlet, onEvent: { events += 1 }) }
            i += readSize
        }
        return (chunks, events, decoder)
    }

    @Test func readsOfAnySizeGiveTheSameChunks() throws {
        let whole = try Self.decode(Self.body, readSize: 1 << 20)
        #expect(whole.chunks.count == 3)
        #expect(whole.decoder.finished)
        #expect(whole.events == 4) // three chunks and [DONE]; the comment does not count, nor what follows [DONE]
        #expect(whole.decoder.usage == (3, 2))
        for size in [1, 2, 7, 64] {
            let pieces = try Self.decode(Self.body, readSize: size)
            #expect(pieces.chunks == whole.chunks)
            #expect(pieces.decoder.finished)
        }
    }

    @Test func aBodyWithoutDoneIsNotFinished() throws {
        let cut = try Self.decode("data: {\"choices\":[]}\n\n", readSize: 5)
        #expect(!cut.decoder.finished)
        #expect(cut.decoder.endedEarly.code == .protocol)
    }

    @Test func anErrorEventThrows() {
        #expect(throws: ModelsError.self) {
            _ = try Self.decode("event: error\ndata: {\"error\":{\"message\":\"boom\"}}\n\n", readSize: 3)
        }
    }
}
