// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

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

/// Every chunk names the model the way the answer does: its top-level "model"
/// becomes the full routed name, spliced into the provider's bytes.
@Suite struct ChunkModelNameTests {
    /// The texts `inspector` delivers for `chunks` (pull mode, or push with a thinking callback).
    static func renamed(_ chunks: [String], model: String, wantsThinking: Bool = false) -> [String] {
        var inspector = ChunkInspector(source: "p", model: model)
        var pushed: [String] = []
        let outlet = wantsThinking
            ? ChunkOutlet(push: { bytes in
                // The NUL the C API relies on follows every chunk.
                #expect(bytes.baseAddress!.load(fromByteOffset: bytes.count, as: UInt8.self) == 0)
                pushed.append(String(decoding: bytes, as: UTF8.self))
                return true
            }, onThinking: { _ in })
            : ChunkOutlet()
        #expect(ChunkInspectorTests.deliver(chunks, inspector: &inspector, outlet: outlet) == nil)
        var out = pushed
        while let chunk = outlet.popQueued() { out.append(String(decoding: chunk, as: UTF8.self)) }
        return out
    }

    static func model(of text: String) -> JSON? { (try? JSON.parse(text))?["model"] }

    @Test func replacesTheModelKeepingEveryOtherByte() {
        for thinking in [false, true] {
            #expect(Self.renamed([#"{"id":"c", "model" : "gpt-4o" ,"choices":[{"delta":{"model":"inner"}}]}"#],
                                 model: "openai/gpt-4o", wantsThinking: thinking)
                    == [#"{"id":"c", "model" : "openai/gpt-4o" ,"choices":[{"delta":{"model":"inner"}}]}"#])
            // First and last member, and the usage chunk (its usage still read).
            #expect(Self.renamed([#"{"model":"x","choices":[]}"#, #"{"choices":[],"usage":{"prompt_tokens":1},"model":"x"}"#],
                                 model: "a/b", wantsThinking: thinking)
                    == [#"{"model":"a/b","choices":[]}"#, #"{"choices":[],"usage":{"prompt_tokens":1},"model":"a/b"}"#])
        }
    }

    @Test func readsTheUsageOfARenamedChunk() {
        var inspector = ChunkInspector(source: "p", model: "a/b")
        #expect(ChunkInspectorTests.deliver([#"{"model":"m","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2}}"#],
                                            inspector: &inspector) == nil)
        #expect(inspector.usage == (4, 2))
    }

    /// The openai SDK's ChatCompletionChunk requires "model": a chunk without one gets it.
    @Test func addsAModelWhenThereIsNone() {
        #expect(Self.renamed([#"{"choices":[]}"#, "{}", "{ }", " \n{\"a\":1} "], model: "p/m")
                == [#"{"model":"p/m","choices":[]}"#, #"{"model":"p/m"}"#, #"{"model":"p/m" }"#, " \n{\"model\":\"p/m\",\"a\":1} "])
    }

    @Test func replacesAModelThatIsNotAString() {
        for value in ["null", "5", "true", #"{"name":"x"}"#, #"["a"]"#, #""""#] {
            #expect(Self.renamed(["{\"model\":\(value),\"choices\":[]}"], model: "p/m") == [#"{"model":"p/m","choices":[]}"#])
        }
    }

    @Test func escapesTheName() {
        for name in ["a/we\"ird\\name", "p/modèle-é", "p/tab\u{7f}", "p/😀"] {
            for chunk in [#"{"model":"m","choices":[]}"#, #"{"choices":[]}"#] {
                let out = Self.renamed([chunk], model: name)
                #expect(out.count == 1 && Self.model(of: out[0])?.string == name, "\(name) \(out)")
            }
        }
        #expect(Self.renamed([#"{"model":"m"}"#], model: "a/\"q\"") == [#"{"model":"a/\"q\""}"#])
    }

    @Test func passesAChunkThatAlreadyHasTheNameAsItIs() {
        #expect(Self.renamed([#"{"model" : "openai/gpt-4o"}"#], model: "openai/gpt-4o") == [#"{"model" : "openai/gpt-4o"}"#])
        // The same name spelled with an escaped slash is not the same bytes: spliced, and the same value.
        #expect(Self.renamed([#"{"model":"openai\/gpt-4o"}"#], model: "openai/gpt-4o") == [#"{"model":"openai/gpt-4o"}"#])
    }

    /// A repeated "model", or one spelled with escapes, is not left behind for a parser to keep.
    @Test func rewritesChunksTheSpliceCannotRename() {
        for chunk in [#"{"model":"a","choices":[],"model":"b"}"#, #"{"mod\u0065l":"a","choices":[]}"#,
                      #"{"model":"a","mod\u0065l":"b","choices":[]}"#, #"{"usage":null,"usage":{"prompt_tokens":3}}"#] {
            for thinking in [false, true] {
                let out = Self.renamed([chunk], model: "p/m", wantsThinking: thinking)
                #expect(out.count == 1, "\(chunk)")
                guard let text = out.first else { continue }
                #expect(Self.model(of: text)?.string == "p/m", "\(text)")
                #expect(text.components(separatedBy: "model").count == 2, "\(text)") // one "model" member
            }
        }
    }

    @Test func leavesChunksAsTheyAreWithoutAName() {
        var inspector = ChunkInspector(source: "p")
        let outlet = ChunkOutlet()
        #expect(ChunkInspectorTests.deliver([#"{"model":"gpt-4o"}"#, "{}"], inspector: &inspector, outlet: outlet) == nil)
        #expect(outlet.popQueued().map { String(decoding: $0, as: UTF8.self) } == #"{"model":"gpt-4o"}"#)
        #expect(outlet.popQueued().map { String(decoding: $0, as: UTF8.self) } == "{}")
    }

    /// Chunks split across reads at every position come out renamed all the same
    /// (the SSE parser hands the inspector whole events).
    @Test func renamesChunksSplitAnywhereAcrossReads() throws {
        let events = [#"{"id":"c","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant"}}]}"#,
                      #"{"choices":[{"index":0,"delta":{"content":"h\u00e9 \"x\""}}],"model":"gpt-4o"}"#,
                      #"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#]
        let body = Array(events.map { "data: \($0)\r\n\r\n" }.joined().utf8)
        let expected = [#"{"id":"c","model":"openai/gpt-4o","choices":[{"index":0,"delta":{"role":"assistant"}}]}"#,
                        #"{"choices":[{"index":0,"delta":{"content":"h\u00e9 \"x\""}}],"model":"openai/gpt-4o"}"#,
                        #"{"model":"openai/gpt-4o","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#]
        for split in 0...body.count {
            var parser = SSEParser()
            var inspector = ChunkInspector(source: "p", model: "openai/gpt-4o")
            let outlet = ChunkOutlet()
            var out: [String] = []
            for part in [body[..<split], body[split...]] {
                try Array(part).withUnsafeBytes { bytes in
                    Result { () throws(ModelsError) in
                        try parser.feed(bytes) { event throws(ModelsError) in try inspector.deliver(event.data, to: outlet) }
                    }
                }.get()
                while let chunk = outlet.popQueued() { out.append(String(decoding: chunk, as: UTF8.self)) }
            }
            #expect(out == expected, "split at \(split)")
            #expect(inspector.usage == (1, 2))
        }
    }
}
