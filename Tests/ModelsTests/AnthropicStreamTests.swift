// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct AnthropicStreamTests {
    private func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSON {
        do { return try JSON.parse(text) } catch {
            Issue.record("bad test JSON: \(error.message)", sourceLocation: sourceLocation)
            return .null
        }
    }

    private let start = #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#

    private func translator() -> AnthropicStreamTranslator {
        // The routed name: chunks carry it, not the id message_start reports ("claude-sonnet-4-5").
        AnthropicStreamTranslator(model: "anthropic/claude-sonnet-4", created: 1_700_000_000)
    }

    /// Feeds `events` (data texts; the type comes from the data) and returns the outputs.
    private func feed(_ t: inout AnthropicStreamTranslator, _ events: [String]) throws(ModelsError) -> [AnthropicStreamTranslator.Output] {
        var out: [AnthropicStreamTranslator.Output] = []
        for e in events { out.append(try t.translate(type: "", data: json(e))) }
        return out
    }

    private func chunk(_ delta: String, finish: String? = nil, usage: String? = nil) -> AnthropicStreamTranslator.Output {
        var c = json(#"""
            {"id":"msg_1","object":"chat.completion.chunk","created":1700000000,"model":"anthropic/claude-sonnet-4",
             "choices":[{"index":0,"delta":\#(delta),"finish_reason":null}]}
            """#)
        if let finish {
            c.update("choices") { choices in
                var first = choices[0]!
                first.set("finish_reason", .string(finish))
                choices = [first]
            }
        }
        if let usage { c.set("usage", json(usage)) }
        return .chunk(c)
    }

    @Test func translatesATextStream() throws {
        var t = translator()
        let out = try feed(&t, [
            start,
            #"{"type":"ping"}"#,
            #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", world"}}"#,
            #"{"type":"content_block_stop","index":0}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
            #"{"type":"message_stop"}"#,
        ])
        #expect(out == [
            chunk(#"{"role":"assistant","content":""}"#),
            .nothing,
            .nothing,
            chunk(#"{"content":"Hello"}"#),
            chunk(#"{"content":", world"}"#),
            .nothing,
            chunk("{}", finish: "stop", usage: #"{"prompt_tokens":25,"completion_tokens":15,"total_tokens":40}"#),
            .end,
        ])
        #expect(t.finished)
        #expect(t.id == "msg_1")
        #expect(t.inputTokens == 25 && t.outputTokens == 15)
        #expect(t.finishReason == "stop")
    }

    @Test func countsToolCallsAcrossBlocks() throws {
        var t = translator()
        let out = try feed(&t, [
            start,
            #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Two lookups."}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}"#,
            #"{"type":"content_block_stop","index":0}"#,
            #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
            #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking."}}"#,
            #"{"type":"content_block_stop","index":1}"#,
            #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_a","name":"weather","input":{}}}"#,
            #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}"#,
            #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#,
            #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"#,
            #"{"type":"content_block_stop","index":2}"#,
            #"{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_b","name":"time","input":{}}}"#,
            #"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
            #"{"type":"content_block_stop","index":3}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":80}}"#,
            #"{"type":"message_stop"}"#,
        ])
        #expect(out == [
            chunk(#"{"role":"assistant","content":""}"#),
            .nothing,
            .thinking("Two lookups."),
            .nothing,
            .nothing,
            .nothing,
            chunk(#"{"content":"Checking."}"#),
            .nothing,
            chunk(#"{"tool_calls":[{"index":0,"id":"toolu_a","type":"function","function":{"name":"weather","arguments":""}}]}"#),
            .nothing,
            chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}"#),
            chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}"#),
            .nothing,
            chunk(#"{"tool_calls":[{"index":1,"id":"toolu_b","type":"function","function":{"name":"time","arguments":""}}]}"#),
            chunk(#"{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]}"#),
            .nothing,
            chunk("{}", finish: "tool_calls", usage: #"{"prompt_tokens":25,"completion_tokens":80,"total_tokens":105}"#),
            .end,
        ])
    }

    @Test func mapsFinishReasonsInTheFinalChunk() throws {
        for (reason, expected) in [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"), ("refusal", "content_filter")] {
            var t = translator()
            let out = try feed(&t, [start, #"{"type":"message_delta","delta":{"stop_reason":"\#(reason)"},"usage":{"output_tokens":2}}"#])
            guard case .chunk(let c)? = out.last else { Issue.record("no chunk for \(reason)"); continue }
            #expect(c["choices"]?[0]?["finish_reason"]?.string == expected, "\(reason)")
            #expect(c["choices"]?[0]?["delta"] == JSON.emptyObject)
        }
    }

    @Test func accumulatesUsage() throws {
        var t = translator()
        _ = try feed(&t, [#"""
            {"type":"message_start","message":{"id":"m","usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":1}}}
            """#])
        #expect(t.inputTokens == 115 && t.outputTokens == 1)
        // message_delta counts are cumulative; newer API versions repeat the input counts there.
        _ = try feed(&t, [#"{"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":40}}"#])
        #expect(t.inputTokens == 115 && t.outputTokens == 40)
        let out = try feed(&t, [#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":10,"cache_read_input_tokens":100,"cache_creation_input_tokens":5,"output_tokens":90}}"#])
        #expect(t.inputTokens == 115 && t.outputTokens == 90)
        guard case .chunk(let c)? = out.first else { Issue.record("no chunk"); return }
        #expect(c["usage"] == json(#"{"prompt_tokens":115,"completion_tokens":90,"total_tokens":205}"#))
        // A message_delta without usage keeps the counts.
        _ = try feed(&t, [#"{"type":"message_delta","delta":{}}"#])
        #expect(t.inputTokens == 115 && t.outputTokens == 90)
    }

    @Test func ignoresPingsUnknownEventsAndUnknownDeltas() throws {
        var t = translator()
        #expect(try t.translate(type: "ping", data: json("{}")) == .nothing)
        #expect(try t.translate(type: "brand_new_event", data: json(#"{"x":1}"#)) == .nothing)
        _ = try feed(&t, [start])
        let quiet = [
            #"{"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"srv","name":"web_search","input":{}}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"q\":1}"}}"#,
            #"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"x"}}"#,
            #"{"type":"content_block_delta","index":5,"delta":{"type":"citations_delta","citation":{}}}"#,
            #"{"type":"content_block_delta","index":5,"delta":{"type":"future_delta"}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":""}}"#,
            #"{"type":"content_block_stop","index":1}"#,
            #"{"type":"ping"}"#,
        ]
        for e in quiet { #expect(try t.translate(type: "", data: json(e)) == .nothing, "\(e)") }
        // The first tool call after a server tool block is still index 0.
        let out = try t.translate(type: "", data: json(#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"#))
        guard case .chunk(let c) = out else { Issue.record("no chunk"); return }
        #expect(c["choices"]?[0]?["delta"]?["tool_calls"]?[0]?["index"]?.int == 0)
    }

    @Test func startBlocksWithContentDeliverIt() throws {
        var t = translator()
        let out = try feed(&t, [
            start,
            #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Hi"}}"#,
            #"{"type":"content_block_start","index":1,"content_block":{"type":"thinking","thinking":"Hmm"}}"#,
            #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"a":1}}}"#,
        ])
        #expect(out[1] == chunk(#"{"content":"Hi"}"#))
        #expect(out[2] == .thinking("Hmm"))
        #expect(out[3] == chunk(#"{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}"#))
    }

    @Test func theSSEEventTypeWinsOverTheDataType() throws {
        var t = translator()
        _ = try feed(&t, [start])
        let out = try t.translate(type: "content_block_delta", data: json(#"{"index":0,"delta":{"type":"text_delta","text":"x"}}"#))
        #expect(out == chunk(#"{"content":"x"}"#))
        #expect(try t.translate(type: "ping", data: json(#"{"type":"message_stop"}"#)) == .nothing)
        #expect(!t.finished)
        #expect(try t.translate(type: "message_stop", data: json("{}")) == .end)
        #expect(t.finished)
    }

    @Test func errorEventsThrowWithTheirTransience() {
        let cases: [(String, String, Int, Bool)] = [
            (#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, "overloaded_error: Overloaded", 529, true),
            (#"{"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}"#, "rate_limit_error: Slow down", 429, true),
            (#"{"type":"error","error":{"type":"api_error","message":"Internal"}}"#, "api_error: Internal", 500, true),
            (#"{"type":"error","error":{"type":"invalid_request_error","message":"Bad"}}"#, "invalid_request_error: Bad", 400, false),
            (#"{"type":"error","error":{"type":"mystery_error","message":"?"}}"#, "mystery_error: ?", 0, false),
            (#"{"type":"error"}"#, "error: the stream reported an error without a message", 0, false),
        ]
        for (data, message, status, transient) in cases {
            // Mid-stream and before message_start alike.
            for prefix in [[], [start]] {
                var t = translator()
                do {
                    _ = try feed(&t, prefix + [data])
                    Issue.record("no error for \(data)")
                } catch {
                    #expect(error.code == .api, "\(data)")
                    #expect(error.message == message)
                    #expect(error.status == status)
                    #expect(error.isTransient == transient, "\(data)")
                }
            }
        }
    }

    @Test func protocolViolationsThrow() {
        let cases: [(type: String, events: [String])] = [
            ("", [#"[1,2]"#]),
            ("message_start", [#""text""#]),
            ("", [#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#]),
            ("", [#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#]),
            ("", [#"{"type":"message_delta","delta":{"stop_reason":"end_turn"}}"#]),
            ("", [#"{"type":"message_stop"}"#]),
            ("", [#"{"type":"message_start"}"#]),
            ("", [start, start]),
            ("", [start, #"{"type":"message_stop"}"#, #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#]),
            ("", [start, #"{"type":"message_stop"}"#, #"{"type":"message_stop"}"#]),
            ("", [start, #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#]),
            ("", [start, #"{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"x"}}"#]),
            ("", [start, #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}"#]),
            ("", [start, #"{"type":"content_block_delta","index":0,"delta":"x"}"#]),
            ("", [start, #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}}"#]),
            ("", [start, #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
                  #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}}"#]),
            ("", [start, #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","name":"f"}}"#]),
            ("", [start, #"{"type":"content_block_start","index":0}"#]),
            ("", [start, #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":3}}"#]),
        ]
        for (type, events) in cases {
            var t = translator()
            do {
                for (i, e) in events.enumerated() {
                    _ = try t.translate(type: i == events.count - 1 ? type : "", data: json(e))
                }
                Issue.record("no error for \(events)")
            } catch {
                #expect(error.code == .protocol, "\(events): \(error)")
                #expect(!error.isTransient)
            }
        }
    }
}
