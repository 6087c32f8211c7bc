// SPDX-License-Identifier: Apache-2.0
import ModelsCore
/// OpenAI Chat Completions request → Bedrock Converse request: pure functions
/// from JSON to JSON, no I/O. The same body goes to `/converse` and
/// `/converse-stream` (the model id is in the path, not the body).
///
/// - System and developer messages become `system` text blocks; user and
///   assistant messages become `messages` of content blocks; consecutive tool
///   messages become `toolResult` blocks of one user message, and neighbours of
///   the same role are merged (Converse wants the roles to alternate).
/// - Images must be `data:` URLs (their bytes are sent base64, `format` from
///   the media type: png, jpeg, gif, webp) or `s3://` URLs; PDFs and other
///   documents come from `file` parts. Blank text is left out.
/// - `max_tokens`, `temperature`, `top_p` and `stop` go to `inferenceConfig`;
///   `tools` and `tool_choice` to `toolConfig`; `user` and `metadata` to
///   `requestMetadata`; `response_format` becomes a tool the model must call
///   (as for Anthropic), turned back into content by `BedrockResponse`;
///   `reasoning_effort` asks Claude models for extended thinking through
///   `additionalModelRequestFields`. Every other field is checked by
///   `BedrockParameters`.
public enum BedrockRequest {
    /// Added to the thinking budget when `max_tokens` is not above it.
    static let thinkingHeadroom: Int64 = 4_096

    public static func translate(_ request: JSON, modelID: String, provider: String = "bedrock") throws(ModelsError) -> JSON {
        guard request.kind == .object else {
            throw .invalidArgument("request must be a JSON object, not \(request.kindName)")
        }
        guard let list = request["messages"], let items = list.array else {
            throw .invalidArgument("request: \"messages\" must be an array, not \(request["messages"]?.kindName ?? "missing")")
        }
        try BedrockParameters.check(request, provider: provider)
        let conversation = try BedrockConversation.translate(items, provider: provider)
        guard !conversation.messages.isEmpty else {
            throw .invalidArgument("request: no user or assistant message with content to send (Converse needs at least one)")
        }

        var body: JSON = ["messages": .array(conversation.messages)]
        if !conversation.system.isEmpty { body.set("system", .array(conversation.system.map { ["text": .string($0)] })) }

        var inference: JSON = .emptyObject
        var maxTokens = try requestedMaxTokens(request)
        var temperature = try number(request, "temperature")
        var topP = try number(request, "top_p")
        if let stops = try stopSequences(request["stop"]) { inference.set("stopSequences", stops) }

        var toolConfig = try tools(request, conversationUsesTools: conversation.usesTools, provider: provider)
        if let answer = try AnthropicRequest.jsonAnswer(request, api: "Bedrock") {
            var config = toolConfig ?? ["tools": []]
            var all = config["tools"]?.array ?? []
            all.append(["toolSpec": [
                "name": .string(answer.name), "description": answer.tool["description"] ?? "",
                "inputSchema": ["json": answer.tool["input_schema"] ?? ["type": "object"]],
            ]])
            config.set("tools", .array(all))
            // Without tools of the caller's (or with "none"), the answer is forced; with
            // them the model must call one of them or the answer tool, unless one is named.
            if toolConfig == nil { config.set("toolChoice", ["tool": ["name": .string(answer.name)]]) }
            else if config["toolChoice"]?["tool"] == nil { config.set("toolChoice", ["any": .emptyObject]) }
            toolConfig = config
        }

        var additional: JSON = .emptyObject
        if let effort = request["reasoning_effort"]?.string, let budget = AnthropicParameters.reasoningBudgets[effort], budget > 0 {
            guard modelID.contains("anthropic.claude") else {
                throw BedrockParameters.refusal("reasoning_effort", provider,
                                                "extended thinking is sent only to Anthropic Claude models on Bedrock")
            }
            let forced = toolConfig?["toolChoice"].map { $0["any"] != nil || $0["tool"] != nil } ?? false
            if !forced && !conversation.lastAssistantUsesTools {
                additional.set("thinking", ["type": "enabled", "budget_tokens": .int(Int64(budget))])
                if (maxTokens ?? 0) <= Int64(budget) { maxTokens = Int64(budget).saturatingAdd(thinkingHeadroom) }
                temperature = nil
                if let p = topP, p < 0.95 { topP = nil }
            }
        }
        if let maxTokens { inference.set("maxTokens", .int(maxTokens)) }
        if let temperature { inference.set("temperature", .double(temperature)) }
        if let topP { inference.set("topP", .double(topP)) }
        if inference.count > 0 { body.set("inferenceConfig", inference) }
        if let toolConfig { body.set("toolConfig", toolConfig) }
        if additional.count > 0 { body.set("additionalModelRequestFields", additional) }

        var metadata: JSON = .emptyObject
        for (key, value) in request["metadata"]?.members ?? [] { if let s = value.string { metadata.set(key, .string(s)) } }
        if let user = request["user"]?.string ?? request["safety_identifier"]?.string, !user.isEmpty {
            metadata.set("user", .string(user))
        }
        if metadata.count > 0 { body.set("requestMetadata", metadata) }
        return body
    }

