// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// Converse requests, answers and ConverseStream events, translated.
@Suite struct BedrockTranslationTests {
    static func json(_ s: String) -> JSON { try! JSON.parse(s) }

    @Test func aConversationWithToolsBecomesAlternatingTurns() throws {
        let request = Self.json(#"""
        {"messages":[{"role":"system","content":"sys"},{"role":"developer","content":[{"type":"text","text":"dev"}]},
          {"role":"user","content":"weather in Paris?"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call.1","type":"function","function":{"name":"w","arguments":"{\"c\":\"Paris\"}"}},
                                                          {"id":"call_2","type":"function","function":{"name":"w","arguments":""}}]},
          {"role":"tool","tool_call_id":"call.1","content":"sunny"},{"role":"tool","tool_call_id":"call_2","content":""},
          {"role":"user","content":[{"type":"text","text":"and?"},{"type":"image_url","image_url":{"url":"data:image/jpg;base64,AAAA"}},
                                    {"type":"file","file":{"filename":"report 2024.pdf","file_data":"data:application/pdf;base64,JVBE"}}]}],
         "tools":[{"type":"function","function":{"name":"w","description":"weather"}}]}
        """#)
        let body = try BedrockRequest.translate(request, modelID: "m")
        #expect(body["system"] == Self.json(#"[{"text":"sys"},{"text":"dev"}]"#))
        #expect(body["messages"] == Self.json(#"""
        [{"role":"user","content":[{"text":"weather in Paris?"}]},
         {"role":"assistant","content":[{"toolUse":{"toolUseId":"call_1","name":"w","input":{"c":"Paris"}}},{"toolUse":{"toolUseId":"call_2","name":"w","input":{}}}]},
         {"role":"user","content":[{"toolResult":{"toolUseId":"call_1","content":[{"text":"sunny"}]}},
                                   {"toolResult":{"toolUseId":"call_2","content":[{"text":"(no output)"}]}},
                                   {"text":"and?"},{"image":{"format":"jpeg","source":{"bytes":"AAAA"}}},
                                   {"document":{"format":"pdf","name":"report 2024 pdf","source":{"bytes":"JVBE"}}}]}]
        """#))
        #expect(body["toolConfig"] == Self.json(#"{"tools":[{"toolSpec":{"name":"w","inputSchema":{"json":{"type":"object","properties":{}}},"description":"weather"}}]}"#))
    }

    @Test func imagesMustBeBytesOrS3() {
        for url in ["https://example.com/a.png", "data:image/tiff;base64,AAAA", "s3://b/a.bmp"] {
            let request = Self.json(#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"\#(url)"}}]}]}"#)
            #expect(throws: ModelsError.self, "\(url)") { _ = try BedrockRequest.translate(request, modelID: "m") }
        }
        let s3 = Self.json(#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"s3://b/a.JPG"}}]}]}"#)
        #expect((try? BedrockRequest.translate(s3, modelID: "m"))?["messages"]?[0]?["content"]?[0]
                == Self.json(#"{"image":{"format":"jpeg","source":{"s3Location":{"uri":"s3://b/a.JPG"}}}}"#))
    }

    @Test func toolChoiceNoneWithToolCallsInTheConversationIsRefused() {
        let request = Self.json(#"{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"a","function":{"name":"f"}}]},{"role":"tool","tool_call_id":"a","content":"1"}],"tools":\#(ProviderParameterTests.tools),"tool_choice":"none"}"#)
        #expect(throws: ModelsError.self) { _ = try BedrockRequest.translate(request, modelID: "m") }
    }

    @Test func anAnswerWithReasoningToolsAndCachedUsage() throws {
        let answer = try BedrockResponse.translate(Self.json(#"""
        {"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"hmm","signature":"s"}}},
          {"text":"Let me check."},{"toolUse":{"toolUseId":"t1","name":"w","input":{"c":"P"}}}]}},
         "stopReason":"tool_use","usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15,"cacheReadInputTokens":4}}
        """#), model: "aws/m", created: 7)
        #expect(answer == Self.json(#"""
        {"id":"","object":"chat.completion","created":7,"model":"aws/m",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Let me check.","reasoning_content":"hmm",
           "tool_calls":[{"id":"t1","type":"function","function":{"name":"w","arguments":"{\"c\":\"P\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],
         "usage":{"prompt_tokens":14,"completion_tokens":5,"total_tokens":19,"prompt_tokens_details":{"cached_tokens":4}}}
        """#))
        for (reason, finish) in [("end_turn", "stop"), ("max_tokens", "length"), ("guardrail_intervened", "content_filter"),
                                 ("content_filtered", "content_filter"), ("stop_sequence", "stop")] {
            #expect(BedrockResponse.finishReason(reason) == finish)
        }
        #expect(throws: ModelsError.self) { _ = try BedrockResponse.translate(Self.json(#"{"output":{}}"#), model: "m") }
    }

    @Test func theJSONAnswerToolComesBackAsContent() throws {
        let answer = try BedrockResponse.translate(Self.json(#"{"output":{"message":{"content":[{"toolUse":{"toolUseId":"t","name":"json_answer","input":{"a":1}}}]}},"stopReason":"tool_use"}"#),
                                                   model: "m", jsonAnswer: "json_answer")
        #expect(answer["choices"]?[0]?["message"]?["content"]?.string == #"{"a":1}"#)
        #expect(answer["choices"]?[0]?["finish_reason"]?.string == "stop")
    }

    @Test func aStreamOfTextToolsAndReasoning() throws {
        var t = BedrockStreamTranslator(model: "aws/m", created: 1)
        let events: [(String, String)] = [
            ("messageStart", #"{"role":"assistant"}"#),
            ("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"think"}}}"#),
            ("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"s"}}}"#),
            ("contentBlockStop", #"{"contentBlockIndex":0}"#),
            ("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":"Hi"}}"#),
            ("contentBlockStart", #"{"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"t1","name":"w"}}}"#),
            ("contentBlockDelta", #"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"c\":"}}}"#),
            ("contentBlockDelta", #"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"1}"}}}"#),
            ("messageStop", #"{"stopReason":"tool_use"}"#),
            ("metadata", #"{"usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7}}"#),
        ]
        var outputs: [BedrockStreamTranslator.Output] = []
        for (type, data) in events { outputs.append(try t.translate(type: type, data: Self.json(data))) }
        #expect(outputs[1] == .thinking("think"))
        #expect(outputs[2] == .nothing)
        guard case .chunk(let text) = outputs[4], case .chunk(let start) = outputs[5], case .chunk(let args) = outputs[7],
              case .end(let last) = outputs[9] else { Issue.record("\(outputs)"); return }
        #expect(text["choices"]?[0]?["delta"]?["content"]?.string == "Hi")
        #expect(start["choices"]?[0]?["delta"]?["tool_calls"]?[0]?["id"]?.string == "t1")
        #expect(args["choices"]?[0]?["delta"]?["tool_calls"]?[0]?["function"]?["arguments"]?.string == "1}")
        #expect(last["choices"]?[0]?["finish_reason"]?.string == "tool_calls")
        #expect(last["usage"]?["total_tokens"]?.int == 7)
        #expect(t.finished && t.inputTokens == 3 && t.outputTokens == 4)
    }

    @Test func eventsOutOfOrderAreProtocolErrors() {
        let cases: [[(String, String)]] = [
            [("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"x"}}"#)],
            [("messageStart", "{}"), ("metadata", "{}")],
            [("messageStart", "{}"), ("messageStart", "{}")],
            [("messageStart", "{}"), ("contentBlockDelta", #"{"contentBlockIndex":3,"delta":{"toolUse":{"input":"x"}}}"#)],
            [("messageStart", "{}"), ("contentBlockDelta", #"{"delta":{"text":"x"}}"#)],
            [("messageStart", "[]")],
        ]
        for events in cases {
            var t = BedrockStreamTranslator(model: "m", created: 0)
            do {
                for (type, data) in events { _ = try t.translate(type: type, data: Self.json(data)) }
                Issue.record("accepted \(events)")
            } catch {
                #expect(error.code == .protocol)
            }
        }
    }

    @Test func streamExceptionsHaveTheirKinds() {
        let cases: [(String, ErrorKind, Bool)] = [
            ("throttlingException", .rateLimit, true), ("serviceUnavailableException", .server, true),
            ("internalServerException", .server, true), ("modelStreamErrorException", .server, true),
            ("validationException", .badRequest, false), ("accessDeniedException", .auth, false),
        ]
        for (type, kind, transient) in cases {
            let error = BedrockStreamDecoder.exception(type, payload: Array(#"{"message":"slow down AKIDSECRET1"}"#.utf8),
                                                       provider: "aws", secrets: ["AKIDSECRET1"])
            #expect(error.kind == kind, "\(type)")
            #expect(error.isTransient == transient, "\(type)")
            #expect(error.message == "stream from aws: \(type): slow down [redacted]")
        }
        let tooLong = BedrockStreamDecoder.exception("validationException", payload: Array(#"{"message":"Input is too long for requested model."}"#.utf8),
                                                     provider: "aws", secrets: [])
        #expect(tooLong.kind == .contextWindow)
    }

    @Test func aDecoderReadsFramesSplitAnywhere() {
        func event(_ type: String, _ data: String) -> [UInt8] {
            EventStreamMessage(headers: [(":event-type", .string(type)), (":content-type", .string("application/json")),
                                         (":message-type", .string("event"))], payload: Array(data.utf8)).encoded()
        }
        let body = event("messageStart", #"{"role":"assistant"}"#) + event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hello"}}"#)
            + event("messageStop", #"{"stopReason":"end_turn"}"#) + event("metadata", #"{"usage":{"inputTokens":1,"outputTokens":2}}"#)
        for cut in stride(from: 0, through: body.count, by: 7) {
            let decoder = BedrockStreamDecoder(provider: "aws", model: "aws/m", secrets: [], jsonAnswer: nil)
            var chunks: [JSON] = []
            let outlet = ChunkOutlet(push: { bytes in chunks.append(try! JSON.parse(Array(bytes))); return true })
            for piece in [Array(body[..<cut]), Array(body[cut...])] {
                var failure: ModelsError?
                piece.withUnsafeBytes { raw in
                    do throws(ModelsError) { try decoder.feed(raw, to: outlet, onEvent: {}) } catch { failure = error }
                }
                #expect(failure == nil, "\(String(describing: failure))")
            }
            #expect(decoder.finished)
            #expect(chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.string }.joined() == "Hello")
            #expect(decoder.usage == (1, 2))
        }
    }
}
