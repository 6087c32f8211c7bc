// SPDX-License-Identifier: Apache-2.0
import ModelsCore
/// The messages of an OpenAI request in Converse's terms: system texts pulled
/// out, tool results batched into a user message, neighbours of one role merged.
struct BedrockConversation {
    var system: [String] = []
    var messages: [JSON] = []
    /// Whether any message holds a `toolUse` or `toolResult` block.
    var usesTools = false
    /// Whether the last assistant message holds `toolUse` blocks.
    var lastAssistantUsesTools = false

    static func translate(_ items: [JSON], provider: String) throws(ModelsError) -> BedrockConversation {
        var out = BedrockConversation()
        var turns: [(role: String, blocks: [JSON])] = []
        func add(_ role: String, _ blocks: [JSON]) {
            guard !blocks.isEmpty else { return }
            if let last = turns.last, last.role == role { turns[turns.count - 1].blocks += blocks } else { turns.append((role, blocks)) }
        }
        for (i, message) in items.enumerated() {
            let path = "messages[\(i)]"
            guard message.kind == .object else { throw .invalidArgument("request: \(path) must be an object, not \(message.kindName)") }
            guard let role = message["role"]?.string else { throw .invalidArgument("request: \(path) has no \"role\"") }
            switch role {
            case "system", "developer":
                for text in try SystemMessageText.texts(message["content"], path: path) where !AnthropicRequest.isBlank(text) {
                    out.system.append(text)
                }
            case "user":
                add("user", try blocks(message["content"], path: path, assistant: false, provider: provider))
            case "assistant":
                var blocks = try blocks(message["content"], path: path, assistant: true, provider: provider)
                let uses = try toolUses(message["tool_calls"], path: path)
                blocks += uses
                out.lastAssistantUsesTools = !uses.isEmpty
                if !uses.isEmpty { out.usesTools = true }
                add("assistant", blocks)
            case "tool":
                out.usesTools = true
                add("user", [try toolResult(message, path: path, provider: provider)])
            default:
                throw .invalidArgument("request: \(path) has role \"\(role)\"; expected system, developer, user, assistant or tool")
            }
        }
        out.messages = turns.map { ["role": .string($0.role), "content": .array($0.blocks)] }
        return out
    }

    /// Content blocks of a user, assistant or tool message.
    static func blocks(_ content: JSON?, path: String, assistant: Bool, provider: String) throws(ModelsError) -> [JSON] {
        guard let content, !content.isNull else { return [] }
        if let s = content.string { return AnthropicRequest.isBlank(s) ? [] : [["text": .string(s)]] }
        guard let parts = content.array else {
            throw .invalidArgument("request: \(path).content must be a string, an array of parts or null, not \(content.kindName)")
        }
        var out: [JSON] = []
        for (j, part) in parts.enumerated() {
            let partPath = "\(path).content[\(j)]"
            guard part.kind == .object, let type = part["type"]?.string else {
                throw .invalidArgument("request: \(partPath) must be an object with a \"type\"")
            }
            switch type {
            case "text", "refusal":
                guard type == "text" || assistant else { throw unsupported(type, partPath, provider) }
                guard let text = part[type]?.string else { throw .invalidArgument("request: \(partPath) has no \"\(type)\" string") }
                if !AnthropicRequest.isBlank(text) { out.append(["text": .string(text)]) }
            case "image_url":
                guard !assistant else { throw unsupported(type, partPath, provider) }
                guard let url = part["image_url"]?["url"]?.string ?? part["image_url"]?.string else {
                    throw .invalidArgument("request: \(partPath) has no \"image_url.url\"")
                }
                out.append(try image(url: url, path: partPath, provider: provider))
            case "file":
                guard !assistant else { throw unsupported(type, partPath, provider) }
                out.append(try document(part["file"], path: partPath, provider: provider))
            default:
                throw unsupported(type, partPath, provider)
            }
        }
        return out
    }

    private static func unsupported(_ type: String, _ path: String, _ provider: String) -> ModelsError {
        .invalidArgument("request: \(path): a \"\(type)\" part cannot be sent to \(provider) in this message")
    }

    static let imageFormats = ["image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp"]
    static let documentFormats = [
        "application/pdf": "pdf", "text/csv": "csv", "application/msword": "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
        "application/vnd.ms-excel": "xls", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
        "text/html": "html", "text/plain": "txt", "text/markdown": "md",
    ]