    /// `toolConfig` from `tools` and `tool_choice`; nil when there are none.
    /// `tool_choice` `"none"` leaves the tools out, which Converse refuses when
    /// the conversation holds tool calls or results: then it is refused here.
    private static func tools(_ request: JSON, conversationUsesTools: Bool, provider: String) throws(ModelsError) -> JSON? {
        guard let translated = try AnthropicRequest.translateTools(request["tools"]), let list = translated.array else {
            return nil
        }
        var specs: [JSON] = []
        for (i, tool) in list.enumerated() {
            guard let name = tool["name"]?.string, let schema = tool["input_schema"] else {
                throw .invalidArgument("request: tools[\(i)] of type \"\(tool["type"]?.string ?? "?")\" cannot be sent to \(provider) (only function tools)")
            }
            var spec: JSON = ["name": .string(name), "inputSchema": ["json": schema]]
            if let d = tool["description"]?.string { spec.set("description", .string(d)) }
            specs.append(["toolSpec": spec])
        }
        var config: JSON = ["tools": .array(specs)]
        switch try AnthropicRequest.translateToolChoice(request["tool_choice"])?["type"]?.string {
        case "any"?: config.set("toolChoice", ["any": .emptyObject])
        case "tool"?:
            let name = request["tool_choice"]?["function"]?["name"]?.string ?? request["tool_choice"]?["name"]?.string ?? ""
            config.set("toolChoice", ["tool": ["name": .string(name)]])
        case "none"?:
            guard !conversationUsesTools else {
                throw BedrockParameters.refusal("tool_choice", provider, "\"none\" leaves the tools out, and Converse needs them "
                                                + "when the conversation holds tool calls; use \"auto\"")
            }
            return nil
        case "auto"?: config.set("toolChoice", ["auto": .emptyObject])
        default: break
        }
        return config
    }

    private static func requestedMaxTokens(_ request: JSON) throws(ModelsError) -> Int64? {
        for key in ["max_completion_tokens", "max_tokens"] {
            guard let v = request[key], !v.isNull else { continue }
            guard let n = v.int, n > 0, n <= Int64(Int32.max) else {
                throw .invalidArgument("request: \"\(key)\" must be a positive integer")
            }
            return n
        }
        return nil
    }

    private static func number(_ request: JSON, _ key: String) throws(ModelsError) -> Double? {
        guard let v = request[key], !v.isNull else { return nil }
        guard let d = v.double, d.isFinite else { throw .invalidArgument("request: \"\(key)\" must be a number, not \(v.kindName)") }
        return d
    }

    private static func stopSequences(_ stop: JSON?) throws(ModelsError) -> JSON? {
        guard let stop, !stop.isNull else { return nil }
        var out: [JSON] = []
        if let s = stop.string {
            if !AnthropicRequest.isBlank(s) { out.append(.string(s)) }
        } else if let items = stop.array {
            for item in items {
                guard let s = item.string else { throw .invalidArgument("request: \"stop\" must be a string or an array of strings") }
                if !AnthropicRequest.isBlank(s) { out.append(.string(s)) }
            }
        } else {
            throw .invalidArgument("request: \"stop\" must be a string or an array of strings, not \(stop.kindName)")
        }
        return out.isEmpty ? nil : .array(out)
    }
}
