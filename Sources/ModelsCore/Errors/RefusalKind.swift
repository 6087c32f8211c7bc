// SPDX-License-Identifier: Apache-2.0
/// Which client errors are context-window or content-policy refusals: the
/// providers say so in an error code or, failing that, only in words.
extension ErrorKind {
    /// `.contextWindow` or `.contentPolicy` when a 400, 413 or 422 answer's (or
    /// a stream's error event's, `status` 0) error `codes` (its `code`, `type`
    /// and the like) or `message` say so; nil otherwise. Pure: the wording is
    /// matched case-insensitively.
    public static func refusal(status: Int, codes: [String], message: String) -> ErrorKind? {
        guard status == 0 || status == 400 || status == 413 || status == 422 else { return nil }
        let codes = codes.map { $0.lowercased() }
        if codes.contains(where: contextWindowCodes.contains) { return .contextWindow }
        if codes.contains(where: contentPolicyCodes.contains) { return .contentPolicy }
        let text = message.lowercased()
        if contextWindowPhrases.contains(where: text.contains) { return .contextWindow }
        if contentPolicyPhrases.contains(where: text.contains) { return .contentPolicy }
        return nil
    }

    static let contextWindowCodes: Set<String> = [
        "context_length_exceeded", "context_window_exceeded", "model_context_window_exceeded",
    ]
    static let contentPolicyCodes: Set<String> = [
        "content_filter", "content_policy_violation", "responsibleaipolicyviolation", "moderation_blocked",
    ]
    /// OpenAI, Anthropic ("prompt is too long"), vLLM, Ollama, Groq, Mistral,
    /// Gemini's OpenAI endpoint and others, as they phrase it.
    static let contextWindowPhrases = [
        "maximum context length", "context length", "context window", "context_length_exceeded",
        "prompt is too long", "input is too long", "too many input tokens", "reduce the length of the messages",
        "exceeds the maximum number of tokens", "input token count", "longer than the model's context",
    ]
    static let contentPolicyPhrases = [
        "content management policy", "content policy", "content filter", "usage policies", "usage policy",
        "flagged as potentially violating", "responsible ai", "safety system",
    ]
}
