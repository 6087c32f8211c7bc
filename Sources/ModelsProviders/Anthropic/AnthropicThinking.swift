// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// Extended thinking: when it is on for a model, which kind a model takes, and the
/// one retry without it after Anthropic rejects it.
extension AnthropicRequest {
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
}
