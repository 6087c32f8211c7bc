// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// Anthropic Messages response → OpenAI `chat.completion`: pure functions, no I/O.
public enum AnthropicResponse {
    /// Anthropic Messages response JSON → OpenAI chat.completion JSON. `model` is the
    /// model name to report when the response names none; `created` the Unix time to
    /// report (Anthropic gives none); `jsonAnswer` the name of the tool that carries a
    /// JSON answer (`AnthropicRequest.jsonAnswerName`), whose input becomes the content.
    /// Throws `.protocol` when the body is not a message.
    public static func translate(_ response: JSON, model: String, created: Int64 = 0,
                                 jsonAnswer: String? = nil) throws(ModelsError) -> JSON {
        guard response.kind == .object else {
            throw ModelsError(.protocol, "anthropic: the response is \(response.kindName), not a message object")
        }
        if let type = response["type"], type.string != "message" {
            throw ModelsError(.protocol, "anthropic: the response is of type \(type.string.map { "\"\($0)\"" } ?? type.kindName), not \"message\"")
        }
        let blocks: [JSON]
        switch response["content"] {
        case nil: blocks = []
        case let c? where c.isNull: blocks = []
        case let c?:
            guard let items = c.array else {
                throw ModelsError(.protocol, "anthropic: the response's \"content\" is \(c.kindName), not an array")
            }
            blocks = items
        }

        var text = ""
        var sawText = false
        var reasoning = ""
        var sawReasoning = false
        var toolCalls: [JSON] = []
        var answeredInJSON = false
        for block in blocks {
            switch block["type"]?.string {
            case "text":
                if let t = block["text"]?.string { text += t; sawText = true }
            case "thinking":
                if let t = block["thinking"]?.string { reasoning += t; sawReasoning = true }
            case "tool_use":
                guard let id = block["id"]?.string, let name = block["name"]?.string else {
                    throw ModelsError(.protocol, "anthropic: a tool_use block of the response has no id or name")
                }
                let input = block["input"].flatMap { $0.isNull ? nil : $0 } ?? .emptyObject
                if name == jsonAnswer {
                    text += input.serialized()
                    sawText = true
                    answeredInJSON = true
                    continue
                }
                toolCalls.append([
                    "id": .string(id), "type": "function",
                    "function": ["name": .string(name), "arguments": .string(input.serialized())],
                ])
            default:
                continue  // redacted_thinking, server tool blocks, citations: nothing to show
            }
        }

        var message: JSON = ["role": "assistant"]
        message.set("content", sawText || toolCalls.isEmpty ? .string(text) : .null)
        if sawReasoning { message.set("reasoning_content", .string(reasoning)) }
        if !toolCalls.isEmpty { message.set("tool_calls", .array(toolCalls)) }

        let usage = Usage(response["usage"])
        return [
            "id": .string(response["id"]?.string ?? ""),
            "object": "chat.completion",
            "created": .int(created),
            "model": .string(response["model"]?.string ?? model),
            "choices": [[
                "index": 0, "message": message, "logprobs": nil,
                "finish_reason": .string(finishReason(response["stop_reason"]?.string, answeredInJSON: answeredInJSON && toolCalls.isEmpty)),
            ]],
            "usage": usage.json,
        ]
    }

    /// Anthropic `stop_reason` → OpenAI `finish_reason`: `tool_use` → `tool_calls`,
    /// `max_tokens` and `model_context_window_exceeded` → `length`, `refusal` →
    /// `content_filter`, anything else (`end_turn`, `stop_sequence`, `pause_turn`, none) → `stop`.
    /// A `tool_use` stop that only called the JSON answer tool (`answeredInJSON`) is `stop`.
    public static func finishReason(_ stopReason: String?, answeredInJSON: Bool = false) -> String {
        switch stopReason {
        case "tool_use": return answeredInJSON ? "stop" : "tool_calls"
        case "max_tokens", "model_context_window_exceeded": return "length"
        case "refusal": return "content_filter"
        default: return "stop"
        }
    }

    /// The type and message of an Anthropic error body
    /// (`{"type":"error","error":{"type":...,"message":...}}`); nil for any other shape.
    public static func error(in body: JSON) -> (type: String, message: String)? {
        guard body.kind == .object, let error = body["error"], error.kind == .object,
              let message = error["message"]?.string else { return nil }
        if let type = body["type"], type.string != "error" { return nil }
        return (error["type"]?.string ?? "error", message)
    }

    /// The error an Anthropic error type stands for when no HTTP status comes with it
    /// (an `error` event in a stream): the status Anthropic gives that type over HTTP,
    /// which also decides whether it is transient.
    public static func status(forErrorType type: String) -> Int {
        switch type {
        case "invalid_request_error": return 400
        case "authentication_error": return 401
        case "billing_error": return 402
        case "permission_error": return 403
        case "not_found_error": return 404
        case "request_too_large": return 413
        case "rate_limit_error": return 429
        case "api_error": return 500
        case "timeout_error": return 504
        case "overloaded_error": return 529
        default: return 0
        }
    }

    /// Token counts of an Anthropic `usage` object. Anthropic counts cache reads and
    /// cache writes apart from `input_tokens`; OpenAI's `prompt_tokens` includes them,
    /// so they are added in (and cache reads reported as `cached_tokens`).
    struct Usage {
        var input: Int64 = 0
        var output: Int64 = 0
        var cacheRead: Int64?
        var sawInput = false
        var sawOutput = false

        init(_ usage: JSON?) {
            guard let usage, usage.kind == .object else { return }
            var sum: Int64 = 0
            for key in ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] {
                if let n = usage[key]?.int {
                    sawInput = true
                    if n > 0 { sum = sum.saturatingAdd(n) }
                }
            }
            input = sum
            cacheRead = usage["cache_read_input_tokens"]?.int.map { max(0, $0) }
            if let n = usage["output_tokens"]?.int {
                output = max(0, n)
                sawOutput = true
            }
        }

        var json: JSON {
            var j: JSON = [
                "prompt_tokens": .int(input), "completion_tokens": .int(output),
                "total_tokens": .int(input.saturatingAdd(output)),
            ]
            if let cacheRead { j.set("prompt_tokens_details", ["cached_tokens": .int(cacheRead)]) }
            return j
        }
    }
}
