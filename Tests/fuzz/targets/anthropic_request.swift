// SPDX-License-Identifier: Apache-2.0
// AnthropicRequest.translate: an OpenAI chat request (the caller's JSON) to
// Anthropic's Messages request, with the model and thinking settings picked
// from a hash of the input. Invariants: it throws invalidArgument or returns a
// body that is valid JSON, names the model, has a positive max_tokens and at
// least one user or assistant message with content, keeps temperature and
// top_p in 0...1, gives thinking a budget below max_tokens, and spells tool ids
// in Anthropic's alphabet.
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders

private let models = ["claude-sonnet-4-6", "claude-opus-4-7", "claude-3-5-sonnet-20241022", "claude-sonnet-4-20250514",
                      "anthropic.claude-opus-4-6-v1:0", "custom-model"]
private let levels: [ThinkingConfig.Level?] = [nil, .off, .enabled, .adaptive]
private let enableds: [Bool?] = [nil, true, false]
private let budgets = [8192, 1024, 1, 1_000_000, Int(Int32.max)]

private func isToolID(_ s: String) -> Bool {
    !s.isEmpty && s.utf8.allSatisfy { c in
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnthropicRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        guard let request = try? JSON.parse(bytes) else { return 0 }
        var bits = optionBits(bytes)
        func pick<T>(_ items: [T]) -> T { defer { bits /= UInt64(items.count) }; return items[Int(bits % UInt64(items.count))] }
        let modelID = pick(models)
        var thinking = ThinkingConfig()
        thinking.level = pick(levels)
        thinking.enabled = pick(enableds)
        thinking.budgetTokens = pick(budgets)
        let stream = pick([false, true])

        let body: JSON
        do throws(ModelsError) { body = try AnthropicRequest.translate(request, modelID: modelID, thinking: thinking, stream: stream) } catch {
            invariant(error.code == .invalidArgument, "translate threw \(error.code), not invalidArgument: \(error.message)")
            return 0
        }
        checkRoundTrip(body, "the Anthropic request")
        checkRoundTrip(AnthropicRequest.withoutThinking(body), "the request without thinking")
        invariant(AnthropicRequest.withoutThinking(body)["thinking"] == nil, "withoutThinking kept thinking")
        invariant(body["model"]?.string == modelID, "model is not \(modelID)")
        invariant(body["stream"]?.bool == stream, "stream is not \(stream)")
        let maxTokens = body["max_tokens"]?.int ?? 0
        invariant(maxTokens > 0, "max_tokens \(maxTokens)")
        for key in ["temperature", "top_p"] {
            if let v = body[key] { invariant((v.double ?? -1) >= 0 && (v.double ?? 2) <= 1, "\(key) \(v) outside 0...1") }
        }
        if let budget = body["thinking"]?["budget_tokens"]?.int {
            invariant(budget >= AnthropicRequest.minimumThinkingBudget && budget < maxTokens,
                      "thinking budget \(budget) with max_tokens \(maxTokens)")
        }
        let messages = body["messages"]?.array ?? []
        invariant(!messages.isEmpty, "no message")
        for message in messages {
            let role = message["role"]?.string ?? ""
            invariant(role == "user" || role == "assistant", "role \(role)")
            guard let content = message["content"] else { invariant(false, "a message without content"); return 0 }
            if let blocks = content.array {
                invariant(!blocks.isEmpty, "a message with no content block")
                for block in blocks {
                    if let id = block["tool_use_id"]?.string ?? (block["type"]?.string == "tool_use" ? block["id"]?.string : nil) {
                        invariant(isToolID(id), "tool id \(id.debugDescription) outside [A-Za-z0-9_-]")
                    }
                }
            } else {
                invariant(!(content.string ?? "").isEmpty, "a message with empty or non-string content")
            }
        }
        return 0
    }
}
