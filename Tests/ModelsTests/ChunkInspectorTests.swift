import Testing
@testable import Models

/// `ChunkInspector` checks chunks with `JSONScanner` and calls jansson only for
/// the rare members it must read: its answers must be those of a full parse.
@Suite struct ChunkInspectorTests {
    /// Delivers `texts` in order to a pull outlet; the error of the first refused one, if any.
    static func deliver(_ texts: [String], inspector: inout ChunkInspector, outlet: ChunkOutlet = ChunkOutlet()) -> ModelsError? {
        for text in texts {
            var bytes = Array(text.utf8)
            bytes.append(0)
            let error = bytes.withUnsafeBytes { buf -> ModelsError? in
                do {
                    try inspector.deliver(UnsafeRawBufferPointer(rebasing: buf.dropLast()), to: outlet)
                    return nil
                } catch {
                    return error as? ModelsError
                }
            }
            if let error { return error }
        }
        return nil
    }

    @Test func passesChunksOnUnchanged() {
        var inspector = ChunkInspector(source: "p")
        let outlet = ChunkOutlet()
        let chunk = #"{"choices":[{"delta":{"content":"h\u00e9"}}]}"#
        #expect(Self.deliver([chunk], inspector: &inspector, outlet: outlet) == nil)
        let queued = outlet.popQueued()
        #expect(queued.map { String(decoding: $0, as: UTF8.self) } == chunk)
    }

    @Test func readsTheUsageAndKeepsTheLastValues() {
        var inspector = ChunkInspector(source: "p")
        let chunks = [#"{"usage":{"prompt_tokens":12,"completion_tokens":3}}"#, #"{"usage":null}"#,
                      #"{"usage":{"completion_tokens":7,"prompt_tokens":1.5}}"#, #"{"usage":[1]}"#]
        #expect(Self.deliver(chunks, inspector: &inspector) == nil)
        #expect(inspector.usage == (12, 7))
    }

    @Test func refusesWhatIsNotAJSONObject() {
        for (text, reason) in [("{", "not valid JSON"), ("1", "not valid JSON"), (#""s""#, "not valid JSON"),
                               ("[]", "not a JSON object"), (#"{"a":"\ud800"}"#, "not valid JSON"), ("{\"a\":\"\u{1}\"}", "not valid JSON")] {
            var inspector = ChunkInspector(source: "p")
            let error = Self.deliver([text], inspector: &inspector)
            #expect(error?.code == .protocol && error?.message == "stream from p sent a chunk that is \(reason)", "\(text)")
        }
    }

    @Test func reportsAnErrorMemberEvenWhenItsKeyIsEscaped() {
        for text in [#"{"error":{"message":"slow down","code":429}}"#, #"{"\u0065rror":{"message":"slow down","code":429}}"#] {
            var inspector = ChunkInspector(source: "p")
            let error = Self.deliver([text], inspector: &inspector)
            #expect(error?.code == .api && error?.status == 429 && error?.message == "p reported an error in the stream: slow down")
        }
    }

    @Test func readsAUsageKeySpelledWithEscapes() {
        var inspector = ChunkInspector(source: "p")
        #expect(Self.deliver([#"{"us\u0061ge":{"prompt_tokens":2,"completion_tokens":5}}"#], inspector: &inspector) == nil)
        #expect(inspector.usage == (2, 5))
    }

    @Test func reportsReasoningOnlyWhenAsked() {
        var thinking: [String] = []
        let outlet = ChunkOutlet(push: { _ in true }, onThinking: { thinking.append(String(decoding: $0, as: UTF8.self)) })
        var inspector = ChunkInspector(source: "p")
        #expect(Self.deliver([#"{"choices":[{"delta":{"reasoning_content":"hmm"}}]}"#, #"{"choices":[{"delta":{"reasoning":"so"}}]}"#],
                             inspector: &inspector, outlet: outlet) == nil)
        #expect(thinking == ["hmm", "so"])
    }
}
