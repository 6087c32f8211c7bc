// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// Every OpenAI chat parameter × every provider: it reaches the provider
/// (as is, or translated), is dropped only when it merely tunes quality, or is
/// refused with an error that names it and the provider. Nothing vanishes
/// without a word.
@Suite struct ProviderParameterTests {
    enum Anthropic: Equatable {
        /// Sent as these members of the Anthropic body (a JSON object text).
        case sent(String)
        /// Not sent; logged at DEBUG.
        case dropped
        /// Refused; the message holds this text.
        case refused(String)
    }

    /// Each OpenAI Chat Completions parameter (with a value that matters) and
    /// what becomes of it on its way to Anthropic.
    static let table: [(field: String, value: String, anthropic: Anthropic)] = [
        ("max_tokens", "100", .sent(#"{"max_tokens":100}"#)),
        ("max_completion_tokens", "90", .sent(#"{"max_tokens":90}"#)),
        ("temperature", "0.25", .sent(#"{"temperature":0.25}"#)),
        ("top_p", "0.5", .sent(#"{"top_p":0.5}"#)),
        ("stop", #"["END"]"#, .sent(#"{"stop_sequences":["END"]}"#)),
        ("stop", #""END""#, .sent(#"{"stop_sequences":["END"]}"#)),
        ("user", #""u-1""#, .sent(#"{"metadata":{"user_id":"u-1"}}"#)),
        ("safety_identifier", #""s-1""#, .sent(#"{"metadata":{"user_id":"s-1"}}"#)),
        ("service_tier", #""auto""#, .sent(#"{"service_tier":"auto"}"#)),
        ("service_tier", #""default""#, .sent(#"{"service_tier":"standard_only"}"#)),
        ("service_tier", #""flex""#, .refused(#""service_tier" cannot be sent to anthropic"#)),
        ("reasoning_effort", #""low""#, .sent(#"{"thinking":{"type":"enabled","budget_tokens":2048}}"#)),
        ("reasoning_effort", #""high""#, .sent(#"{"thinking":{"type":"enabled","budget_tokens":24576}}"#)),
        ("reasoning_effort", #""max""#, .refused(#""reasoning_effort" cannot be sent to anthropic: must be one of"#)),
        ("response_format", #"{"type":"text"}"#, .sent("{}")),
        ("response_format", #"{"type":"json_object"}"#,
         .sent(#"{"tool_choice":{"type":"tool","name":"json_answer"}}"#)),
        ("response_format", #"{"type":"json_schema","json_schema":{"name":"city","schema":{"type":"object","properties":{"name":{"type":"string"}}}}}"#,
         .sent(#"{"tool_choice":{"type":"tool","name":"city"}}"#)),
        ("response_format", #"{"type":"json_schema","json_schema":{"name":"l","schema":{"type":"array"}}}"#,
         .refused("must describe an object")),
        ("response_format", #"{"type":"grammar"}"#, .refused(#""response_format" of type "grammar" cannot be sent to Anthropic"#)),
        ("n", "1", .sent("{}")),
        ("n", "2", .refused(#""n" cannot be sent to anthropic: Anthropic gives one choice per request"#)),
        ("logprobs", "false", .sent("{}")),
        ("logprobs", "true", .refused(#""logprobs" cannot be sent to anthropic"#)),
        ("top_logprobs", "3", .refused(#""top_logprobs" cannot be sent to anthropic"#)),
        ("modalities", #"["text"]"#, .sent("{}")),
        ("modalities", #"["text","audio"]"#, .refused(#""modalities" cannot be sent to anthropic"#)),
        ("audio", #"{"voice":"alloy","format":"wav"}"#, .refused(#""audio" cannot be sent to anthropic"#)),
        ("stream_options", #"{"include_usage":true}"#, .sent("{}")),
        ("web_search_options", "{}", .refused(#""web_search_options" cannot be sent to anthropic"#)),
        ("functions", #"[{"name":"f"}]"#, .refused(#""functions" cannot be sent to anthropic"#)),
        ("function_call", #""auto""#, .refused(#""function_call" cannot be sent to anthropic"#)),
        ("seed", "7", .dropped),
        ("logit_bias", #"{"1":2}"#, .dropped),
        ("frequency_penalty", "0.2", .dropped),
        ("presence_penalty", "0.1", .dropped),
        ("store", "true", .dropped),
        ("metadata", #"{"k":"v"}"#, .dropped),
        ("prediction", #"{"type":"content","content":"x"}"#, .dropped),
        ("prompt_cache_key", #""k""#, .dropped),
        ("prompt_cache_retention", #""24h""#, .dropped),
        ("verbosity", #""low""#, .dropped),
        ("vendor_x", "1", .refused(#""vendor_x" cannot be sent to anthropic: it is not an OpenAI chat parameter"#)),
    ]

    static let tools = #"[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]"#

    static func request(_ field: String, _ value: String) -> JSON {
        try! JSON.parse(#"{"model":"anthropic/x","messages":[{"role":"user","content":"hi"}],"\#(field)":\#(value)}"#)
    }

    /// The Anthropic body a request gets, without the members every body has.
    static let alwaysSent: Set<String> = ["model", "max_tokens", "messages", "stream"]

    @Test(arguments: table) func anthropicTranslatesDropsOrRefusesEachParameter(_ field: String, _ value: String, _ expected: Anthropic) throws {
        let request = Self.request(field, value)
        var thinking = ThinkingConfig()
        thinking.level = .off
        switch expected {
        case .sent(let members):
            let body = try AnthropicRequest.translate(request, modelID: "claude-sonnet-4-5", thinking: thinking, stream: false)
            let wanted = try JSON.parse(members)
            for (key, value) in wanted.members ?? [] { #expect(body[key] == value, "\(field): \(key) is \(body[key]?.serialized() ?? "missing")") }
            // Nothing else appears, except the answer tool that goes with its tool_choice.
            let extra = Set(body.keys).subtracting(Self.alwaysSent).subtracting(wanted.keys).subtracting(["tools"])
            #expect(extra.isEmpty, "\(field): also sent \(extra)")
            #expect(AnthropicParameters.droppedFields(request).isEmpty)
        case .dropped:
            let body = try AnthropicRequest.translate(request, modelID: "claude-sonnet-4-5", thinking: thinking, stream: false)
            #expect(Set(body.keys) == Self.alwaysSent, "\(field)")
            #expect(AnthropicParameters.droppedFields(request) == [field])
        case .refused(let words):
            do {
                _ = try AnthropicRequest.translate(request, modelID: "claude-sonnet-4-5", thinking: thinking, stream: false)
                Issue.record("\(field): \(value) was accepted")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
    }

    /// The provider's configured name is the one the refusal gives.
    @Test func refusalsNameTheConfiguredProvider() {
        do {
            _ = try AnthropicRequest.translate(Self.request("n", "3"), modelID: "claude-x", thinking: ThinkingConfig(),
                                               stream: false, provider: "anthropic-eu")
            Issue.record("n: 3 was accepted")
        } catch {
            #expect(error.message.hasPrefix(#"request: "n" cannot be sent to anthropic-eu"#))
        }
    }

    /// Every parameter of the table reaches an OpenAI-compatible provider as written.
    @Test(arguments: table) func openAICompatibleProvidersGetEveryParameterAsWritten(_ field: String, _ value: String, _ expected: Anthropic) throws {
        let request = try ChatRequest(json: Self.request(field, value))
        // stream_options belongs to streams (OpenAI refuses it on other requests).
        let body = try JSON.parse(OpenAIRequest.body(request, modelID: "gpt-4o", stream: field == "stream_options"))
        #expect(body[field] == (try JSON.parse(value)), "\(field)")
        #expect(body["model"] == "gpt-4o")
    }

    // MARK: - JSON answers

    @Test func aJSONSchemaBecomesAToolTheModelMustCall() throws {
        let request = Self.request("response_format", #"{"type":"json_schema","json_schema":{"name":"city","description":"A city.","schema":{"properties":{"name":{"type":"string"}},"required":["name"]}}}"#)
        let body = try AnthropicRequest.translate(request, modelID: "claude-sonnet-4-6", thinking: ThinkingConfig(), stream: false)
        #expect(body["tools"] == (try JSON.parse(#"[{"name":"city","description":"Give your complete answer by calling this tool: its input is the answer. The answer: A city.","input_schema":{"properties":{"name":{"type":"string"}},"required":["name"],"type":"object"}}]"#)))
        #expect(body["tool_choice"] == (try JSON.parse(#"{"type":"tool","name":"city"}"#)))
        // A forced tool rules out thinking (Anthropic refuses both at once).
        #expect(body["thinking"] == nil)
        #expect(AnthropicRequest.jsonAnswerName(request) == "city")
    }

    @Test func withTheCallersToolsTheModelMayCallThemOrAnswer() throws {
        for (choice, expected) in [("null", #"{"type":"any"}"#), (#""auto""#, #"{"type":"any"}"#), (#""none""#, #"{"type":"tool","name":"json_answer"}"#),
                                   (#"{"type":"function","function":{"name":"f"}}"#, #"{"type":"tool","name":"f"}"#)] {
            let request = try JSON.parse(#"{"messages":[{"role":"user","content":"hi"}],"tools":\#(Self.tools),"tool_choice":\#(choice),"response_format":{"type":"json_object"}}"#)
            let body = try AnthropicRequest.translate(request, modelID: "claude-x", thinking: ThinkingConfig(), stream: false)
            #expect(body["tools"]?.array?.compactMap { $0["name"]?.string } == ["f", "json_answer"])
            #expect(body["tool_choice"] == (try JSON.parse(expected)), "\(choice)")
        }
        // A schema named like one of the caller's tools answers under the default name.
        let clash = try JSON.parse(#"{"messages":[{"role":"user","content":"hi"}],"tools":\#(Self.tools),"response_format":{"type":"json_schema","json_schema":{"name":"f","schema":{"type":"object"}}}}"#)
        #expect(AnthropicRequest.jsonAnswerName(clash) == "json_answer")
    }

    @Test func theAnswerToolComesBackAsContent() throws {
        let response = try JSON.parse(#"{"id":"m","type":"message","model":"claude","content":[{"type":"tool_use","id":"t1","name":"city","input":{"name":"Paris"}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":4}}"#)
        let answer = try AnthropicResponse.translate(response, model: "anthropic/claude", jsonAnswer: "city")
        let message = answer["choices"]?[0]?["message"]
        #expect(message?["content"]?.string == #"{"name":"Paris"}"#)
        #expect(message?["tool_calls"] == nil)
        #expect(answer["choices"]?[0]?["finish_reason"]?.string == "stop")
        // Another tool called beside it stays a tool call.
        let both = try JSON.parse(#"{"type":"message","content":[{"type":"tool_use","id":"t0","name":"f","input":{}},{"type":"tool_use","id":"t1","name":"city","input":{"name":"Paris"}}],"stop_reason":"tool_use"}"#)
        let mixed = try AnthropicResponse.translate(both, model: "m", jsonAnswer: "city")
        #expect(mixed["choices"]?[0]?["message"]?["tool_calls"]?.count == 1)
        #expect(mixed["choices"]?[0]?["finish_reason"]?.string == "tool_calls")
        // Without a JSON answer asked for, a tool of that name is a tool call.
        let plain = try AnthropicResponse.translate(response, model: "m")
        #expect(plain["choices"]?[0]?["message"]?["tool_calls"]?.count == 1)
    }

    @Test func aStreamedAnswerToolIsStreamedContent() throws {
        var t = AnthropicStreamTranslator(model: "claude", created: 1, jsonAnswer: "city")
        let events: [(String, String)] = [
            ("message_start", #"{"message":{"id":"m","model":"claude","usage":{"input_tokens":3}}}"#),
            ("content_block_start", #"{"index":0,"content_block":{"type":"tool_use","id":"t1","name":"city","input":{}}}"#),
            ("content_block_delta", #"{"index":0,"delta":{"type":"input_json_delta","partial_json":"{\"name\":"}}"#),
            ("content_block_delta", #"{"index":0,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}"#),
            ("content_block_stop", #"{"index":0}"#),
            ("message_delta", #"{"delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":4}}"#),
            ("message_stop", "{}"),
        ]
        var content = ""
        var finish: String?
        for (type, data) in events {
            if case .chunk(let c) = try t.translate(type: type, data: try JSON.parse(data)) {
                let delta = c["choices"]?[0]?["delta"]
                #expect(delta?["tool_calls"] == nil)
                content += delta?["content"]?.string ?? ""
                if let f = c["choices"]?[0]?["finish_reason"]?.string { finish = f }
            }
        }
        #expect(content == #"{"name":"Paris"}"#)
        #expect(finish == "stop")
    }
}
