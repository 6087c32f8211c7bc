// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// The text of an OpenAI system (or developer) message, for providers that
/// keep the system prompt apart from the turns (Anthropic, Bedrock).
enum SystemMessageText {
    /// The texts of a system message's content: a string or an array of text
    /// parts. `path` names the message in errors (`messages[0]`).
    static func texts(_ content: JSON?, path: String) throws(ModelsError) -> [String] {
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
}
