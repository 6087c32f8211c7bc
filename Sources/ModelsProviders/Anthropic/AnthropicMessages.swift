// SPDX-License-Identifier: Apache-2.0
import ModelsCore

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
                    systemParts += try SystemMessageText.texts(message["content"], path: path)
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
