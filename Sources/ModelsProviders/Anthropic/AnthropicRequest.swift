// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// OpenAI Chat Completions request → Anthropic Messages request: pure functions from
/// JSON to JSON, no I/O. The HTTP layer sends what `translate` returns to
/// `POST {base}/messages` and, after a 400 that `isThinkingRejection` recognises,
/// sends `withoutThinking(body)` once.
///
/// Rules beyond the plain field mapping (each one avoids a 400 Anthropic would give):
/// - Thinking is turned off for a request that forces tool use (`tool_choice`
///   `required` or a named function): the request says what it needs from this call,
///   the router's thinking setting is a default, and Anthropic accepts only `auto` or
///   `none` with thinking. Downgrading the choice instead would silently break a
///   caller that relies on getting the tool call.
/// - Thinking is turned off when the last assistant message holds tool calls: the
///   OpenAI format cannot carry Anthropic's signed thinking blocks back, and Anthropic
///   demands them there ("a final assistant message must start with a thinking
///   block"). Likewise when the conversation ends with an assistant message (a
///   prefill), which Anthropic refuses with thinking. This is what the
///   thinking-rejection retry would do anyway, one round trip sooner.
/// - With thinking on, `temperature` and `top_k` are dropped and `top_p` is kept only
///   at 0.95 or above; `max_tokens` is raised to budget + 4096 when it is not above the
///   budget. With both `temperature` and `top_p`, `top_p` is dropped (recent models
///   accept only one). `temperature` is clamped to Anthropic's 0...1.
/// - Level `adaptive` sends `{"type":"adaptive"}` to Claude 4.6 and later; models from
///   4.7 on get adaptive thinking whatever the level (they refuse budgets); everything
///   else gets `{"type":"enabled","budget_tokens":B}` (B at least 1024).
/// - Empty or whitespace-only text is left out (Anthropic refuses empty text blocks);
///   a message left with nothing is dropped; a request left with no message at all is
///   an `invalidArgument`. Trailing whitespace of a final assistant message (a prefill)
///   is trimmed.
/// - Every other field is checked by `AnthropicParameters`: translated, dropped
///   (quality tuning such as `seed`), or refused (`n` > 1, `logprobs`, ...);
///   `response_format` becomes a tool the model must call (`AnthropicJSONAnswer`),
///   and `reasoning_effort` sets the thinking budget (`none`/`minimal`: off).
/// - Tool call ids are reduced to Anthropic's alphabet (`[A-Za-z0-9_-]`, others become
///   `_`) the same way in `tool_use` and `tool_result`, so a conversation begun with
///   another provider can go on here.
public enum AnthropicRequest {
    public static let defaultMaxTokens: Int64 = 16_384
    /// Added to the thinking budget when `max_tokens` is not above it.
    public static let thinkingHeadroom: Int64 = 4_096
    /// Anthropic's smallest accepted `budget_tokens`.
    public static let minimumThinkingBudget: Int64 = 1_024

