// SPDX-License-Identifier: Apache-2.0
// AnthropicStreamTranslator fed the way the provider feeds it: an SSE body from
// the server, each event's data parsed as JSON and translated. Invariants: it
// throws api or protocol errors only; every chunk is a valid
// chat.completion.chunk; token counts never go negative or down; tool indexes
// count up from 0 without gaps; nothing but .nothing or an error after the end.
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnthropicStream(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        var translator = AnthropicStreamTranslator(model: "claude-sonnet-4-6", created: 1_760_000_000)
        var parser = SSEParser(maxEventBytes: 1 << 16)
        var ended = false
        var toolIndexes = 0
        var stopped = false
        do throws(ModelsError) {
            try parser.feed(bytes) { (event) throws(ModelsError) in
                guard !stopped, let json = try? JSON.parse(event.data) else { stopped = true; return }
                let type = event.type.count == 0 ? "" : event.typeString
                let (input, output) = (translator.inputTokens, translator.outputTokens)
                let out: AnthropicStreamTranslator.Output
                do throws(ModelsError) { out = try translator.translate(type: type, data: json) } catch {
                    invariant(error.code == .api || error.code == .protocol, "threw \(error.code): \(error.message)")
                    stopped = true
                    return
                }
                invariant(translator.inputTokens >= input && translator.outputTokens >= output,
                          "token counts went down: \(input)->\(translator.inputTokens), \(output)->\(translator.outputTokens)")
                invariant(translator.inputTokens >= 0 && translator.outputTokens >= 0, "negative token counts")
                if ended { invariant(out == .nothing, "\(out) after message_stop") }
                switch out {
                case .chunk(let chunk):
                    checkRoundTrip(chunk, "a chunk")
                    invariant(chunk["object"]?.string == "chat.completion.chunk", "not a chat.completion.chunk")
                    invariant(chunk["choices"]?[0]?["delta"]?.kind == .object, "a chunk without a delta object")
                    if let call = chunk["choices"]?[0]?["delta"]?["tool_calls"]?[0], call["id"] != nil {
                        invariant(call["index"]?.int == Int64(toolIndexes), "tool index \(call["index"]?.int ?? -1), expected \(toolIndexes)")
                        toolIndexes += 1
                    }
                case .end:
                    invariant(translator.finished, "end but not finished")
                    ended = true
                case .thinking(let text):
                    invariant(!text.isEmpty, "empty thinking")
                case .nothing:
                    break
                }
            }
        } catch {
            invariant(error.code == .protocol, "the SSE parser threw \(error.code)")
        }
        _ = parser.finish()
        return 0
    }
}
