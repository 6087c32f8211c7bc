// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// Every OpenAI chat parameter on its way to Bedrock's Converse API: sent (in
/// Converse's terms), dropped with a DEBUG line (quality tuning only), or
/// refused naming the parameter and the provider. The fields are those of
/// `ProviderParameterTests.table`, so no parameter is left out for Bedrock.
@Suite struct BedrockParameterTests {
    typealias Expected = ProviderParameterTests.Anthropic

    static let table: [(field: String, value: String, bedrock: Expected)] = [
        ("max_tokens", "100", .sent(#"{"inferenceConfig":{"maxTokens":100}}"#)),
        ("max_completion_tokens", "90", .sent(#"{"inferenceConfig":{"maxTokens":90}}"#)),
        ("temperature", "0.25", .sent(#"{"inferenceConfig":{"temperature":0.25}}"#)),
        ("top_p", "0.5", .sent(#"{"inferenceConfig":{"topP":0.5}}"#)),
        ("stop", #"["END"]"#, .sent(#"{"inferenceConfig":{"stopSequences":["END"]}}"#)),
        ("stop", #""END""#, .sent(#"{"inferenceConfig":{"stopSequences":["END"]}}"#)),
        ("user", #""u-1""#, .sent(#"{"requestMetadata":{"user":"u-1"}}"#)),
        ("safety_identifier", #""s-1""#, .sent(#"{"requestMetadata":{"user":"s-1"}}"#)),
        ("metadata", #"{"k":"v"}"#, .sent(#"{"requestMetadata":{"k":"v"}}"#)),
        ("metadata", #"{"k":1}"#, .refused(#""metadata" cannot be sent to bedrock"#)),
        ("service_tier", #""auto""#, .sent("{}")),
        ("service_tier", #""default""#, .sent("{}")),
        ("service_tier", #""flex""#, .refused(#""service_tier" cannot be sent to bedrock"#)),
        ("reasoning_effort", #""low""#,
         .sent(#"{"additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":2048}},"inferenceConfig":{"maxTokens":6144}}"#)),
        ("reasoning_effort", #""none""#, .sent("{}")),
        ("reasoning_effort", #""max""#, .refused(#""reasoning_effort" cannot be sent to bedrock: must be one of"#)),
        ("response_format", #"{"type":"text"}"#, .sent("{}")),
        ("response_format", #"{"type":"json_object"}"#,
         .sent(#"{"toolConfig":{"tools":[{"toolSpec":{"name":"json_answer","description":"Give your complete answer by calling this tool: its input is the answer.","inputSchema":{"json":{"type":"object"}}}}],"toolChoice":{"tool":{"name":"json_answer"}}}}"#)),
        ("response_format", #"{"type":"json_schema","json_schema":{"name":"l","schema":{"type":"array"}}}"#,
         .refused("must describe an object to be sent to Bedrock")),
        ("response_format", #"{"type":"grammar"}"#, .refused(#""response_format" of type "grammar" cannot be sent to Bedrock"#)),
        ("tools", ProviderParameterTests.tools, .sent(#"{"toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object"}}}}]}}"#)),
        ("n", "1", .sent("{}")),
        ("n", "2", .refused(#""n" cannot be sent to bedrock: Converse gives one choice per request"#)),
        ("logprobs", "false", .sent("{}")),
        ("logprobs", "true", .refused(#""logprobs" cannot be sent to bedrock"#)),
        ("top_logprobs", "3", .refused(#""top_logprobs" cannot be sent to bedrock"#)),
        ("modalities", #"["text"]"#, .sent("{}")),
        ("modalities", #"["text","audio"]"#, .refused(#""modalities" cannot be sent to bedrock"#)),
        ("audio", #"{"voice":"alloy","format":"wav"}"#, .refused(#""audio" cannot be sent to bedrock"#)),
        ("stream_options", #"{"include_usage":true}"#, .sent("{}")),
        ("web_search_options", "{}", .refused(#""web_search_options" cannot be sent to bedrock"#)),
        ("functions", #"[{"name":"f"}]"#, .refused(#""functions" cannot be sent to bedrock"#)),
        ("function_call", #""auto""#, .refused(#""function_call" cannot be sent to bedrock"#)),
        ("parallel_tool_calls", "true", .sent("{}")),
        ("parallel_tool_calls", "false", .refused(#""parallel_tool_calls" cannot be sent to bedrock"#)),
        ("tool_choice", #""auto""#, .sent("{}")),
        ("seed", "7", .dropped),
        ("logit_bias", #"{"1":2}"#, .dropped),
        ("frequency_penalty", "0.2", .dropped),
        ("presence_penalty", "0.1", .dropped),
        ("store", "true", .dropped),
        ("prediction", #"{"type":"content","content":"x"}"#, .dropped),
        ("prompt_cache_key", #""k""#, .dropped),
        ("prompt_cache_retention", #""24h""#, .dropped),
        ("verbosity", #""low""#, .dropped),
        ("top_k", "5", .dropped),
        ("vendor_x", "1", .refused(#""vendor_x" cannot be sent to bedrock: it is not an OpenAI chat parameter"#)),
    ]

    static let alwaysSent: Set<String> = ["messages"]
    static let modelID = "anthropic.claude-3-5-sonnet-20240620-v1:0"

    @Test(arguments: table) func bedrockTranslatesDropsOrRefusesEachParameter(_ field: String, _ value: String, _ expected: Expected) throws {
        let request = ProviderParameterTests.request(field, value)
        switch expected {
        case .sent(let members):
            let body = try BedrockRequest.translate(request, modelID: Self.modelID)
            let wanted = try JSON.parse(members)
            for (key, value) in wanted.members ?? [] { #expect(body[key] == value, "\(field): \(key) is \(body[key]?.serialized() ?? "missing")") }
            let extra = Set(body.keys).subtracting(Self.alwaysSent).subtracting(wanted.keys)
            #expect(extra.isEmpty, "\(field): also sent \(extra)")
            #expect(BedrockParameters.droppedFields(request).isEmpty)
        case .dropped:
            let body = try BedrockRequest.translate(request, modelID: Self.modelID)
            #expect(Set(body.keys) == Self.alwaysSent, "\(field)")
            #expect(BedrockParameters.droppedFields(request) == [field])
        case .refused(let words):
            do {
                _ = try BedrockRequest.translate(request, modelID: Self.modelID)
                Issue.record("\(field): \(value) was accepted")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
    }

    /// No parameter of the shared table is missing here.
    @Test func everyParameterHasABedrockRow() {
        let fields = Set(Self.table.map(\.field))
        for row in ProviderParameterTests.table { #expect(fields.contains(row.field), "\(row.field) has no Bedrock row") }
        // And every field the translator knows is in the table.
        for known in BedrockParameters.translated.union(BedrockParameters.dropped).union(BedrockParameters.refused.keys)
        where !["messages", "model", "stream"].contains(known) {
            #expect(fields.contains(known), "\(known) has no row")
        }
    }

    @Test func reasoningIsForClaudeModelsOnly() {
        let request = ProviderParameterTests.request("reasoning_effort", #""high""#)
        #expect(throws: ModelsError.self) { _ = try BedrockRequest.translate(request, modelID: "amazon.nova-pro-v1:0") }
        #expect((try? BedrockRequest.translate(request, modelID: "us.anthropic.claude-3-7-sonnet-20250219-v1:0")) != nil)
    }
}
