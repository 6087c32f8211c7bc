// SPDX-License-Identifier: Apache-2.0
// AnthropicResponse.translate: a Messages response body from the server to an
// OpenAI chat.completion. Invariants: it throws a protocol error or returns a
// valid chat.completion whose token counts are not negative and add up
// (saturating), and whose finish_reason is one OpenAI defines.
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnthropicResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        guard let response = try? JSON.parse(bytes) else { return 0 }
        _ = AnthropicResponse.error(in: response)
        let completion: JSON
        do throws(ModelsError) { completion = try AnthropicResponse.translate(response, model: "claude-sonnet-4-6", created: 1_760_000_000) } catch {
            invariant(error.code == .protocol, "translate threw \(error.code), not protocol: \(error.message)")
            return 0
        }
        checkRoundTrip(completion, "the chat.completion")
        invariant(completion["object"]?.string == "chat.completion", "object is not chat.completion")
        let choice = completion["choices"]?[0]
        invariant(choice?["message"]?["role"]?.string == "assistant", "no assistant message")
        let reason = choice?["finish_reason"]?.string ?? ""
        invariant(["stop", "length", "tool_calls", "content_filter"].contains(reason), "finish_reason \(reason)")
        let usage = completion["usage"]
        let prompt = usage?["prompt_tokens"]?.int ?? -1, done = usage?["completion_tokens"]?.int ?? -1
        let total = usage?["total_tokens"]?.int ?? -1
        invariant(prompt >= 0 && done >= 0, "negative token counts \(prompt), \(done)")
        let (sum, overflow) = prompt.addingReportingOverflow(done)
        invariant(total == (overflow ? Int64.max : sum), "total_tokens \(total) for \(prompt) + \(done)")
        for call in choice?["message"]?["tool_calls"]?.array ?? [] {
            let arguments = call["function"]?["arguments"]?.string ?? ""
            invariant((try? JSON.parse(arguments)) != nil, "tool call arguments are not JSON: \(arguments)")
        }
        return 0
    }
}
