// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// What becomes of each top-level field of an OpenAI chat request on its way to
/// Anthropic: translated, dropped (fields that only tune quality or concern
/// OpenAI's own storage; logged at DEBUG), or refused with `invalidArgument`
/// naming the field, so a caller never believes it asked for something that
/// was silently left out.
enum AnthropicParameters {
    /// Fields `AnthropicRequest.translate` carries over, as they are or in Anthropic's terms.
    static let translated: Set<String> = [
        "messages", "model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature",
        "top_p", "top_k", "stop", "tools", "tool_choice", "parallel_tool_calls", "user", "safety_identifier",
        "response_format", "reasoning_effort", "service_tier",
        // Accepted at the values Anthropic matches: n 1, logprobs false, modalities ["text"].
        "n", "logprobs", "top_logprobs", "modalities",
    ]

    /// Fields with no Anthropic equivalent that do not change what the answer is.
    static let dropped: Set<String> = [
        "seed", "logit_bias", "frequency_penalty", "presence_penalty", "store", "metadata", "prediction",
        "prompt_cache_key", "prompt_cache_retention", "verbosity",
    ]

    /// Fields Anthropic cannot honour, and why (the message says what to do).
    static let refused: [String: String] = [
        "audio": "Anthropic models do not answer with audio",
        "web_search_options": "use Anthropic's web search tool in \"tools\" instead",
        "functions": "the legacy \"functions\" field is not translated; use \"tools\"",
        "function_call": "the legacy \"function_call\" field is not translated; use \"tool_choice\"",
    ]

    /// Checks every top-level field of `request`; returns the names of the fields
    /// that will be dropped (for a DEBUG line), throws for one that is refused.
    static func check(_ request: JSON, provider: String) throws(ModelsError) -> [String] {
        var droppedHere: [String] = []
        for (key, value) in request.members ?? [] where !value.isNull {
            if translated.contains(key) {
                try checkValue(key, value, provider: provider)
            } else if dropped.contains(key) {
                droppedHere.append(key)
            } else if let why = refused[key] {
                throw refusal(key, provider, why)
            } else {
                throw refusal(key, provider, "it is not an OpenAI chat parameter and Anthropic has no field of that name")
            }
        }
        return droppedHere
    }

    /// The fields of `request` that `check` lets through but Anthropic never sees.
    static func droppedFields(_ request: JSON) -> [String] {
        (request.members ?? []).compactMap { dropped.contains($0.key) && !$0.value.isNull ? $0.key : nil }
    }

    /// The translated fields that Anthropic matches only at some values.
    private static func checkValue(_ key: String, _ value: JSON, provider: String) throws(ModelsError) {
        switch key {
        case "n":
            guard value.int == 1 else { throw refusal(key, provider, "Anthropic gives one choice per request (\"n\" must be 1)") }
        case "logprobs":
            guard value.bool == false else { throw refusal(key, provider, "Anthropic does not return log probabilities") }
        case "top_logprobs":
            guard value.int == 0 else { throw refusal(key, provider, "Anthropic does not return log probabilities") }
        case "modalities":
            guard let items = value.array, items.allSatisfy({ $0.string == "text" }) else {
                throw refusal(key, provider, "Anthropic models answer with text only")
            }
        case "service_tier":
            guard serviceTier(value) != nil else {
                throw refusal(key, provider, "Anthropic's tiers are \"auto\" and \"default\" (standard only)")
            }
        case "reasoning_effort":
            guard let effort = value.string, reasoningBudgets[effort] != nil else {
                throw refusal(key, provider, "must be one of \"none\", \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\"")
            }
        default:
            return
        }
    }

    private static func refusal(_ key: String, _ provider: String, _ why: String) -> ModelsError {
        .invalidArgument("request: \"\(key)\" cannot be sent to \(provider): \(why)")
    }

    /// OpenAI `service_tier` → Anthropic's: `auto` stays, `default` is `standard_only`.
    static func serviceTier(_ value: JSON) -> String? {
        switch value.string {
        case "auto": return "auto"
        case "default": return "standard_only"
        default: return nil
        }
    }

    /// `reasoning_effort` → a thinking budget; 0 turns thinking off.
    static let reasoningBudgets: [String: Int] = [
        "none": 0, "minimal": 0, "low": 2_048, "medium": 8_192, "high": 24_576, "xhigh": 32_768,
    ]

    /// The router's thinking setting with the request's `reasoning_effort` applied:
    /// the request says what it wants from this call.
    static func thinking(_ config: ThinkingConfig, reasoningEffort: JSON?) -> ThinkingConfig {
        guard let effort = reasoningEffort?.string, let budget = reasoningBudgets[effort] else { return config }
        var thinking = config
        if budget == 0 {
            thinking.level = .off
        } else {
            thinking.level = config.level == .adaptive ? .adaptive : .enabled
            thinking.budgetTokens = budget
        }
        return thinking
    }
}
