// SPDX-License-Identifier: Apache-2.0
import ModelsCore
/// What becomes of each top-level field of an OpenAI chat request on its way to
/// Bedrock's Converse API: translated, dropped (quality tuning and OpenAI's own
/// storage; logged at DEBUG), or refused with `invalidArgument` naming the
/// field and the provider.
enum BedrockParameters {
    /// Fields `BedrockRequest.translate` carries over, as they are or in Converse's terms.
    static let translated: Set<String> = [
        "messages", "model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature",
        "top_p", "stop", "tools", "tool_choice", "parallel_tool_calls", "user", "safety_identifier", "metadata",
        "response_format", "reasoning_effort", "service_tier",
        // Accepted at the values Converse matches: n 1, logprobs false, modalities ["text"].
        "n", "logprobs", "top_logprobs", "modalities",
    ]

    /// Fields with no Converse equivalent that do not change what the answer is.
    static let dropped: Set<String> = [
        "seed", "logit_bias", "frequency_penalty", "presence_penalty", "store", "prediction",
        "prompt_cache_key", "prompt_cache_retention", "verbosity", "top_k",
    ]

    static let refused: [String: String] = [
        "audio": "Converse answers with text only",
        "web_search_options": "Bedrock Converse has no web search",
        "functions": "the legacy \"functions\" field is not translated; use \"tools\"",
        "function_call": "the legacy \"function_call\" field is not translated; use \"tool_choice\"",
    ]

    /// Checks every top-level field; throws for one that is refused.
    static func check(_ request: JSON, provider: String) throws(ModelsError) {
        for (key, value) in request.members ?? [] where !value.isNull {
            if translated.contains(key) {
                try checkValue(key, value, provider: provider)
            } else if dropped.contains(key) {
                continue
            } else if let why = refused[key] {
                throw refusal(key, provider, why)
            } else {
                throw refusal(key, provider, "it is not an OpenAI chat parameter and Converse has no field of that name")
            }
        }
    }

    /// The fields of `request` that `check` lets through but Bedrock never sees.
    static func droppedFields(_ request: JSON) -> [String] {
        (request.members ?? []).compactMap { dropped.contains($0.key) && !$0.value.isNull ? $0.key : nil }
    }

    private static func checkValue(_ key: String, _ value: JSON, provider: String) throws(ModelsError) {
        switch key {
        case "n":
            guard value.int == 1 else { throw refusal(key, provider, "Converse gives one choice per request (\"n\" must be 1)") }
        case "logprobs":
            guard value.bool == false else { throw refusal(key, provider, "Converse does not return log probabilities") }
        case "top_logprobs":
            guard value.int == 0 else { throw refusal(key, provider, "Converse does not return log probabilities") }
        case "modalities":
            guard let items = value.array, items.allSatisfy({ $0.string == "text" }) else {
                throw refusal(key, provider, "Converse answers with text only")
            }
        case "parallel_tool_calls":
            guard value.bool == true else {
                throw refusal(key, provider, "Converse cannot turn parallel tool calls off (only true is accepted)")
            }
        case "service_tier":
            guard ["auto", "default"].contains(value.string ?? "") else {
                throw refusal(key, provider, "Bedrock's on-demand tier is the only one sent (\"auto\" or \"default\")")
            }
        case "reasoning_effort":
            guard let effort = value.string, AnthropicParameters.reasoningBudgets[effort] != nil else {
                throw refusal(key, provider, "must be one of \"none\", \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\"")
            }
        case "metadata":
            guard let members = value.members, members.allSatisfy({ $0.value.string != nil }) else {
                throw refusal(key, provider, "\"metadata\" must be an object of strings (it becomes Converse's requestMetadata)")
            }
        default:
            return
        }
    }

    static func refusal(_ key: String, _ provider: String, _ why: String) -> ModelsError {
        .invalidArgument("request: \"\(key)\" cannot be sent to \(provider): \(why)")
    }
}
