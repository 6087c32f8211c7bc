// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct AnthropicRequestTests {
    private func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSON {
        do { return try JSON.parse(text) } catch {
            Issue.record("bad test JSON: \(error.message)", sourceLocation: sourceLocation)
            return .null
        }
    }

    private func thinkingConfig(_ level: ThinkingConfig.Level? = nil, enabled: Bool? = nil, budget: Int = 8192) -> ThinkingConfig {
        var t = ThinkingConfig()
        t.level = level
        t.enabled = enabled
        t.budgetTokens = budget
        return t
    }

    /// Translates with thinking off by default (an old model and no config).
    private func anthropic(_ request: String, model: String = "claude-sonnet-4-5", thinking: ThinkingConfig = ThinkingConfig(),
                           stream: Bool = false) throws(ModelsError) -> JSON {
        try AnthropicRequest.translate(json(request), modelID: model, thinking: thinking, stream: stream)
    }

    private func invalidArgument(_ request: String, model: String = "claude-sonnet-4-5") -> ModelsError? {
        do {
            _ = try anthropic(request, model: model)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Whole requests

    @Test func translatesAPlainRequest() throws {
        let body = try anthropic(#"""
            {"model":"anthropic/claude-sonnet-4-5","messages":[
              {"role":"system","content":"Be brief."},
              {"role":"user","content":"Hi"}]}
            """#)
        #expect(body == json(#"""
            {"model":"claude-sonnet-4-5","max_tokens":16384,
             "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
             "messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],
             "stream":false}
            """#))
        // model and max_tokens lead, as in Anthropic's own examples.
        #expect(body.keys.prefix(2) == ["model", "max_tokens"])
    }

    @Test func streamFlagFollowsTheArgument() throws {
        let request = #"{"messages":[{"role":"user","content":"Hi"}],"stream":false}"#
        #expect(try anthropic(request, stream: true)["stream"] == true)
        #expect(try anthropic(request, stream: false)["stream"] == false)
    }

    @Test func rejectsRequestsItCannotTranslate() {
        let cases: [(String, String)] = [
            (#"[1]"#, "must be a JSON object"),
            (#"{}"#, "\"messages\" must be an array"),
            (#"{"messages":{"role":"user"}}"#, "\"messages\" must be an array"),
            (#"{"messages":[]}"#, "no user or assistant message"),
            (#"{"messages":["hi"]}"#, "messages[0] must be an object"),
            (#"{"messages":[{"content":"hi"}]}"#, "messages[0] has no \"role\""),
            (#"{"messages":[{"role":"robot","content":"hi"}]}"#, "role \"robot\""),
            (#"{"messages":[{"role":"function","name":"f","content":"x"}]}"#, "role \"function\""),
            (#"{"messages":[{"role":"user","content":42}]}"#, "messages[0].content must be"),
            (#"{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}"#, "\"input_audio\" part"),
            (#"{"messages":[{"role":"user","content":[{"text":"no type"}]}]}"#, "messages[0].content[0]"),
            (#"{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},{"role":"user","content":"x"}]}"#, "text part in a system message"),
            (#"{"messages":[{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#, "assistant message"),
            (#"{"messages":[{"role":"user","content":"x"}],"max_tokens":0}"#, "\"max_tokens\" must be a positive integer"),
            (#"{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":"many"}"#, "\"max_completion_tokens\""),
            (#"{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#, "\"temperature\" must be a number"),
            (#"{"messages":[{"role":"user","content":"x"}],"top_k":1.5}"#, "\"top_k\""),
            (#"{"messages":[{"role":"user","content":"x"}],"stop":5}"#, "\"stop\""),
            (#"{"messages":[{"role":"user","content":"x"}],"stop":["a",1]}"#, "\"stop\""),
        ]
        for (request, fragment) in cases {
            let error = invalidArgument(request)
            #expect(error?.code == .invalidArgument, "\(request)")
            #expect(error?.message.contains(fragment) == true, "\(request): \(error?.message ?? "no error")")
        }
    }

    // MARK: - System messages

    @Test func joinsAllSystemMessagesIntoOneCachedBlock() throws {
        let body = try anthropic(#"""
            {"messages":[
              {"role":"system","content":"First."},
              {"role":"developer","content":[{"type":"text","text":"Second."},{"type":"text","text":"Third."}]},
              {"role":"user","content":"Hi"},
              {"role":"system","content":"Late."},
              {"role":"system","content":"  "},
              {"role":"system","content":null}]}
            """#)
        #expect(body["system"] == json(#"""
            [{"type":"text","text":"First.\n\nSecond.\n\nThird.\n\nLate.","cache_control":{"type":"ephemeral"}}]
            """#))
        #expect(body["messages"]?.count == 1)
    }

    @Test func omitsSystemWhenThereIsNone() throws {
        #expect(try anthropic(#"{"messages":[{"role":"user","content":"Hi"}]}"#)["system"] == nil)
        #expect(try anthropic(#"{"messages":[{"role":"system","content":""},{"role":"user","content":"Hi"}]}"#)["system"] == nil)
    }

    // MARK: - Content parts

    @Test func translatesContentParts() throws {
        let body = try anthropic(#"""
            {"messages":[{"role":"user","content":[
              {"type":"text","text":"What is this?"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
              {"type":"image_url","image_url":"HTTP://example.com/dog.gif"},
              {"type":"image_url","image_url":{"url":"data:image/jpg;name=x.jpg;base64,/9j/4AAQ"}},
              {"type":"image_url","image_url":{"url":"data:application/pdf;base64,JVBERi0="}},
              {"type":"file","file":{"filename":"spec.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}},
              {"type":"file","file":{"file_data":"JVBERi0y"}},
              {"type":"text","text":"cached","cache_control":{"type":"ephemeral"}}]}]}
            """#)
        #expect(body["messages"] == json(#"""
            [{"role":"user","content":[
              {"type":"text","text":"What is this?"},
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
              {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
              {"type":"image","source":{"type":"url","url":"HTTP://example.com/dog.gif"}},
              {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}},
              {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}},
              {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"},"title":"spec.pdf"},
              {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0y"}},
              {"type":"text","text":"cached","cache_control":{"type":"ephemeral"}}]}]
            """#))
    }

    @Test func rejectsImagesItCannotSend() {
        for url in ["ftp://example.com/a.png", "data:image/png,rawbytes", "data:;base64,AAAA", "data:image/png;base64,",
                    "data:text/plain;base64,aGk=", "file:///etc/passwd", ""] {
            let request = JSON.object([("messages", [["role": "user", "content": [
                ["type": "image_url", "image_url": ["url": .string(url)]]]]])])
            #expect(throws: ModelsError.self, "\(url)") {
                try AnthropicRequest.translate(request, modelID: "claude-sonnet-4-5", thinking: ThinkingConfig(), stream: false)
            }
        }
        let fileID = invalidArgument(#"{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}"#)
        #expect(fileID?.message.contains("file_data") == true)
    }

    @Test func leavesOutEmptyText() throws {
        // An empty or blank user message adds nothing, and empty text parts are skipped.
        let body = try anthropic(#"""
            {"messages":[
              {"role":"user","content":""},
              {"role":"user","content":"   \n"},
              {"role":"user","content":[]},
              {"role":"user","content":null},
              {"role":"user","content":[{"type":"text","text":""},{"type":"text","text":"real"}]},
              {"role":"assistant","content":""}]}
            """#)
        #expect(body["messages"] == json(#"[{"role":"user","content":[{"type":"text","text":"real"}]}]"#))
        // With nothing left there is nothing to send: an error here, not a 400 there.
        let error = invalidArgument(#"{"messages":[{"role":"system","content":"s"},{"role":"user","content":""}]}"#)
        #expect(error?.code == .invalidArgument)
    }

    @Test func trimsTrailingWhitespaceOfAFinalAssistantMessage() throws {
        let body = try anthropic(#"""
            {"messages":[{"role":"assistant","content":"Sure \n"},{"role":"user","content":"Go"},
                         {"role":"assistant","content":"The answer is \n"}]}
            """#)
        #expect(body["messages"] == json(#"""
            [{"role":"assistant","content":[{"type":"text","text":"Sure \n"}]},
             {"role":"user","content":[{"type":"text","text":"Go"}]},
             {"role":"assistant","content":[{"type":"text","text":"The answer is"}]}]
            """#))
    }

    @Test func assistantRefusalPartsBecomeText() throws {
        let body = try anthropic(#"""
            {"messages":[{"role":"user","content":"x"},
              {"role":"assistant","content":[{"type":"refusal","refusal":"No."},{"type":"text","text":"Sorry."}]},
              {"role":"user","content":"y"}]}
            """#)
        #expect(body["messages"]?[1] == json(#"""
            {"role":"assistant","content":[{"type":"text","text":"No."},{"type":"text","text":"Sorry."}]}
            """#))
    }

    // MARK: - Tool calls and results

    @Test func assistantToolCallsBecomeToolUse() throws {
        let body = try anthropic(#"""
            {"messages":[
              {"role":"user","content":"Weather?"},
              {"role":"assistant","content":null,"reasoning_content":"let me look","tool_calls":[
                {"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"call_2","type":"function","function":{"name":"time","arguments":""}},
                {"id":"call_3","type":"function","function":{"name":"now"}},
                {"id":"call_4","type":"function","function":{"name":"obj","arguments":{"a":1}}},
                {"id":"call_5","type":"function","function":{"name":"blank","arguments":"  "}},
                {"id":"call_6","type":"function","function":{"name":"null","arguments":null}}]},
              {"role":"assistant","content":"Checking.","tool_calls":[
                {"id":"call_7","type":"function","function":{"name":"weather","arguments":"{}"}}]}]}
            """#)
        #expect(body["messages"] == json(#"""
            [{"role":"user","content":[{"type":"text","text":"Weather?"}]},
             {"role":"assistant","content":[
               {"type":"tool_use","id":"call_1","name":"weather","input":{"city":"Paris"}},
               {"type":"tool_use","id":"call_2","name":"time","input":{}},
               {"type":"tool_use","id":"call_3","name":"now","input":{}},
               {"type":"tool_use","id":"call_4","name":"obj","input":{"a":1}},
               {"type":"tool_use","id":"call_5","name":"blank","input":{}},
               {"type":"tool_use","id":"call_6","name":"null","input":{}}]},
             {"role":"assistant","content":[
               {"type":"text","text":"Checking."},
               {"type":"tool_use","id":"call_7","name":"weather","input":{}}]}]
            """#))
    }

    @Test func nonObjectArgumentsNameTheCall() {
        for arguments in [#""[1,2]""#, #""3""#, #""\"text\"""#, #""{not json""#, "42", "[1]", "true"] {
            let request = #"{"messages":[{"role":"assistant","tool_calls":[{"id":"call_xyz","type":"function","function":{"name":"f","arguments":\#(arguments)}}]}]}"#
            let error = invalidArgument(request)
            #expect(error?.code == .invalidArgument, "\(arguments)")
            #expect(error?.message.contains("call_xyz") == true, "\(arguments): \(error?.message ?? "no error")")
        }
    }

    @Test func rejectsMalformedToolCalls() {
        let cases = [
            #"{"messages":[{"role":"assistant","tool_calls":{"id":"a"}}]}"#,
            #"{"messages":[{"role":"assistant","tool_calls":["a"]}]}"#,
            #"{"messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f"}}]}]}"#,
            #"{"messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{}}]}]}"#,
            #"{"messages":[{"role":"tool","content":"result"}]}"#,
        ]
        for request in cases { #expect(invalidArgument(request)?.code == .invalidArgument, "\(request)") }
    }

    @Test func batchesToolResultsAndFlushesThemBeforeTheNextMessage() throws {
        let body = try anthropic(#"""
            {"messages":[
              {"role":"user","content":"Do two things"},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"c1","type":"function","function":{"name":"a","arguments":"{}"}},
                {"id":"c2","type":"function","function":{"name":"b","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"one"},
              {"role":"system","content":"a system message does not flush"},
              {"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"two"}]},
              {"role":"user","content":"and now?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c3","type":"function","function":{"name":"c","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c3","content":""},
              {"role":"assistant","content":"done"},
              {"role":"user","content":"ok"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c4","type":"function","function":{"name":"d","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c4","content":"last"}]}
            """#)
        let messages = try #require(body["messages"]?.array)
        #expect(messages.map { $0["role"]?.string ?? "" } == ["user", "assistant", "user", "user", "assistant", "user", "assistant", "user", "assistant", "user"])
        #expect(messages[2] == json(#"""
            {"role":"user","content":[
              {"type":"tool_result","tool_use_id":"c1","content":"one"},
              {"type":"tool_result","tool_use_id":"c2","content":[{"type":"text","text":"two"}]}]}
            """#))
        #expect(messages[3] == json(#"{"role":"user","content":[{"type":"text","text":"and now?"}]}"#))
        // Flushed by an assistant message too; an empty result has no content.
        #expect(messages[5] == json(#"{"role":"user","content":[{"type":"tool_result","tool_use_id":"c3"}]}"#))
        // And at the end of the list.
        #expect(messages[9] == json(#"{"role":"user","content":[{"type":"tool_result","tool_use_id":"c4","content":"last"}]}"#))
    }

    @Test func toolResultsMayHoldImages() throws {
        let body = try anthropic(#"""
            {"messages":[{"role":"tool","tool_call_id":"c1","content":[
              {"type":"text","text":"screenshot:"},
              {"type":"image_url","image_url":{"url":"data:image/webp;base64,UklG"}}]}]}
            """#)
        #expect(body["messages"]?[0]?["content"]?[0]?["content"] == json(#"""
            [{"type":"text","text":"screenshot:"},
             {"type":"image","source":{"type":"base64","media_type":"image/webp","data":"UklG"}}]
            """#))
    }

    @Test func toolCallIDsAreReducedToAnthropicsAlphabet() throws {
        let body = try anthropic(#"""
            {"messages":[
              {"role":"assistant","tool_calls":[{"id":"functions.get:0","type":"function","function":{"name":"get","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"functions.get:0","content":"x"}]}
            """#)
        #expect(body["messages"]?[0]?["content"]?[0]?["id"] == "functions_get_0")
        #expect(body["messages"]?[1]?["content"]?[0]?["tool_use_id"] == "functions_get_0")
        #expect(AnthropicRequest.toolID("call_AbC-9") == "call_AbC-9")
    }

    // MARK: - Tools and tool choice

    @Test func translatesTools() throws {
        let body = try anthropic(#"""
            {"messages":[{"role":"user","content":"x"}],"tools":[
              {"type":"function","function":{"name":"weather","description":"Weather by city","strict":true,
                "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
              {"type":"function","function":{"name":"now"}},
              {"type":"function","function":{"name":"typeless","description":"","parameters":{"properties":{}}}},
              {"type":"function","function":{"name":"nullary","parameters":null},"cache_control":{"type":"ephemeral"}},
              {"type":"web_search_20250305","name":"web_search","max_uses":3}]}
            """#)
        #expect(body["tools"] == json(#"""
            [{"name":"weather","description":"Weather by city",
              "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},
             {"name":"now","input_schema":{"type":"object","properties":{}}},
             {"name":"typeless","input_schema":{"properties":{},"type":"object"}},
             {"name":"nullary","input_schema":{"type":"object","properties":{}},"cache_control":{"type":"ephemeral"}},
             {"type":"web_search_20250305","name":"web_search","max_uses":3}]
            """#))
        #expect(try anthropic(#"{"messages":[{"role":"user","content":"x"}],"tools":[]}"#)["tools"] == nil)
    }

    @Test func rejectsMalformedTools() {
        for tools in [#"{}"#, #"["x"]"#, #"[{"type":"function"}]"#, #"[{"type":"function","function":{"description":"d"}}]"#,
                      #"[{"type":"function","function":{"name":"f","parameters":"{}"}}]"#] {
            let error = invalidArgument(#"{"messages":[{"role":"user","content":"x"}],"tools":\#(tools)}"#)
            #expect(error?.code == .invalidArgument, "\(tools)")
        }
    }

    @Test func mapsToolChoice() throws {
        let tools = #"[{"type":"function","function":{"name":"f"}}]"#
        let cases: [(String, String?)] = [
            (#""auto""#, #"{"type":"auto"}"#),
            (#""none""#, #"{"type":"none"}"#),
            (#""required""#, #"{"type":"any"}"#),
            (#"{"type":"function","function":{"name":"f"}}"#, #"{"type":"tool","name":"f"}"#),
            (#"{"type":"function","name":"f"}"#, #"{"type":"tool","name":"f"}"#),
            (#"{"type":"auto"}"#, #"{"type":"auto"}"#),
            (#"{"type":"any"}"#, #"{"type":"any"}"#),
            (#"{"type":"tool","name":"f"}"#, #"{"type":"tool","name":"f"}"#),
            ("null", nil),
        ]
        for (choice, expected) in cases {
            let body = try anthropic(#"{"messages":[{"role":"user","content":"x"}],"tools":\#(tools),"tool_choice":\#(choice)}"#)
            #expect(body["tool_choice"] == expected.map { json($0) }, "\(choice)")
        }
        // Without tools a tool_choice means nothing, and Anthropic would refuse it.
        let noTools = try anthropic(#"{"messages":[{"role":"user","content":"x"}],"tool_choice":"required"}"#)
        #expect(noTools["tool_choice"] == nil)
        for bad in [#""sometimes""#, #"{"type":"function"}"#, #"{"type":"allowed_tools"}"#, "3"] {
            #expect(invalidArgument(#"{"messages":[{"role":"user","content":"x"}],"tools":\#(tools),"tool_choice":\#(bad)}"#) != nil, "\(bad)")
        }
    }

    @Test func parallelToolCallsFalseDisablesParallelToolUse() throws {
        let base = #"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":false"#
        #expect(try anthropic(base + "}")["tool_choice"] == json(#"{"type":"auto","disable_parallel_tool_use":true}"#))
        #expect(try anthropic(base + #","tool_choice":"required"}"#)["tool_choice"] == json(#"{"type":"any","disable_parallel_tool_use":true}"#))
        #expect(try anthropic(base + #","tool_choice":"none"}"#)["tool_choice"] == json(#"{"type":"none"}"#))
        let parallel = #"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":true}"#
        #expect(try anthropic(parallel)["tool_choice"] == nil)
    }

    // MARK: - Sampling and limits

    @Test func mapsStop() throws {
        let cases: [(String, String?)] = [
            (#""END""#, #"["END"]"#),
            (#"["a","b"]"#, #"["a","b"]"#),
            (#"["a"," ",""]"#, #"["a"]"#),
            (#""""#, nil),
            ("[]", nil),
            ("null", nil),
        ]
        for (stop, expected) in cases {
            let body = try anthropic(#"{"messages":[{"role":"user","content":"x"}],"stop":\#(stop)}"#)
            #expect(body["stop_sequences"] == expected.map { json($0) }, "\(stop)")
            #expect(body["stop"] == nil)
        }
    }

    @Test func mapsMaxTokens() throws {
        let cases: [(String, Int64)] = [
            ("", 16384),
            (#","max_tokens":100"#, 100),
            (#","max_completion_tokens":200"#, 200),
            (#","max_tokens":100,"max_completion_tokens":300"#, 300),
            (#","max_tokens":null"#, 16384),
            (#","max_tokens":512.0"#, 512),
        ]
        for (extra, expected) in cases {
            let body = try anthropic(#"{"messages":[{"role":"user","content":"x"}]\#(extra)}"#)
            #expect(body["max_tokens"]?.int == expected, "\(extra)")
            #expect(body["max_completion_tokens"] == nil)
        }
    }

    @Test func passesSamplingParameters() throws {
        let body = try anthropic(#"{"messages":[{"role":"user","content":"x"}],"temperature":0.5,"top_k":40}"#)
        #expect(body["temperature"]?.double == 0.5)
        #expect(body["top_k"]?.int == 40)
        #expect(try anthropic(#"{"messages":[{"role":"user","content":"x"}],"top_p":0.9}"#)["top_p"]?.double == 0.9)
        // OpenAI's temperature goes to 2; Anthropic's to 1.
        #expect(try anthropic(#"{"messages":[{"role":"user","content":"x"}],"temperature":1.7}"#)["temperature"]?.double == 1)
        // Recent Claude models take one of temperature and top_p: temperature wins.
        let both = try anthropic(#"{"messages":[{"role":"user","content":"x"}],"temperature":0.2,"top_p":0.9}"#)
        #expect(both["temperature"]?.double == 0.2)
        #expect(both["top_p"] == nil)
        let nulls = try anthropic(#"{"messages":[{"role":"user","content":"x"}],"temperature":null,"top_p":null,"top_k":null}"#)
        #expect(nulls["temperature"] == nil && nulls["top_p"] == nil && nulls["top_k"] == nil)
    }

    // MARK: - Thinking

    @Test func thinkingSendsABudgetAndRaisesMaxTokens() throws {
        let request = #"{"messages":[{"role":"user","content":"x"}],"max_tokens":1000,"temperature":0.3,"top_k":5,"top_p":0.5}"#
        let body = try anthropic(request, thinking: thinkingConfig(.enabled, budget: 8192))
        #expect(body["thinking"] == json(#"{"type":"enabled","budget_tokens":8192}"#))
        #expect(body["max_tokens"]?.int == 12_288)  // 8192 + 4096
        #expect(body["temperature"] == nil && body["top_k"] == nil && body["top_p"] == nil)

        let cases: [(Int64?, Int, Int64)] = [
            (nil, 8192, 16384),      // the default is above the budget: kept
            (8192, 8192, 12288),     // equal is not above
            (8193, 8192, 8193),
            (nil, 20000, 24096),
            (2000, 1024, 2000),
            (100, 10, 1024 + 4096),  // a budget below Anthropic's minimum is raised to it
        ]
        for (maxTokens, budget, expected) in cases {
            let extra = maxTokens.map { #","max_tokens":\#($0)"# } ?? ""
            let b = try anthropic(#"{"messages":[{"role":"user","content":"x"}]\#(extra)}"#, thinking: thinkingConfig(.enabled, budget: budget))
            #expect(b["max_tokens"]?.int == expected, "max_tokens \(String(describing: maxTokens)), budget \(budget)")
            #expect(b["thinking"]?["budget_tokens"]?.int == max(1024, Int64(budget)))
        }
        // top_p of 0.95 or more is allowed with thinking.
        let highP = try anthropic(#"{"messages":[{"role":"user","content":"x"}],"top_p":0.97}"#, thinking: thinkingConfig(.enabled))
        #expect(highP["top_p"]?.double == 0.97)
    }

    @Test func decidesWhetherThinkingIsOn() {
        let cases: [(ThinkingConfig, String, Bool)] = [
            (thinkingConfig(), "claude-sonnet-4-6", true),           // Claude 4.6 thinks by default
            (thinkingConfig(), "claude-opus-4-6-20260205", true),
            (thinkingConfig(), "claude-opus-4.6", true),
            (thinkingConfig(), "anthropic.claude-opus-4-6-v1:0", true),
            (thinkingConfig(), "claude-opus-4-7", true),
            (thinkingConfig(), "claude-sonnet-4-5", false),
            (thinkingConfig(), "claude-sonnet-4-20250514", false),
            (thinkingConfig(), "claude-3-7-sonnet-latest", false),
            (thinkingConfig(), "gpt-4o", false),
            (thinkingConfig(.off), "claude-sonnet-4-6", false),        // level off overrides the default
            (thinkingConfig(.off, enabled: true), "claude-sonnet-4-6", false),
            (thinkingConfig(enabled: false), "claude-sonnet-4-6", false),
            (thinkingConfig(enabled: true), "claude-3-7-sonnet-latest", true),
            (thinkingConfig(.enabled, enabled: false), "claude-sonnet-4-5", true),  // the level comes first
            (thinkingConfig(.adaptive), "claude-sonnet-4-5", true),
        ]
        for (config, model, expected) in cases {
            #expect(AnthropicRequest.thinkingEnabled(config, modelID: model) == expected, "\(config) \(model)")
        }
    }

    @Test func readsClaudeVersions() {
        let cases: [(String, (Int, Int)?)] = [
            ("claude-sonnet-4-6", (4, 6)), ("claude-3-5-sonnet-20241022", (3, 5)), ("claude-sonnet-4-20250514", (4, 0)),
            ("claude-opus-4-1-20250805", (4, 1)), ("anthropic.claude-opus-4-6-v1:0", (4, 6)), ("claude-opus-4.6", (4, 6)),
            ("Claude-Opus-4-6", (4, 6)), ("claude-2.1", (2, 1)), ("claude-instant-1.2", (1, 2)), ("claude-4-opus", (4, 0)),
            ("claude-20250101", nil), ("claude-v2", nil), ("gpt-4o", nil), ("", nil), ("claude", nil),
        ]
        for (id, expected) in cases {
            let v = AnthropicRequest.claudeVersion(id)
            #expect(v?.0 == expected?.0 && v?.1 == expected?.1, "\(id)")
        }
    }

    @Test func claude46ThinksByDefaultWithABudget() throws {
        let body = try anthropic(#"{"messages":[{"role":"user","content":"x"}]}"#, model: "claude-sonnet-4-6")
        #expect(body["thinking"] == json(#"{"type":"enabled","budget_tokens":8192}"#))
        #expect(body["max_tokens"]?.int == 16384)
        let off = try anthropic(#"{"messages":[{"role":"user","content":"x"}]}"#, model: "claude-sonnet-4-6", thinking: thinkingConfig(.off))
        #expect(off["thinking"] == nil)
        let old = try anthropic(#"{"messages":[{"role":"user","content":"x"}]}"#, model: "claude-sonnet-4-5")
        #expect(old["thinking"] == nil)
    }

    @Test func adaptiveThinkingWhereTheModelHasIt() throws {
        let request = #"{"messages":[{"role":"user","content":"x"}],"max_tokens":4000}"#
        let adaptive = try anthropic(request, model: "claude-opus-4-6", thinking: thinkingConfig(.adaptive))
        #expect(adaptive["thinking"] == json(#"{"type":"adaptive"}"#))
        #expect(adaptive["max_tokens"]?.int == 12_288)  // 8192 + 4096
        // Older models have no adaptive thinking: a budget instead.
        let older = try anthropic(request, model: "claude-sonnet-4-5", thinking: thinkingConfig(.adaptive))
        #expect(older["thinking"] == json(#"{"type":"enabled","budget_tokens":8192}"#))
        // 4.7 and later take adaptive thinking only.
        let newer = try anthropic(request, model: "claude-opus-4-7", thinking: thinkingConfig(.enabled))
        #expect(newer["thinking"] == json(#"{"type":"adaptive"}"#))
    }

    @Test func forcedToolUseTurnsThinkingOff() throws {
        let tools = #""tools":[{"type":"function","function":{"name":"f"}}]"#
        for choice in [#""required""#, #"{"type":"function","function":{"name":"f"}}"#] {
            let body = try anthropic(#"{"messages":[{"role":"user","content":"x"}],\#(tools),"tool_choice":\#(choice),"temperature":0.4}"#,
                                     thinking: thinkingConfig(.enabled))
            #expect(body["thinking"] == nil, "\(choice)")
            #expect(body["tool_choice"] != nil)
            #expect(body["temperature"]?.double == 0.4)
        }
        for choice in [#""auto""#, #""none""#] {
            let body = try anthropic(#"{"messages":[{"role":"user","content":"x"}],\#(tools),"tool_choice":\#(choice)}"#,
                                     thinking: thinkingConfig(.enabled))
            #expect(body["thinking"] != nil, "\(choice)")
        }
    }

    @Test func aToolLoopWithoutThinkingBlocksTurnsThinkingOff() throws {
        let inLoop = try anthropic(#"""
            {"messages":[{"role":"user","content":"x"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"r"}]}
            """#, model: "claude-sonnet-4-6")
        #expect(inLoop["thinking"] == nil)
        let after = try anthropic(#"""
            {"messages":[{"role":"user","content":"x"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"r"},
              {"role":"assistant","content":"Done."},
              {"role":"user","content":"next"}]}
            """#, model: "claude-sonnet-4-6")
        #expect(after["thinking"] != nil)
        // A prefill (a final assistant message) is refused with thinking too.
        let prefill = try anthropic(#"{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"{"}]}"#,
                                    model: "claude-sonnet-4-6")
        #expect(prefill["thinking"] == nil)
        #expect(prefill["messages"]?[1] == json(#"{"role":"assistant","content":[{"type":"text","text":"{"}]}"#))
    }

    @Test func withoutThinkingRemovesOnlyThinking() throws {
        let body = try anthropic(#"{"messages":[{"role":"user","content":"x"}],"max_tokens":100}"#, thinking: thinkingConfig(.enabled))
        let retry = AnthropicRequest.withoutThinking(body)
        #expect(retry["thinking"] == nil)
        #expect(retry["max_tokens"]?.int == 12_288)  // 8192 + 4096
        var expected = body
        expected.set("thinking", nil)
        #expect(retry == expected)
        #expect(body["thinking"] != nil)  // the original is untouched
        #expect(AnthropicRequest.withoutThinking(retry) == retry)
    }

    @Test func recognisesThinkingRejections() {
        let cases: [(Int, String, Bool)] = [
            (400, "thinking: budget_tokens must be less than max_tokens", true),
            (400, "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`", true),
            (400, "Extended THINKING is not supported by this model", true),
            (400, "max_tokens: must be positive", false),
            (500, "thinking failed", false),
            (529, "Overloaded", false),
            (400, "", false),
        ]
        for (status, message, expected) in cases {
            #expect(AnthropicRequest.isThinkingRejection(status: status, message: message) == expected, "\(status) \(message)")
        }
    }
}
