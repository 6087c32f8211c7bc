// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders

/// `StreamResume` in isolation: no network, no router.
@Suite struct StreamResumeTests {
    private static let reset = ModelsError(.transport, "connection reset", isTransient: true)

    private static func chunk(_ delta: String, finish: String? = nil) -> String {
        #"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"p/m","choices":[{"index":0,"delta":"#
            + delta + #","finish_reason":"# + (finish.map { "\"\($0)\"" } ?? "null") + "}]}"
    }

    private static func text(_ piece: String) -> String { chunk(#"{"content":"\#(piece)"}"#) }

    /// Feeds `chunk` and returns what the caller gets: the chunk as it is, rewritten, or nothing.
    private static func feed(_ state: inout StreamResume, _ chunk: String) -> String? {
        var bytes = Array(chunk.utf8)
        bytes.append(0)
        let delivery = bytes.withUnsafeBytes { state.filter(UnsafeRawBufferPointer(rebasing: $0[..<(bytes.count - 1)])) }
        switch delivery {
        case .pass: return chunk
        case .drop: return nil
        case .replace(let json): return String(decoding: json, as: UTF8.self)
        }
    }

    /// The `delta.content` of the delivered chunks, joined.
    private static func content(_ chunks: [String]) -> String {
        chunks.compactMap { try? JSON.parse($0) }.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.string }.joined()
    }

    private static let request = try! JSON.parse(#"{"messages":[{"role":"user","content":"hi"}],"stream":true}"#)

    /// A first attempt that delivered `first`, broke, and a second attempt in `form` that sent `second`.
    private static func resume(first: [String], form: StreamResume.Form, second: [String], end: Bool = true)
        -> (text: String, continuation: JSON, state: StreamResume)
    {
        var state = StreamResume()
        state.attemptCommitted(model: "p/a")
        var out: [String] = []
        for piece in first { if let c = feed(&state, text(piece)) { out.append(c) } }
        #expect(state.broke(reset, model: "p/a", usage: (10, 2)) == .resume(reset))
        let continuation = state.continuation(of: request, form: form)
        state.attemptBegan(form: form)
        state.attemptCommitted(model: "p/b")
        for piece in second { if let c = feed(&state, text(piece)) { out.append(c) } }
        if end, let flushed = state.flush() { out.append(String(decoding: flushed, as: UTF8.self)) }
        return (content(out), continuation, state)
    }

    struct OverlapCase: CustomTestStringConvertible, Sendable {
        var delivered: String, next: String, max: Int, min: Int, expected: Int
        var testDescription: String { "\(delivered)|\(next)" }
    }

    @Test(arguments: [
        OverlapCase(delivered: "alpha beta ", next: "alpha beta gamma", max: 512, min: 4, expected: 11),
        OverlapCase(delivered: "alpha beta ", next: "beta gamma", max: 512, min: 4, expected: 5),
        OverlapCase(delivered: "alpha beta ", next: "gamma", max: 512, min: 4, expected: 0),
        OverlapCase(delivered: "data", next: "a b", max: 512, min: 4, expected: 0),       // too short to be a repeat
        OverlapCase(delivered: "ok", next: "ok then", max: 512, min: 4, expected: 2),      // the whole delivered text
        OverlapCase(delivered: "alpha beta ", next: " gamma", max: 1, min: 1, expected: 1),
        OverlapCase(delivered: "alpha beta ", next: " gamma", max: 0, min: 1, expected: 0),
        OverlapCase(delivered: "a\n\n", next: "\n\nb", max: 2, min: 1, expected: 2),
        OverlapCase(delivered: "x ", next: " y", max: 1, min: 1, expected: 1),
        OverlapCase(delivered: "", next: "abc", max: 512, min: 4, expected: 0),
        OverlapCase(delivered: "café ", next: "café au lait", max: 512, min: 4, expected: 6),
    ])
    func overlap(_ c: OverlapCase) {
        #expect(StreamResume.overlap(delivered: Array(c.delivered.utf8), next: Array(c.next.utf8), max: c.max, min: c.min) == c.expected)
    }

    struct ResumeCase: CustomTestStringConvertible, Sendable {
        var name: String
        var form: StreamResume.Form
        var second: [String]
        var expected: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        ResumeCase(name: "instruction, two words repeated", form: .instruction, second: ["alpha ", "beta ", "gamma"], expected: "alpha beta gamma"),
        ResumeCase(name: "instruction, repeat split oddly", form: .instruction, second: ["al", "pha be", "ta gam", "ma"], expected: "alpha beta gamma"),
        ResumeCase(name: "instruction, one word repeated", form: .instruction, second: ["beta ", "gamma"], expected: "alpha beta gamma"),
        ResumeCase(name: "instruction, no repeat", form: .instruction, second: ["gamma"], expected: "alpha beta gamma"),
        ResumeCase(name: "instruction, ends while held", form: .instruction, second: ["alp"], expected: "alpha beta alp"),
        ResumeCase(name: "instruction, all overlap", form: .instruction, second: ["alpha beta "], expected: "alpha beta "),
        ResumeCase(name: "prefill, space again", form: .prefill, second: [" gamma"], expected: "alpha beta gamma"),
        ResumeCase(name: "prefill, no space", form: .prefill, second: ["gamma"], expected: "alpha beta gamma"),
        ResumeCase(name: "prefix, exact", form: .prefix, second: ["gamma"], expected: "alpha beta gamma"),
        ResumeCase(name: "prefix, never trimmed", form: .prefix, second: [" gamma"], expected: "alpha beta  gamma"),
    ])
    func resumedText(_ c: ResumeCase) {
        let r = Self.resume(first: ["alpha ", "beta "], form: c.form, second: c.second)
        #expect(r.text == c.expected)
        #expect(String(decoding: r.state.content, as: UTF8.self) == c.expected)
        #expect(r.state.resumes == 1)
        #expect(r.state.parts.map(\.model) == ["p/a", "p/b"])
        #expect(r.state.parts[0].contentBytes == 11 && r.state.parts[0].endedBy == .transport)
        #expect(r.state.parts[1].contentBytes == c.expected.utf8.count - 11)
    }

    @Test func continuationRequests() {
        let messages = { (form: StreamResume.Form) in
            Self.resume(first: ["alpha ", "beta "], form: form, second: []).continuation["messages"]!.serialized()
        }
        #expect(messages(.prefill) == #"[{"role":"user","content":"hi"},{"role":"assistant","content":"alpha beta"}]"#)
        #expect(messages(.prefix) == #"[{"role":"user","content":"hi"},{"role":"assistant","content":"alpha beta ","prefix":true}]"#)
        #expect(messages(.instruction) == #"[{"role":"user","content":"hi"},{"role":"assistant","content":"alpha beta "},"#
                + #"{"role":"user","content":"\#(StreamResume.instruction)"}]"#)
        // Nothing delivered but the role (or only whitespace for a prefill): the caller's request as it is.
        #expect(StreamResume().continuation(of: Self.request, form: .instruction) == Self.request)
        #expect(Self.resume(first: [" "], form: .prefill, second: []).continuation == Self.request)
    }

    /// A finish forces the held text out; the role and reasoning of a continuing attempt are dropped.
    @Test func finishRoleAndReasoning() {
        var state = StreamResume()
        state.attemptCommitted(model: "p/a")
        _ = Self.feed(&state, Self.text("alpha beta "))
        _ = state.broke(Self.reset, model: "p/a", usage: (0, 0))
        state.attemptBegan(form: .instruction)
        state.attemptCommitted(model: "p/a")
        #expect(Self.feed(&state, Self.chunk(#"{"role":"assistant","content":""}"#)) == nil)
        #expect(Self.feed(&state, Self.chunk(#"{"reasoning_content":"hmm"}"#)) == nil)
        #expect(Self.feed(&state, Self.text("beta")) == nil) // may still be a longer repeat
        let last = Self.feed(&state, Self.chunk(#"{"content":" end"}"#, finish: "stop"))
        #expect(last.map { Self.content([$0]) } == "end") // "beta " repeated what was delivered
        #expect(last?.contains(#""finish_reason":"stop""#) == true)
        #expect(state.finished)
        // A break after the finish: the answer is complete.
        #expect(state.broke(Self.reset, model: "p/a", usage: (0, 0)) == .complete)
    }

    struct DecisionCase: CustomTestStringConvertible, Sendable {
        var name: String
        var error: ModelsError
        var tools: [String]
        var resumes: Bool
        var testDescription: String { name }
    }

    private static let announce = #"{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]}"#
    private static let args = #"{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]}"#
    private static let second = #"{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"g","arguments":""}}]}"#

    @Test(arguments: [
        DecisionCase(name: "reset", error: reset, tools: [], resumes: true),
        DecisionCase(name: "truncated", error: ModelsError(.protocol, "no [DONE]"), tools: [], resumes: true),
        DecisionCase(name: "idle timeout", error: ModelsError(.timeout, "idle", isTransient: true), tools: [], resumes: true),
        DecisionCase(name: "error event, no status", error: ModelsError(.api, "boom"), tools: [], resumes: true),
        DecisionCase(name: "overloaded", error: .api(status: 529, message: "overloaded"), tools: [], resumes: true),
        DecisionCase(name: "cancelled", error: ModelsError(.cancelled, "stop"), tools: [], resumes: false),
        DecisionCase(name: "content policy", error: ModelsError(.api, "no", status: 400, kind: .contentPolicy), tools: [], resumes: false),
        DecisionCase(name: "auth", error: .api(status: 401, message: "key"), tools: [], resumes: false),
        DecisionCase(name: "tool call announced", error: reset, tools: [announce], resumes: true),
        DecisionCase(name: "tool call arguments begun", error: reset, tools: [announce, args], resumes: false),
        DecisionCase(name: "a second tool call", error: reset, tools: [announce, second], resumes: false),
    ])
    func decisions(_ c: DecisionCase) {
        var state = StreamResume()
        state.attemptCommitted(model: "p/a")
        _ = Self.feed(&state, Self.text("hi "))
        for t in c.tools { _ = Self.feed(&state, Self.chunk(t)) }
        let decision = state.broke(c.error, model: "p/a", usage: (0, 0))
        if case .resume(let e) = decision {
            #expect(c.resumes)
            #expect(e.isTransient && RetryPolicy.isRetryable(e))
        } else {
            #expect(!c.resumes)
        }
        if c.tools.count == 2, case .fail(let e) = decision { #expect(e.code == .protocol && e.message.contains("tool call")) }
    }

    /// A tool call announced before the break is restarted under the caller's id and name.
    @Test func toolCallRestart() {
        var state = StreamResume()
        state.attemptCommitted(model: "p/a")
        _ = Self.feed(&state, Self.chunk(Self.announce))
        guard case .resume = state.broke(Self.reset, model: "p/a", usage: (0, 0)) else { Issue.record("not resumed"); return }
        #expect(state.continuation(of: Self.request, form: .instruction) == Self.request)
        state.attemptBegan(form: .instruction)
        state.attemptCommitted(model: "p/a")
        let again = Self.feed(&state, Self.chunk(#"{"tool_calls":[{"index":0,"id":"call_z","type":"function","function":{"name":"f","arguments":""}}]}"#))
        #expect(again?.contains("call_z") == false && again?.contains(#""name""#) == false)
        #expect(Self.feed(&state, Self.chunk(Self.args)) == Self.chunk(Self.args))
        #expect(state.toolArgumentBytes == [4])
    }

    /// The last chunk of a resumed stream: no choices, the usage summed, the parts.
    @Test func summaryChunk() throws {
        #expect(StreamResume().summaryChunk(lastUsage: (1, 1)) == nil)
        let r = Self.resume(first: ["alpha ", "beta "], form: .prefix, second: ["gamma"])
        let json = try JSON.parse(r.state.summaryChunk(lastUsage: (5, 3))!)
        #expect(json["choices"]?.count == 0 && json["object"]?.string == "chat.completion.chunk" && json["id"]?.string == "c1")
        #expect(json["usage"]?.serialized() == #"{"prompt_tokens":15,"completion_tokens":5,"total_tokens":20}"#)
        #expect(json["x_libmodels"]?["resumed"]?.serialized()
                == #"{"count":1,"parts":[{"model":"p/a","content_bytes":11,"ended_by":"transport"},{"model":"p/b","content_bytes":5}]}"#)
    }

    /// Several choices cannot be resumed.
    @Test func severalChoices() {
        var state = StreamResume()
        state.attemptCommitted(model: "p/a")
        _ = Self.feed(&state, #"{"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}"#)
        guard case .fail(let e) = state.broke(Self.reset, model: "p/a", usage: (0, 0)) else { Issue.record("resumed"); return }
        #expect(e.message.contains("more than one choice"))
    }

    @Test func configAndOptions() throws {
        let config = try RouterConfig(json: try JSON.parse(#"{"primary":"a/b","stream_recovery":"resume","providers":{"a":{"assistant_prefix":["b"]}}}"#))
        #expect(config.streamRecovery == .resume)
        #expect(config.provider(named: "a")?.acceptsAssistantPrefix(name: "a", modelID: "b") == true)
        #expect(config.provider(named: "a")?.acceptsAssistantPrefix(name: "a", modelID: "c") == false)
        #expect(ProviderConfig().acceptsAssistantPrefix(name: "deepseek", modelID: "deepseek-chat"))
        #expect(!ProviderConfig().acceptsAssistantPrefix(name: "openai", modelID: "gpt-4o"))
        #expect(throws: ModelsError.self) { try RouterConfig(json: try JSON.parse(#"{"primary":"a/b","stream_recovery":"on"}"#)) }
        #expect(try CallOptions(json: try JSON.parse(#"{"stream_recovery":"off"}"#)).streamRecovery == .off)
        #expect(throws: ModelsError.self) { try CallOptions(json: try JSON.parse(#"{"stream_recovery":1}"#)) }
    }
}