    /// OpenAI chat request JSON → Anthropic Messages request JSON. `modelID` is the id
    /// to send (provider prefix already stripped); `provider` the configured name that
    /// messages give. Throws `invalidArgument` for input it cannot translate.
    public static func translate(_ request: JSON, modelID: String, thinking: ThinkingConfig,
                                 stream: Bool, provider: String = "anthropic") throws(ModelsError) -> JSON {
        guard request.kind == .object else {
            throw .invalidArgument("request must be a JSON object, not \(request.kindName)")
        }
        guard let list = request["messages"], let items = list.array else {
            throw .invalidArgument("request: \"messages\" must be an array, not \(request["messages"]?.kindName ?? "missing")")
        }
        let conversation = try Conversation.translate(items)
        guard !conversation.messages.isEmpty else {
            throw .invalidArgument("request: no user or assistant message with content to send (Anthropic needs at least one)")
        }

        _ = try AnthropicParameters.check(request, provider: provider)
        let thinking = AnthropicParameters.thinking(thinking, reasoningEffort: request["reasoning_effort"])
        var maxTokens = try requestedMaxTokens(request)
        var tools = try translateTools(request["tools"])
        var toolChoice = tools == nil ? nil : try translateToolChoice(request["tool_choice"])
        if tools != nil, request["parallel_tool_calls"]?.bool == false {
            var choice = toolChoice ?? ["type": "auto"]
            if choice["type"]?.string != "none" { choice.set("disable_parallel_tool_use", true) }
            toolChoice = choice
        }
        if let answer = try jsonAnswer(request) {
            (tools, toolChoice) = adding(answer, tools: tools, toolChoice: toolChoice)
        }
        let forcesTool = toolChoice.map { ["any", "tool"].contains($0["type"]?.string ?? "") } ?? false
        let thinkingOn = thinkingEnabled(thinking, modelID: modelID) && !forcesTool
            && !conversation.lastAssistantUsesTools && !conversation.endsWithAssistant

        var temperature = try number(request, "temperature")
        var topP = try number(request, "top_p")
        var topK = try integer(request, "top_k", min: 0)
        if thinkingOn {
            temperature = nil
            topK = nil
            if let p = topP, p < 0.95 { topP = nil }
        }
        if temperature != nil { topP = nil }

        var body: JSON = ["model": .string(modelID), "max_tokens": .int(maxTokens)]
        if !conversation.system.isEmpty {
            body.set("system", [["type": "text", "text": .string(conversation.system), "cache_control": ["type": "ephemeral"]]])
        }
        body.set("messages", .array(conversation.messages))
        if let stops = try stopSequences(request["stop"]) { body.set("stop_sequences", stops) }
        if let t = temperature { body.set("temperature", .double(min(max(t, 0), 1))) }
        if let p = topP { body.set("top_p", .double(min(max(p, 0), 1))) }
        if let k = topK { body.set("top_k", .int(k)) }
        if let tools { body.set("tools", tools) }
        if let toolChoice { body.set("tool_choice", toolChoice) }
        if let user = (request["user"]?.string ?? request["safety_identifier"]?.string), !user.isEmpty {
            body.set("metadata", ["user_id": .string(user)])
        }
        if let tier = request["service_tier"].flatMap(AnthropicParameters.serviceTier) { body.set("service_tier", .string(tier)) }
        body.set("stream", .bool(stream))

        if thinkingOn {
            let budget = max(minimumThinkingBudget, Int64(thinking.budgetTokens))
            if usesAdaptiveThinking(thinking, modelID: modelID) {
                body.set("thinking", ["type": "adaptive"])
            } else {
                body.set("thinking", ["type": "enabled", "budget_tokens": .int(budget)])
            }
            if maxTokens <= budget {
                let (raised, overflow) = budget.addingReportingOverflow(thinkingHeadroom)
                maxTokens = overflow ? Int64.max : raised
                body.set("max_tokens", .int(maxTokens))
            }
        }
        return body
    }


    private static func requestedMaxTokens(_ request: JSON) throws(ModelsError) -> Int64 {
        for key in ["max_completion_tokens", "max_tokens"] {
            guard let v = request[key], !v.isNull else { continue }
            guard let n = v.int, n > 0 else {
                throw .invalidArgument("request: \"\(key)\" must be a positive integer")
            }
            return n
        }
        return defaultMaxTokens
    }

    private static func number(_ request: JSON, _ key: String) throws(ModelsError) -> Double? {
        guard let v = request[key], !v.isNull else { return nil }
        guard let d = v.double else { throw .invalidArgument("request: \"\(key)\" must be a number, not \(v.kindName)") }
        return d
    }

    private static func integer(_ request: JSON, _ key: String, min: Int64) throws(ModelsError) -> Int64? {
        guard let v = request[key], !v.isNull else { return nil }
        guard let n = v.int, n >= min else {
            throw .invalidArgument("request: \"\(key)\" must be an integer of at least \(min)")
        }
        return n
    }

    private static func stopSequences(_ stop: JSON?) throws(ModelsError) -> JSON? {
        guard let stop, !stop.isNull else { return nil }
        var out: [JSON] = []
        if let s = stop.string {
            if !isBlank(s) { out.append(.string(s)) }
        } else if let items = stop.array {
            for item in items {
                guard let s = item.string else {
                    throw .invalidArgument("request: \"stop\" must be a string or an array of strings")
                }
                if !isBlank(s) { out.append(.string(s)) }
            }
        } else {
            throw .invalidArgument("request: \"stop\" must be a string or an array of strings, not \(stop.kindName)")
        }
        return out.isEmpty ? nil : .array(out)
    }
}
