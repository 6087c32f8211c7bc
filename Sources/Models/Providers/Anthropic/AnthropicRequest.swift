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
    /// to send (provider prefix already stripped). Throws `invalidArgument` for input
    /// it cannot translate.
    public static func translate(_ request: JSON, modelID: String, thinking: ThinkingConfig,
                                 stream: Bool) throws(ModelsError) -> JSON {
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

        var maxTokens = try requestedMaxTokens(request)
        let tools = try translateTools(request["tools"])
        var toolChoice = tools == nil ? nil : try translateToolChoice(request["tool_choice"])
        if tools != nil, request["parallel_tool_calls"]?.bool == false {
            var choice = toolChoice ?? ["type": "auto"]
            if choice["type"]?.string != "none" { choice.set("disable_parallel_tool_use", true) }
            toolChoice = choice
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

    /// Whether thinking is on for this model and config: the level, then the
    /// `enabled` flag, else on for Claude 4.6 and later models.
    public static func thinkingEnabled(_ thinking: ThinkingConfig, modelID: String) -> Bool {
        switch thinking.level {
        case .off: return false
        case .enabled, .adaptive: return true
        case nil:
            if let enabled = thinking.enabled { return enabled }
            return claudeVersion(modelID).map { $0 >= (4, 6) } ?? false
        }
    }

    /// Adaptive thinking (`{"type":"adaptive"}`) instead of a budget: asked for by the
    /// level on a model that has it (4.6 and later), or the only kind a model takes (4.7 on).
    static func usesAdaptiveThinking(_ thinking: ThinkingConfig, modelID: String) -> Bool {
        guard let version = claudeVersion(modelID) else { return false }
        if version >= (4, 7) { return true }
        return thinking.level == .adaptive && version >= (4, 6)
    }

    /// The same request with thinking removed (`max_tokens` left as is), for the one
    /// retry after a 400 that rejects thinking.
    public static func withoutThinking(_ body: JSON) -> JSON {
        var body = body
        body.set("thinking", nil)
        return body
    }

    /// True for an error answer that rejects thinking: status 400 and a message that
    /// mentions "thinking" in any case.
    public static func isThinkingRejection(status: Int, message: String) -> Bool {
        status == 400 && message.lowercased().contains("thinking")
    }

    /// The Claude generation in a model id: `claude-sonnet-4-6` → (4, 6),
    /// `claude-3-5-sonnet-20241022` → (3, 5), `claude-sonnet-4-20250514` → (4, 0),
    /// `anthropic.claude-opus-4-6-v1:0` → (4, 6), `claude-opus-4.6` → (4, 6). Nil when
    /// the id names no Claude version.
    static func claudeVersion(_ modelID: String) -> (Int, Int)? {
        var tokens: [String] = []
        var current = ""
        for u in modelID.utf8 {
            switch u {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): current.append(Character(Unicode.Scalar(u + 32)))
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                current.append(Character(Unicode.Scalar(u)))
            default:
                if !current.isEmpty { tokens.append(current) }
                current = ""
            }
        }
        if !current.isEmpty { tokens.append(current) }
        guard let start = tokens.firstIndex(of: "claude") else { return nil }
        func smallNumber(_ s: String) -> Int? {
            guard s.utf8.count <= 2, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int(s)
        }
        var i = start + 1
        while i < tokens.count {
            let token = tokens[i]
            if let major = smallNumber(token) {
                let minor = i + 1 < tokens.count ? smallNumber(tokens[i + 1]) ?? 0 : 0
                return (major, minor)
            }
            if token.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return nil }  // a date before any version
            i += 1
        }
        return nil
    }

    // MARK: - Fields

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

    /// OpenAI tools → Anthropic tools; nil when there are none. Tools of a type other
    /// than `function` (Anthropic's own server tools, say) pass through unchanged.
    private static func translateTools(_ value: JSON?) throws(ModelsError) -> JSON? {
        guard let value, !value.isNull else { return nil }
        guard let items = value.array else {
            throw .invalidArgument("request: \"tools\" must be an array, not \(value.kindName)")
        }
        var out: [JSON] = []
        for (i, tool) in items.enumerated() {
            guard tool.kind == .object else {
                throw .invalidArgument("request: tools[\(i)] must be an object, not \(tool.kindName)")
            }
            let type = tool["type"]?.string ?? "function"
            guard type == "function" else {
                out.append(tool)
                continue
            }
            guard let fn = tool["function"], fn.kind == .object else {
                throw .invalidArgument("request: tools[\(i)] has no \"function\" object")
            }
            guard let name = fn["name"]?.string, !name.isEmpty else {
                throw .invalidArgument("request: tools[\(i)].function has no \"name\"")
            }
            var translated: JSON = ["name": .string(name)]
            if let d = fn["description"]?.string, !d.isEmpty { translated.set("description", .string(d)) }
            var schema: JSON
            switch fn["parameters"] {
            case nil: schema = ["type": "object", "properties": [:]]
            case let p? where p.isNull: schema = ["type": "object", "properties": [:]]
            case let p? where p.kind == .object:
                schema = p
                if schema["type"] == nil { schema.set("type", "object") }
            case let p?:
                throw .invalidArgument("request: tools[\(i)] (\"\(name)\"): \"parameters\" must be an object, not \(p.kindName)")
            }
            translated.set("input_schema", schema)
            if let cache = tool["cache_control"] ?? fn["cache_control"], cache.kind == .object {
                translated.set("cache_control", cache)
            }
            out.append(translated)
        }
        return out.isEmpty ? nil : .array(out)
    }

    private static func translateToolChoice(_ value: JSON?) throws(ModelsError) -> JSON? {
        guard let value, !value.isNull else { return nil }
        if let s = value.string {
            switch s {
            case "auto": return ["type": "auto"]
            case "none": return ["type": "none"]
            case "required", "any": return ["type": "any"]
            default:
                throw .invalidArgument("request: \"tool_choice\" \"\(s)\" is not one of \"auto\", \"none\", \"required\"")
            }
        }
        guard value.kind == .object, let type = value["type"]?.string else {
            throw .invalidArgument("request: \"tool_choice\" must be a string or an object with a \"type\"")
        }
        switch type {
        case "function", "tool":
            guard let name = value["function"]?["name"]?.string ?? value["name"]?.string, !name.isEmpty else {
                throw .invalidArgument("request: \"tool_choice\" names no function")
            }
            return ["type": "tool", "name": .string(name)]
        case "auto", "none": return ["type": .string(type)]
        case "required", "any": return ["type": "any"]
        default:
            throw .invalidArgument("request: \"tool_choice\" of type \"\(type)\" is not supported for Anthropic")
        }
    }

    static func isBlank(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }

    /// Anthropic's tool ids match `[A-Za-z0-9_-]+`; other characters become `_`.
    static func toolID(_ id: String) -> String {
        guard !id.utf8.allSatisfy(isIDByte) else { return id }
        return String(decoding: id.utf8.map { isIDByte($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
    }

    private static func isIDByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f
    }
}

// MARK: - Messages

extension AnthropicRequest {
    /// The messages of a request in Anthropic's terms: system text pulled out, tool
    /// results batched into user messages.
    struct Conversation {
        var system = ""
        var messages: [JSON] = []
        /// Whether the last assistant message holds `tool_use` blocks.
        var lastAssistantUsesTools = false
        /// Whether the conversation ends with an assistant message (a prefill).
        var endsWithAssistant = false

        static func translate(_ items: [JSON]) throws(ModelsError) -> Conversation {
            var systemParts: [String] = []
            var messages: [JSON] = []
            var results: [JSON] = []
            func flush() {
                if !results.isEmpty { messages.append(["role": "user", "content": .array(results)]) }
                results = []
            }
            for (i, message) in items.enumerated() {
                let path = "messages[\(i)]"
                guard message.kind == .object else {
                    throw .invalidArgument("request: \(path) must be an object, not \(message.kindName)")
                }
                guard let role = message["role"]?.string else {
                    throw .invalidArgument("request: \(path) has no \"role\"")
                }
                switch role {
                case "system", "developer":
                    systemParts += try texts(message["content"], path: path)
                case "user":
                    flush()
                    let blocks = try contentBlocks(message["content"], path: path, assistant: false)
                    if !blocks.isEmpty { messages.append(["role": "user", "content": .array(blocks)]) }
                case "assistant":
                    flush()
                    var blocks = try contentBlocks(message["content"], path: path, assistant: true)
                    blocks += try toolUses(message["tool_calls"], path: path)
                    if !blocks.isEmpty { messages.append(["role": "assistant", "content": .array(blocks)]) }
                case "tool":
                    results.append(try toolResult(message, path: path))
                default:
                    throw .invalidArgument("request: \(path) has role \"\(role)\"; expected system, developer, user, assistant or tool")
                }
            }
            flush()
            trimFinalAssistant(&messages)
            var out = Conversation()
            out.system = systemParts.filter { !isBlank($0) }.joined(separator: "\n\n")
            out.messages = messages
            out.endsWithAssistant = messages.last?["role"]?.string == "assistant"
            if let last = messages.last(where: { $0["role"]?.string == "assistant" }) {
                out.lastAssistantUsesTools = last["content"]?.array?.contains { $0["type"]?.string == "tool_use" } ?? false
            }
            return out
        }

        /// Anthropic refuses a final assistant message (a prefill) ending in whitespace.
        private static func trimFinalAssistant(_ messages: inout [JSON]) {
            guard let last = messages.last, last["role"]?.string == "assistant",
                  var blocks = last["content"]?.array, let block = blocks.last,
                  block["type"]?.string == "text", var text = block["text"]?.string else { return }
            var scalars = text.unicodeScalars
            while let s = scalars.last, s.properties.isWhitespace { scalars.removeLast() }
            text = String(scalars)
            if isBlank(text) {
                blocks.removeLast()
            } else {
                var trimmed = block
                trimmed.set("text", .string(text))
                blocks[blocks.count - 1] = trimmed
            }
            if blocks.isEmpty {
                messages.removeLast()
            } else {
                messages[messages.count - 1] = ["role": "assistant", "content": .array(blocks)]
            }
        }

        /// The texts of a system message: a string or an array of text parts.
        private static func texts(_ content: JSON?, path: String) throws(ModelsError) -> [String] {
            guard let content, !content.isNull else { return [] }
            if let s = content.string { return [s] }
            guard let parts = content.array else {
                throw .invalidArgument("request: \(path).content must be a string or an array of parts, not \(content.kindName)")
            }
            var out: [String] = []
            for (j, part) in parts.enumerated() {
                guard part["type"]?.string == "text", let text = part["text"]?.string else {
                    throw .invalidArgument("request: \(path).content[\(j)] must be a text part in a system message")
                }
                out.append(text)
            }
            return out
        }

        /// Content blocks of a user, assistant or tool message.
        static func contentBlocks(_ content: JSON?, path: String, assistant: Bool) throws(ModelsError) -> [JSON] {
            guard let content, !content.isNull else { return [] }
            if let s = content.string {
                return isBlank(s) ? [] : [["type": "text", "text": .string(s)]]
            }
            guard let parts = content.array else {
                throw .invalidArgument("request: \(path).content must be a string, an array of parts or null, not \(content.kindName)")
            }
            var blocks: [JSON] = []
            for (j, part) in parts.enumerated() {
                let partPath = "\(path).content[\(j)]"
                guard part.kind == .object, let type = part["type"]?.string else {
                    throw .invalidArgument("request: \(partPath) must be an object with a \"type\"")
                }
                var block: JSON
                switch type {
                case "text", "refusal":
                    guard type == "text" || assistant else { throw unsupported(type, partPath, assistant) }
                    guard let text = part[type]?.string else {
                        throw .invalidArgument("request: \(partPath) has no \"\(type)\" string")
                    }
                    if isBlank(text) { continue }
                    block = ["type": "text", "text": .string(text)]
                case "image_url":
                    guard !assistant else { throw unsupported(type, partPath, assistant) }
                    guard let url = part["image_url"]?["url"]?.string ?? part["image_url"]?.string else {
                        throw .invalidArgument("request: \(partPath) has no \"image_url.url\"")
                    }
                    block = try media(url: url, path: partPath)
                case "file":
                    guard !assistant else { throw unsupported(type, partPath, assistant) }
                    block = try document(part["file"], path: partPath)
                default:
                    throw unsupported(type, partPath, assistant)
                }
                if let cache = part["cache_control"], cache.kind == .object { block.set("cache_control", cache) }
                blocks.append(block)
            }
            return blocks
        }

        private static func unsupported(_ type: String, _ path: String, _ assistant: Bool) -> ModelsError {
            .invalidArgument("request: \(path): a \"\(type)\" part cannot be sent to Anthropic in \(assistant ? "an assistant" : "this") message")
        }

        /// An image (or PDF) block from a `data:` or http(s) URL.
        static func media(url: String, path: String) throws(ModelsError) -> JSON {
            let head = String(decoding: url.utf8.prefix(8), as: UTF8.self).lowercased()
            if head.hasPrefix("data:") {
                guard let (mediaType, data) = dataURL(url) else {
                    throw .invalidArgument("request: \(path): a data: URL must look like data:<media type>;base64,<data>")
                }
                return try base64Block(mediaType: mediaType, data: data, path: path)
            }
            if head.hasPrefix("https://") || head.hasPrefix("http://") {
                return ["type": "image", "source": ["type": "url", "url": .string(url)]]
            }
            throw .invalidArgument("request: \(path): an image URL must be a data: URL or an http(s) URL")
        }

        private static func base64Block(mediaType: String, data: String, path: String) throws(ModelsError) -> JSON {
            var mediaType = mediaType
            if mediaType == "image/jpg" { mediaType = "image/jpeg" }
            let source: JSON = ["type": "base64", "media_type": .string(mediaType), "data": .string(data)]
            if mediaType == "application/pdf" { return ["type": "document", "source": source] }
            guard mediaType.hasPrefix("image/") else {
                throw .invalidArgument("request: \(path): media type \"\(mediaType)\" is not an image or a PDF")
            }
            return ["type": "image", "source": source]
        }

        /// `data:<type>[;param]*;base64,<data>` → (lowercased type, data); nil otherwise.
        static func dataURL(_ url: String) -> (String, String)? {
            let bytes = url.utf8
            guard String(decoding: bytes.prefix(5), as: UTF8.self).lowercased() == "data:",
                  let comma = bytes.firstIndex(of: UInt8(ascii: ",")) else { return nil }
            let header = String(decoding: bytes[bytes.index(bytes.startIndex, offsetBy: 5)..<comma], as: UTF8.self)
            let params = header.split(separator: ";", omittingEmptySubsequences: false).map { String($0) }
            guard params.count >= 2, params.last?.lowercased() == "base64", let type = params.first,
                  !type.isEmpty, type.contains("/") else { return nil }
            let data = String(decoding: bytes[bytes.index(after: comma)...], as: UTF8.self)
            guard !data.isEmpty else { return nil }
            return (type.lowercased(), data)
        }

        /// An OpenAI `file` part (`file_data` as a data: URL or bare base64 PDF) → a document block.
        private static func document(_ file: JSON?, path: String) throws(ModelsError) -> JSON {
            guard let file, file.kind == .object else {
                throw .invalidArgument("request: \(path) has no \"file\" object")
            }
            guard let data = file["file_data"]?.string, !data.isEmpty else {
                throw .invalidArgument("request: \(path): only inline \"file_data\" can be sent to Anthropic (not a file_id)")
            }
            var block: JSON
            if String(decoding: data.utf8.prefix(5), as: UTF8.self).lowercased() == "data:" {
                guard let (mediaType, payload) = dataURL(data) else {
                    throw .invalidArgument("request: \(path): a data: URL must look like data:<media type>;base64,<data>")
                }
                block = try base64Block(mediaType: mediaType, data: payload, path: path)
            } else {
                block = try base64Block(mediaType: "application/pdf", data: data, path: path)
            }
            if block["type"]?.string == "document", let name = file["filename"]?.string, !name.isEmpty {
                block.set("title", .string(name))
            }
            return block
        }

        private static func toolUses(_ calls: JSON?, path: String) throws(ModelsError) -> [JSON] {
            guard let calls, !calls.isNull else { return [] }
            guard let items = calls.array else {
                throw .invalidArgument("request: \(path).tool_calls must be an array, not \(calls.kindName)")
            }
            var out: [JSON] = []
            for (j, call) in items.enumerated() {
                let callPath = "\(path).tool_calls[\(j)]"
                guard call.kind == .object else {
                    throw .invalidArgument("request: \(callPath) must be an object, not \(call.kindName)")
                }
                guard let id = call["id"]?.string, !id.isEmpty else {
                    throw .invalidArgument("request: \(callPath) has no \"id\"")
                }
                guard let fn = call["function"], fn.kind == .object, let name = fn["name"]?.string, !name.isEmpty else {
                    throw .invalidArgument("request: tool call \"\(id)\" (\(callPath)) has no function name")
                }
                let input = try arguments(fn["arguments"], id: id, path: callPath)
                out.append(["type": "tool_use", "id": .string(toolID(id)), "name": .string(name), "input": input])
            }
            return out
        }

        /// The parsed arguments of a tool call: a JSON object; empty or missing is `{}`.
        static func arguments(_ value: JSON?, id: String, path: String) throws(ModelsError) -> JSON {
            guard let value, !value.isNull else { return .emptyObject }
            if value.kind == .object { return value }
            guard let text = value.string else {
                throw .invalidArgument("request: tool call \"\(id)\" (\(path)): arguments must be a JSON object, not \(value.kindName)")
            }
            if isBlank(text) { return .emptyObject }
            let parsed: JSON
            do { parsed = try JSON.parse(text) } catch {
                throw .invalidArgument("request: tool call \"\(id)\" (\(path)): arguments are not valid JSON: \(error.message)")
            }
            guard parsed.kind == .object else {
                throw .invalidArgument("request: tool call \"\(id)\" (\(path)): arguments must be a JSON object, not \(parsed.kindName)")
            }
            return parsed
        }

        private static func toolResult(_ message: JSON, path: String) throws(ModelsError) -> JSON {
            guard let id = message["tool_call_id"]?.string, !id.isEmpty else {
                throw .invalidArgument("request: \(path) (a tool message) has no \"tool_call_id\"")
            }
            var result: JSON = ["type": "tool_result", "tool_use_id": .string(toolID(id))]
            if let s = message["content"]?.string {
                if !isBlank(s) { result.set("content", .string(s)) }
            } else {
                let blocks = try contentBlocks(message["content"], path: path, assistant: false)
                if !blocks.isEmpty { result.set("content", .array(blocks)) }
            }
            return result
        }
    }
}