    /// An image block from a `data:` URL (bytes, base64) or an `s3://` URL.
    static func image(url: String, path: String, provider: String) throws(ModelsError) -> JSON {
        let head = String(decoding: url.utf8.prefix(5), as: UTF8.self).lowercased()
        if head == "data:" {
            guard let (mediaType, data) = AnthropicRequest.Conversation.dataURL(url) else {
                throw .invalidArgument("request: \(path): a data: URL must look like data:<media type>;base64,<data>")
            }
            guard let format = imageFormats[mediaType] else {
                throw .invalidArgument("request: \(path): \(provider) takes png, jpeg, gif or webp images, not \"\(mediaType)\"")
            }
            return ["image": ["format": .string(format), "source": ["bytes": .string(data)]]]
        }
        if head == "s3://" {
            let lower = url.lowercased()
            guard let format = imageFormats.first(where: { lower.hasSuffix("." + $0.value) || (lower.hasSuffix(".jpg") && $0.value == "jpeg") })?.value else {
                throw .invalidArgument("request: \(path): an s3:// image must end in .png, .jpeg, .jpg, .gif or .webp")
            }
            return ["image": ["format": .string(format), "source": ["s3Location": ["uri": .string(url)]]]]
        }
        throw .invalidArgument("request: \(path): \(provider) takes images as data: URLs (base64) or s3:// URLs, not http(s) URLs")
    }

    /// An OpenAI `file` part (`file_data`, a data: URL or bare base64 PDF) → a document block.
    private static func document(_ file: JSON?, path: String, provider: String) throws(ModelsError) -> JSON {
        guard let file, file.kind == .object else { throw .invalidArgument("request: \(path) has no \"file\" object") }
        guard let data = file["file_data"]?.string, !data.isEmpty else {
            throw .invalidArgument("request: \(path): only inline \"file_data\" can be sent to \(provider) (not a file_id)")
        }
        var mediaType = "application/pdf", payload = data
        if String(decoding: data.utf8.prefix(5), as: UTF8.self).lowercased() == "data:" {
            guard let (type, bytes) = AnthropicRequest.Conversation.dataURL(data) else {
                throw .invalidArgument("request: \(path): a data: URL must look like data:<media type>;base64,<data>")
            }
            (mediaType, payload) = (type, bytes)
        }
        if let format = imageFormats[mediaType] {
            return ["image": ["format": .string(format), "source": ["bytes": .string(payload)]]]
        }
        guard let format = documentFormats[mediaType] else {
            throw .invalidArgument("request: \(path): media type \"\(mediaType)\" is not a document type \(provider) takes")
        }
        return ["document": ["format": .string(format), "name": .string(documentName(file["filename"]?.string)),
                             "source": ["bytes": .string(payload)]]]
    }

    /// Converse's document names: letters, digits, single spaces, `-`, `(`, `)`, `[`, `]`.
    static func documentName(_ given: String?) -> String {
        var out = ""
        for ch in (given ?? "").prefix(200) {
            let ok = ch.isLetter || ch.isNumber || "-()[]".contains(ch)
            if ok { out.append(ch) } else if out.last != " " && !out.isEmpty { out.append(" ") }
        }
        while out.last == " " { out.removeLast() }
        return out.isEmpty ? "document" : out
    }

    private static func toolUses(_ calls: JSON?, path: String) throws(ModelsError) -> [JSON] {
        guard let calls, !calls.isNull else { return [] }
        guard let items = calls.array else { throw .invalidArgument("request: \(path).tool_calls must be an array, not \(calls.kindName)") }
        var out: [JSON] = []
        for (j, call) in items.enumerated() {
            let callPath = "\(path).tool_calls[\(j)]"
            guard call.kind == .object else { throw .invalidArgument("request: \(callPath) must be an object, not \(call.kindName)") }
            guard let id = call["id"]?.string, !id.isEmpty else { throw .invalidArgument("request: \(callPath) has no \"id\"") }
            guard let fn = call["function"], fn.kind == .object, let name = fn["name"]?.string, !name.isEmpty else {
                throw .invalidArgument("request: tool call \"\(id)\" (\(callPath)) has no function name")
            }
            let input = try AnthropicRequest.Conversation.arguments(fn["arguments"], id: id, path: callPath)
            out.append(["toolUse": ["toolUseId": .string(AnthropicRequest.toolID(id)), "name": .string(name), "input": input]])
        }
        return out
    }

    private static func toolResult(_ message: JSON, path: String, provider: String) throws(ModelsError) -> JSON {
        guard let id = message["tool_call_id"]?.string, !id.isEmpty else {
            throw .invalidArgument("request: \(path) (a tool message) has no \"tool_call_id\"")
        }
        var content: [JSON]
        if let s = message["content"]?.string {
            content = [["text": .string(s)]]
        } else {
            content = try blocks(message["content"], path: path, assistant: false, provider: provider)
                .filter { $0["text"] != nil || $0["image"] != nil || $0["document"] != nil }
        }
        if content.isEmpty || content.allSatisfy({ ($0["text"]?.string).map(AnthropicRequest.isBlank) ?? false }) {
            content = [["text": "(no output)"]]
        }
        return ["toolResult": ["toolUseId": .string(AnthropicRequest.toolID(id)), "content": .array(content)]]
    }
}
