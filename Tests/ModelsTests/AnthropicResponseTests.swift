// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct AnthropicResponseTests {
    private func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSON {
        do { return try JSON.parse(text) } catch {
            Issue.record("bad test JSON: \(error.message)", sourceLocation: sourceLocation)
            return .null
        }
    }

    @Test func translatesATextAnswer() throws {
        let response = json(#"""
            {"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
             "content":[{"type":"text","text":"Hello"},{"type":"text","text":", world"}],
             "stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":5}}
            """#)
        let out = try AnthropicResponse.translate(response, model: "anthropic/claude-sonnet-4-5", created: 1_700_000_000)
        #expect(out == json(#"""
            {"id":"msg_01","object":"chat.completion","created":1700000000,"model":"claude-sonnet-4-5-20250929",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Hello, world"},"logprobs":null,"finish_reason":"stop"}],
             "usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}
            """#))
    }

    @Test func translatesToolUseAndThinking() throws {
        let response = json(#"""
            {"id":"msg_02","type":"message","role":"assistant",
             "content":[
               {"type":"thinking","thinking":"Need the weather.","signature":"sig"},
               {"type":"redacted_thinking","data":"xyz"},
               {"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Paris","days":2}},
               {"type":"tool_use","id":"toolu_2","name":"now","input":{}},
               {"type":"tool_use","id":"toolu_3","name":"bare"}],
             "stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":4}}
            """#)
        let out = try AnthropicResponse.translate(response, model: "anthropic/claude-sonnet-4-5")
        #expect(out["model"] == "anthropic/claude-sonnet-4-5")  // the response named none
        #expect(out["created"]?.int == 0)
        let choice = try #require(out["choices"]?[0])
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"] == json(#"""
            {"role":"assistant","content":null,"reasoning_content":"Need the weather.","tool_calls":[
              {"id":"toolu_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\",\"days\":2}"}},
              {"id":"toolu_2","type":"function","function":{"name":"now","arguments":"{}"}},
              {"id":"toolu_3","type":"function","function":{"name":"bare","arguments":"{}"}}]}
            """#))
    }

    @Test func textAndToolCallsTogether() throws {
        let out = try AnthropicResponse.translate(json(#"""
            {"type":"message","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"t","name":"f","input":{"a":[1]}}],
             "stop_reason":"tool_use"}
            """#), model: "m")
        #expect(out["choices"]?[0]?["message"]?["content"] == "Let me check.")
        #expect(out["choices"]?[0]?["message"]?["tool_calls"]?[0]?["function"]?["arguments"] == #"{"a":[1]}"#)
        // No usage in the answer: zeros.
        #expect(out["usage"] == json(#"{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}"#))
        #expect(out["id"] == "")
    }

    @Test func anEmptyAnswerHasEmptyContent() throws {
        let out = try AnthropicResponse.translate(json(#"{"type":"message","content":[],"stop_reason":"max_tokens"}"#), model: "m")
        #expect(out["choices"]?[0]?["message"] == json(#"{"role":"assistant","content":""}"#))
        #expect(out["choices"]?[0]?["finish_reason"] == "length")
    }

    @Test func mapsStopReasons() {
        let cases: [(String?, String)] = [
            ("end_turn", "stop"), ("stop_sequence", "stop"), ("tool_use", "tool_calls"), ("max_tokens", "length"),
            ("model_context_window_exceeded", "length"), ("refusal", "content_filter"), ("pause_turn", "stop"),
            ("something_new", "stop"), (nil, "stop"),
        ]
        for (reason, expected) in cases { #expect(AnthropicResponse.finishReason(reason) == expected, "\(String(describing: reason))") }
    }

    @Test func countsCachedTokensAsPromptTokens() throws {
        let out = try AnthropicResponse.translate(json(#"""
            {"type":"message","content":[{"type":"text","text":"x"}],
             "usage":{"input_tokens":10,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":7}}
            """#), model: "m")
        #expect(out["usage"] == json(#"""
            {"prompt_tokens":1110,"completion_tokens":7,"total_tokens":1117,"prompt_tokens_details":{"cached_tokens":1000}}
            """#))
    }

    @Test func rejectsWhatIsNotAMessage() {
        for body in [#"[]"#, #""text""#, #"{"type":"error","error":{"type":"api_error","message":"x"}}"#,
                     #"{"type":"message","content":"text"}"#, #"{"type":"message","content":[{"type":"tool_use","input":{}}]}"#] {
            #expect(throws: ModelsError.self, "\(body)") { try AnthropicResponse.translate(json(body), model: "m") }
            do { _ = try AnthropicResponse.translate(json(body), model: "m") } catch { #expect(error.code == .protocol) }
        }
    }

    @Test func readsErrorBodies() {
        let cases: [(String, (String, String)?)] = [
            (#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, ("overloaded_error", "Overloaded")),
            (#"{"error":{"type":"invalid_request_error","message":"bad"},"request_id":"r"}"#, ("invalid_request_error", "bad")),
            (#"{"type":"error","error":{"message":"no type"}}"#, ("error", "no type")),
            (#"{"type":"message","error":{"type":"x","message":"y"}}"#, nil),
            (#"{"type":"error","error":{"type":"x"}}"#, nil),
            (#"{"type":"error","error":"text"}"#, nil),
            (#"{"message":"plain"}"#, nil),
            (#"[1]"#, nil),
            (#"null"#, nil),
        ]
        for (body, expected) in cases {
            let found = AnthropicResponse.error(in: json(body))
            #expect(found?.type == expected?.0 && found?.message == expected?.1, "\(body)")
        }
    }

    @Test func mapsErrorTypesToStatuses() {
        let cases: [(String, Int, Bool)] = [
            ("overloaded_error", 529, true), ("rate_limit_error", 429, true), ("api_error", 500, true),
            ("timeout_error", 504, true), ("invalid_request_error", 400, false), ("authentication_error", 401, false),
            ("permission_error", 403, false), ("not_found_error", 404, false), ("request_too_large", 413, false),
            ("billing_error", 402, false), ("new_error", 0, false),
        ]
        for (type, status, transient) in cases {
            #expect(AnthropicResponse.status(forErrorType: type) == status, "\(type)")
            #expect(ModelsError.isTransientStatus(status) == transient, "\(type)")
        }
    }
}
