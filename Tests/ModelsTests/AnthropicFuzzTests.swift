// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// Random and mutated input for the Anthropic translators: they may throw, never trap.
/// Seeded, so a failure reproduces; a few thousand cases run well under a second.
@Suite struct AnthropicFuzzTests {
    private typealias Generator = SplitMix64

    private static let words = [
        "", " ", "type", "index", "text", "delta", "message", "content", "tool_use", "text_delta", "input_json_delta",
        "thinking_delta", "signature_delta", "message_start", "message_delta", "message_stop", "content_block_start",
        "content_block_delta", "content_block_stop", "error", "ping", "overloaded_error", "end_turn", "usage",
        "input_tokens", "output_tokens", "partial_json", "role", "user", "assistant", "system", "tool", "tool_calls",
        "function", "arguments", "name", "id", "image_url", "url", "data:image/png;base64,AA==", "data:", "data:,",
        "https://x.test/a.png", "{", "{}", "[]", "\"", "é ✓ 🙂", "\u{0}", "\n\t", "required", "auto", "none",
    ]
    private static let numbers: [Int64] = [0, 1, -1, 2, 7, 1024, 8192, 16384, Int64.max, Int64.min, Int64.max - 1]

    private func randomJSON(_ g: inout Generator, depth: Int = 0) -> JSON {
        switch g.below(depth >= 3 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(g.chance(50))
        case 2: return .int(g.pick(Self.numbers))
        case 3: return .double(g.pick([0.5, -1.5, 1e300, 0.95, 2.0]))
        case 4: return .string(g.pick(Self.words))
        case 5: return .array((0..<g.below(4)).map { _ in randomJSON(&g, depth: depth + 1) })
        default:
            return .object((0..<g.below(5)).map { _ in (g.pick(Self.words), randomJSON(&g, depth: depth + 1)) })
        }
    }

    /// Changes one random spot of a value: replaces, removes or adds a member or element.
    private func mutate(_ value: JSON, _ g: inout Generator, depth: Int = 0) -> JSON {
        if depth > 4 || g.chance(15) { return randomJSON(&g, depth: depth) }
        switch value.kind {
        case .object:
            var v = value
            let keys = v.keys
            switch g.below(4) {
            case 0 where !keys.isEmpty: v.set(g.pick(keys), nil)
            case 1: v.set(g.pick(Self.words), randomJSON(&g, depth: depth + 1))
            default:
                if let key = keys.isEmpty ? nil : g.pick(keys), let member = v[key] {
                    v.set(key, mutate(member, &g, depth: depth + 1))
                }
            }
            return v
        case .array:
            var items = value.array ?? []
            switch g.below(4) {
            case 0 where !items.isEmpty: items.remove(at: g.below(items.count))
            case 1: items.insert(randomJSON(&g, depth: depth + 1), at: g.below(items.count + 1))
            default:
                if !items.isEmpty {
                    let i = g.below(items.count)
                    items[i] = mutate(items[i], &g, depth: depth + 1)
                }
            }
            return .array(items)
        default:
            return randomJSON(&g, depth: depth)
        }
    }

