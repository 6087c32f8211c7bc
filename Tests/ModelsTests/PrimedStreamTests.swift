// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// A provider stream that delivers scripted steps: chunks (and thinking) per
/// pump, then the end or an error.
private final class ScriptedStream: ProviderStream {
    enum Step { case chunks([String]), thinking(String), fail(ModelsError) }
    var steps: [Step]
    var closed = 0
    init(_ steps: [Step]) { self.steps = steps }

    func pump(_ outlet: ChunkOutlet) throws(ModelsError) -> Bool {
        guard !steps.isEmpty else { return false }
        switch steps.removeFirst() {
        case .chunks(let chunks):
            for chunk in chunks { try outlet.chunk(json: try! JSON.parse(Array(chunk.utf8))) }
        case .thinking(let text): outlet.thinking(text)
        case .fail(let error): throw error
        }
        return true
    }
    var usage: (input: Int64, output: Int64) { (0, 0) }
    func close() { closed += 1 }
}

private let role = #"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#
private let word = #"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#
private let reset = ModelsError(.transport, "reset", isTransient: true)

/// Everything the primed stream delivers, in order ("T:" marks thinking).
private func drain(_ stream: PrimedStream) -> (items: [String], error: ModelsError?) {
    var items: [String] = []
    let outlet = ChunkOutlet(push: { bytes in
        items.append(String(decoding: bytes, as: UTF8.self))
        return true
    }, onThinking: { text in items.append("T:" + String(decoding: text, as: UTF8.self)) })
    do {
        while try stream.pump(outlet) {}
    } catch {
        return (items, error)
    }
    return (items, nil)
}

@Suite struct PrimedStreamTests {
    @Test func chunksThatCarryTheAnswer() {
        func carries(_ s: String) -> Bool { Array(s.utf8).withUnsafeBytes { ChunkDelta.carriesAnswer($0) } }
        #expect(!carries(role))
        #expect(!carries(#"{"choices":[{"index":0,"delta":{}}]}"#))
        #expect(!carries(#"{"choices":[],"usage":{"prompt_tokens":1}}"#))
        #expect(!carries(#"{"choices":[{"index":0,"delta":{"content":null},"finish_reason":null}]}"#))
        #expect(carries(word))
        #expect(carries(#"{"choices":[{"index":0,"delta":{"reasoning_content":"hm"}}]}"#))
        #expect(carries(#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","function":{"name":"f"}}]}}]}"#))
        #expect(carries(#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#))
        #expect(!carries("not json"))
    }

    @Test func heldChunksComeFirstInOrder() throws {
        let source = ScriptedStream([.chunks([role]), .chunks([word, word])])
        let primed = try PrimedStream(priming: source)
        let (items, error) = drain(primed)
        #expect(error == nil)
        #expect(items.count == 3 && items[0].contains("assistant") && items[2].contains("Hi"))
    }

    @Test func failureBeforeTheFirstWordIsThrownByPrimingAndClosesTheStream() {
        let source = ScriptedStream([.chunks([role]), .fail(reset)])
        #expect(throws: reset) { try PrimedStream(priming: source) }
        #expect(source.closed >= 1)
    }

    @Test func failureAfterTheFirstWordReachesTheCallerAfterWhatCameBefore() throws {
        let source = ScriptedStream([.chunks([role, word]), .fail(reset)])
        let primed = try PrimedStream(priming: source)
        let (items, error) = drain(primed)
        #expect(items.count == 2)
        #expect(error == reset)
    }

    @Test func thinkingCountsAsTheFirstWordAndKeepsItsPlace() throws {
        let source = ScriptedStream([.chunks([role]), .thinking("hmm"), .chunks([word])])
        let primed = try PrimedStream(priming: source)
        let (items, _) = drain(primed)
        #expect(items.count == 3 && items[1] == "T:hmm")
    }

    @Test func aStreamThatEndsWithoutAWordEndsCleanly() throws {
        let source = ScriptedStream([.chunks([role])])
        let primed = try PrimedStream(priming: source)
        let (items, error) = drain(primed)
        #expect(items.count == 1 && error == nil)
    }

    @Test func holdingIsBounded() throws {
        let many = Array(repeating: role, count: 20_000)  // ~1.3 MB of role chunks
        let source = ScriptedStream([.chunks(many), .chunks(many), .fail(reset)])
        let primed = try PrimedStream(priming: source)
        let (items, error) = drain(primed)
        #expect(items.count == 40_000)
        #expect(error == reset)
    }
}
