// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// Whether a `chat.completion.chunk` carries part of the answer: text, a tool
/// call, reasoning, a refusal, or the end of a choice. Role-only chunks, empty
/// deltas and usage-only chunks carry nothing a caller reads as the answer.
enum ChunkDelta {
    static func carriesAnswer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Only the first chunks of a stream come here (until one carries the
        // answer), so a full parse costs nothing that matters.
        guard let json = try? JSON.parse(bytes), let choices = json["choices"]?.array else { return false }
        for choice in choices {
            if let finish = choice["finish_reason"], finish.kind != .null { return true }
            guard let delta = choice["delta"] else { continue }
            for key in ["content", "reasoning_content", "reasoning", "refusal"] {
                if let s = delta[key]?.string, !s.isEmpty { return true }
            }
            if let calls = delta["tool_calls"]?.array, !calls.isEmpty { return true }
            if let call = delta["function_call"], call.kind == .object { return true }
        }
        return false
    }
}