    private static let events: [JSON] = [
        #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":25,"cache_read_input_tokens":3,"output_tokens":1}}}"#,
        #"{"type":"ping"}"#,
        #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
        #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}"#,
        #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#,
        #"{"type":"content_block_start","index":2,"content_block":{"type":"thinking","thinking":""}}"#,
        #"{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
        #"{"type":"content_block_delta","index":2,"delta":{"type":"signature_delta","signature":"sig"}}"#,
        #"{"type":"content_block_stop","index":0}"#,
        #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9223372036854775807,"input_tokens":9223372036854775807}}"#,
        #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}"#,
        #"{"type":"message_stop"}"#,
        #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    ].map { try! JSON.parse($0) }

    private static let eventTypes = [
        "", "message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta",
        "message_stop", "ping", "error", "unknown",
    ]

    @Test func randomAndMutatedEventStreamsNeverCrash() {
        var g = Generator(state: 0x5EED_0001)
        var outputs = 0, errors = 0
        for _ in 0..<3000 {
            var t = AnthropicStreamTranslator(model: "anthropic/claude", created: 1)
            // Most streams start properly, so the deeper states get exercised too.
            if g.chance(70) { _ = try? t.translate(type: "", data: Self.events[0]) }
            for _ in 0..<(1 + g.below(12)) {
                let data: JSON
                switch g.below(10) {
                case 0, 1: data = randomJSON(&g)
                case 2, 3, 4: data = mutate(g.pick(Self.events), &g)
                default: data = g.pick(Self.events)
                }
                let type = g.chance(60) ? "" : g.chance(85) ? g.pick(Self.eventTypes) : g.pick(Self.words)
                do {
                    _ = try t.translate(type: type, data: data)
                    outputs += 1
                } catch {
                    errors += 1
                    #expect(error.code == .api || error.code == .protocol)
                }
                #expect(t.inputTokens >= 0 && t.outputTokens >= 0)
            }
        }
        #expect(outputs > 1000 && errors > 100)
    }

    @Test func wellFormedRandomStreamsReassemble() throws {
        var g = Generator(state: 0x5EED_0002)
        for _ in 0..<300 {
            var t = AnthropicStreamTranslator(model: "m", created: 0)
            var events: [JSON] = [Self.events[0]]
            var expectedText = "", expectedThinking = "", expectedTools: [(String, String)] = []
            for index in 0..<g.below(6) {
                let pieces = (0..<g.below(4)).map { _ in g.pick(["a", "bc", "é", "🙂", " ", "{\"k\":", "1}"]) }
                switch g.below(3) {
                case 0:
                    events.append(["type": "content_block_start", "index": .int(index), "content_block": ["type": "text", "text": ""]])
                    for p in pieces { events.append(["type": "content_block_delta", "index": .int(index), "delta": ["type": "text_delta", "text": .string(p)]]) }
                    expectedText += pieces.joined()
                case 1:
                    events.append(["type": "content_block_start", "index": .int(index), "content_block": ["type": "thinking", "thinking": ""]])
                    for p in pieces { events.append(["type": "content_block_delta", "index": .int(index), "delta": ["type": "thinking_delta", "thinking": .string(p)]]) }
                    expectedThinking += pieces.joined()
                default:
                    let id = "toolu_\(index)"
                    events.append(["type": "content_block_start", "index": .int(index),
                                   "content_block": ["type": "tool_use", "id": .string(id), "name": "f", "input": [:]]])
                    for p in pieces { events.append(["type": "content_block_delta", "index": .int(index), "delta": ["type": "input_json_delta", "partial_json": .string(p)]]) }
                    expectedTools.append((id, pieces.joined()))
                }
                events.append(["type": "content_block_stop", "index": .int(index)])
            }
            events.append(["type": "message_delta", "delta": ["stop_reason": "end_turn"], "usage": ["output_tokens": 3]])
            events.append(["type": "message_stop"])

            var text = "", thinking = "", tools: [(id: String, arguments: String)] = [], ended = false
            for e in events {
                switch try t.translate(type: "", data: e) {
                case .chunk(let c):
                    let delta = c["choices"]?[0]?["delta"]
                    text += delta?["content"]?.string ?? ""
                    for call in delta?["tool_calls"]?.array ?? [] {
                        let i = Int(call["index"]?.int ?? -1)
                        if let id = call["id"]?.string {
                            #expect(i == tools.count)
                            tools.append((id, ""))
                        }
                        tools[i].arguments += call["function"]?["arguments"]?.string ?? ""
                    }
                case .thinking(let s): thinking += s
                case .nothing: break
                case .end: ended = true
                }
            }
            #expect(ended && t.finished)
            #expect(text == expectedText)
            #expect(thinking == expectedThinking)
            #expect(tools.map(\.id) == expectedTools.map(\.0))
            #expect(tools.map(\.arguments) == expectedTools.map(\.1))
        }
    }

    private static let messages: [JSON] = [
        #"{"role":"system","content":"Be brief."}"#,
        #"{"role":"developer","content":[{"type":"text","text":"dev"}]}"#,
        #"{"role":"user","content":"Hi"}"#,
        #"{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}},{"type":"image_url","image_url":{"url":"https://x.test/a.png"}}]}"#,
        #"{"role":"assistant","content":"Sure."}"#,
        #"{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},{"id":"c2","type":"function","function":{"name":"g","arguments":""}}]}"#,
        #"{"role":"tool","tool_call_id":"c1","content":"one"}"#,
        #"{"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"two"}]}"#,
    ].map { try! JSON.parse($0) }

    private static let requestExtras: [(String, JSON)] = [
        ("tools", try! JSON.parse(#"[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}},{"type":"function","function":{"name":"g"}}]"#)),
        ("tool_choice", "required"), ("tool_choice", try! JSON.parse(#"{"type":"function","function":{"name":"f"}}"#)),
        ("stop", try! JSON.parse(#"["END"]"#)), ("max_tokens", 100), ("max_completion_tokens", .int(Int64.max)),
        ("temperature", 1.5), ("top_p", 0.5), ("top_k", 3), ("parallel_tool_calls", false), ("user", "u"), ("n", 1),
        ("response_format", try! JSON.parse(#"{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object"}}}"#)),
        ("reasoning_effort", "low"), ("seed", 1),
    ]

    private static let models = ["claude-sonnet-4-6", "claude-sonnet-4-5", "claude-opus-4-7", "claude-3-5-haiku", "x", ""]

    @Test func randomAndMutatedRequestsNeverCrash() {
        var g = Generator(state: 0x5EED_0003)
        var translated = 0
        for _ in 0..<2500 {
            var items: [JSON] = []
            for _ in 0..<(1 + g.below(8)) {
                switch g.below(10) {
                case 0: items.append(randomJSON(&g))
                case 1, 2, 3: items.append(mutate(g.pick(Self.messages), &g))
                default: items.append(g.pick(Self.messages))
                }
            }
            var members: [(String, JSON)] = [("model", "anthropic/x"), ("messages", .array(items))]
            for _ in 0..<g.below(4) {
                let (key, value) = g.pick(Self.requestExtras)
                members.append((key, g.chance(20) ? mutate(value, &g) : value))
            }
            var request = JSON.object(members)
            if g.chance(10) { request = mutate(request, &g) }
            if g.chance(2) { request = randomJSON(&g) }

            var thinking = ThinkingConfig()
            thinking.level = g.pick([nil, .off, .enabled, .adaptive])
            thinking.enabled = g.pick([nil, true, false])
            thinking.budgetTokens = g.pick([0, 1024, 8192, Int.max / 2, Int.max])
            let model = g.pick(Self.models)
            do {
                let body = try AnthropicRequest.translate(request, modelID: model, thinking: thinking, stream: g.chance(50))
                translated += 1
                let maxTokens = body["max_tokens"]?.int ?? 0
                #expect(maxTokens > 0)
                #expect((body["messages"]?.count ?? 0) > 0)
                if let budget = body["thinking"]?["budget_tokens"]?.int { #expect(maxTokens > budget || budget == Int64.max) }
                if body["thinking"] != nil { #expect(body["temperature"] == nil && body["top_k"] == nil) }
                #expect(AnthropicRequest.withoutThinking(body)["thinking"] == nil)
            } catch {
                #expect(error.code == .invalidArgument)
            }
        }
        #expect(translated > 500)
    }

    private static let responses: [JSON] = [
        #"{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"Hi"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":[1,{"b":null}]}}],"stop_reason":"tool_use","usage":{"input_tokens":9223372036854775807,"cache_read_input_tokens":9223372036854775807,"output_tokens":9223372036854775807}}"#,
        #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    ].map { try! JSON.parse($0) }

    @Test func randomAndMutatedResponsesNeverCrash() {
        var g = Generator(state: 0x5EED_0004)
        for _ in 0..<2000 {
            var body = g.pick(Self.responses)
            for _ in 0..<(1 + g.below(3)) { body = mutate(body, &g) }
            if g.chance(5) { body = randomJSON(&g) }
            do {
                let out = try AnthropicResponse.translate(body, model: "m", created: 1)
                #expect(out["object"] == "chat.completion")
                #expect((out["usage"]?["total_tokens"]?.int ?? -1) >= 0)
            } catch {
                #expect(error.code == .protocol)
            }
            _ = AnthropicResponse.error(in: body)
        }
    }
}
