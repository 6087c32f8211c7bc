// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// OpenAI `tools` and `tool_choice` in Anthropic's terms, and the tool-id alphabet.
extension AnthropicRequest {
    /// OpenAI tools → Anthropic tools; nil when there are none. Tools of a type other
    /// than `function` (Anthropic's own server tools, say) pass through unchanged.
    static func translateTools(_ value: JSON?) throws(ModelsError) -> JSON? {
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

    static func translateToolChoice(_ value: JSON?) throws(ModelsError) -> JSON? {
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
