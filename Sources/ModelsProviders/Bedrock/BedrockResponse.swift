// SPDX-License-Identifier: Apache-2.0
import ModelsCore
/// Bedrock Converse response → OpenAI `chat.completion`: pure functions, no I/O.
public enum BedrockResponse {
    /// `model` is the full routed name every answer reports (Converse names none);
    /// `jsonAnswer` the tool that carries a JSON answer, whose input becomes the content.
    public static func translate(_ response: JSON, model: String, created: Int64 = 0, id: String = "",
                                 jsonAnswer: String? = nil, provider: String = "bedrock") throws(ModelsError) -> JSON {
        guard response.kind == .object else {
            throw ModelsError(.protocol, "\(provider): the response is \(response.kindName), not an object")
        }
        guard let message = response["output"]?["message"], message.kind == .object else {
            throw ModelsError(.protocol, "\(provider): the response has no \"output.message\" object")
        }
        let blocks: [JSON]
        switch message["content"] {
        case nil: blocks = []
        case let c? where c.isNull: blocks = []
        case let c?:
            guard let items = c.array else { throw ModelsError(.protocol, "\(provider): the message's \"content\" is \(c.kindName), not an array") }
            blocks = items
        }
        var text = "", sawText = false, reasoning = "", sawReasoning = false, answeredInJSON = false
        var toolCalls: [JSON] = []
        for block in blocks {
            if let t = block["text"]?.string {
                text += t
                sawText = true
            } else if let r = block["reasoningContent"]?["reasoningText"]?["text"]?.string {
                reasoning += r
                sawReasoning = true
            } else if let use = block["toolUse"], use.kind == .object {
                guard let callID = use["toolUseId"]?.string, let name = use["name"]?.string else {
                    throw ModelsError(.protocol, "\(provider): a toolUse block of the response has no toolUseId or name")
                }
                let input = use["input"].flatMap { $0.isNull ? nil : $0 } ?? .emptyObject
                if name == jsonAnswer {
                    text += input.serialized()
                    sawText = true
                    answeredInJSON = true
                    continue
                }
                toolCalls.append(["id": .string(callID), "type": "function",
                                  "function": ["name": .string(name), "arguments": .string(input.serialized())]])
            }
        }
        var out: JSON = ["role": "assistant"]
        out.set("content", sawText || toolCalls.isEmpty ? .string(text) : .null)
        if sawReasoning { out.set("reasoning_content", .string(reasoning)) }
        if !toolCalls.isEmpty { out.set("tool_calls", .array(toolCalls)) }
        let reason = finishReason(response["stopReason"]?.string, answeredInJSON: answeredInJSON && toolCalls.isEmpty)
        return [
            "id": .string(id), "object": "chat.completion", "created": .int(created), "model": .string(model),
            "choices": [["index": 0, "message": out, "logprobs": nil, "finish_reason": .string(reason)]],
            "usage": Usage(response["usage"]).json,
        ]
    }

    /// Converse `stopReason` → OpenAI `finish_reason`.
    public static func finishReason(_ stopReason: String?, answeredInJSON: Bool = false) -> String {
        switch stopReason {
        case "tool_use": return answeredInJSON ? "stop" : "tool_calls"
        case "max_tokens", "model_context_window_exceeded": return "length"
        case "guardrail_intervened", "content_filtered": return "content_filter"
        default: return "stop"
        }
    }

    /// Converse token counts. Cache reads and writes are counted apart from
    /// `inputTokens`; OpenAI's `prompt_tokens` includes them.
    struct Usage: Equatable {
        var input: Int64 = 0
        var output: Int64 = 0
        var cacheRead: Int64?

        init(_ usage: JSON?) {
            guard let usage, usage.kind == .object else { return }
            for key in ["inputTokens", "cacheReadInputTokens", "cacheWriteInputTokens"] {
                if let n = usage[key]?.int, n > 0 { input = input.saturatingAdd(n) }
            }
            cacheRead = usage["cacheReadInputTokens"]?.int.map { max(0, $0) }
            output = max(0, usage["outputTokens"]?.int ?? 0)
        }

        var json: JSON {
            var j: JSON = ["prompt_tokens": .int(input), "completion_tokens": .int(output), "total_tokens": .int(input.saturatingAdd(output))]
            if let cacheRead { j.set("prompt_tokens_details", ["cached_tokens": .int(cacheRead)]) }
            return j
        }
    }

    /// The HTTP status an error or exception name stands for (`ThrottlingException`,
    /// `throttlingException`, `ValidationException:http://...`); 0 when unknown.
    public static func status(forException name: String) -> Int {
        var type = Substring(name)
        if let colon = type.firstIndex(of: ":") { type = type[..<colon] }
        switch type.lowercased() {
        case "throttlingexception", "modelnotreadyexception", "servicequotaexceededexception": return 429
        case "validationexception": return 400
        case "accessdeniedexception", "unrecognizedclientexception", "invalidsignatureexception": return 403
        case "expiredtokenexception": return 403
        case "resourcenotfoundexception": return 404
        case "modeltimeoutexception": return 408
        case "internalserverexception", "modelstreamerrorexception", "modelerrorexception": return 500
        case "serviceunavailableexception": return 503
        default: return 0
        }
    }
}
