// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// Anthropic's server-sent events → `chat.completion.chunk` JSON, one event at a time.
///
/// An explicit state machine: before `message_start` only `ping` (and unknown events)
/// may come; then content blocks and `message_delta`; `message_stop` ends it and any
/// message event after that is a protocol error. Content blocks are remembered by
/// their index so an `input_json_delta` finds its tool call; tool calls are numbered
/// from 0 in the order their blocks start (other blocks do not count).
///
/// The HTTP layer feeds every event, forwards `.chunk`s to the caller and
/// `.thinking` text to the thinking callback, and stops at `.end`; a stream that
/// closes while `finished` is false was truncated (a protocol error).
public struct AnthropicStreamTranslator: Sendable {
    public enum Output: Sendable, Equatable {
        /// A `chat.completion.chunk` to hand to the caller.
        case chunk(JSON)
        /// Thinking text for the thinking callback.
        case thinking(String)
        /// Nothing to deliver (ping, block stop, signature, unknown events).
        case nothing
        /// `message_stop`: the stream is complete.
        case end
    }

    private enum Block: Sendable {
        case text, thinking, other
        case toolUse(index: Int)
        /// The tool that carries a JSON answer: its input is the content.
        case jsonAnswer
    }

    private enum Phase: Sendable { case awaitingStart, inMessage, stopped }

    /// The model every chunk names: the full routed name given at init
    /// (`anthropic/claude-sonnet-4-6`), as every chunk of every provider does;
    /// not the id Anthropic reports in `message_start`.
    public let model: String
    public let created: Int64
    /// Input tokens so far (cache reads and writes included), from `message_start`
    /// and, when it carries them, `message_delta`.
    public private(set) var inputTokens: Int64 = 0
    /// Output tokens so far, from `message_start` and `message_delta`.
    public private(set) var outputTokens: Int64 = 0
    /// `message_stop` seen.
    public var finished: Bool { phase == .stopped }
    /// The message id from `message_start`; empty before it.
    public private(set) var id: String = ""
    /// The OpenAI finish reason from `message_delta`; nil before it.
    public private(set) var finishReason: String?

    /// The provider's name as configured, for protocol errors ("anthropic-2 stream: ...").
    public let provider: String

    /// The name of the tool that carries a JSON answer (`response_format`), if any.
    public let jsonAnswer: String?

    private var phase = Phase.awaitingStart
    private var blocks: [Int64: Block] = [:]
    private var toolCount = 0
    private var answeredInJSON = false

    /// `model` is the full routed name; `created` is the Unix time of the request;
    /// `jsonAnswer` the answer tool's name (`AnthropicRequest.jsonAnswerName`).
    public init(model: String, created: Int64, provider: String = "anthropic", jsonAnswer: String? = nil) {
        self.model = model
        self.created = created
        self.provider = provider
        self.jsonAnswer = jsonAnswer
    }

    /// One event: its SSE event type (when empty, `data["type"]` is used) and its data.
    /// Throws `.api` for an `error` event and `.protocol` for an event that breaks the
    /// protocol.
    public mutating func translate(type: String, data: JSON) throws(ModelsError) -> Output {
        let eventType = type.isEmpty ? (data["type"]?.string ?? "") : type
        guard data.kind == .object else {
            throw violation("the data of a \"\(eventType)\" event is \(data.kindName), not an object")
        }
        switch eventType {
        case "error": throw Self.streamError(data)
        case "ping": return .nothing
        case "message_start": return try messageStart(data)
        case "content_block_start":
            try requireMessage(eventType)
            return try blockStart(data)
        case "content_block_delta":
            try requireMessage(eventType)
            return try blockDelta(data)
        case "content_block_stop":
            try requireMessage(eventType)
            return .nothing
        case "message_delta":
            try requireMessage(eventType)
            return messageDelta(data)
        case "message_stop":
            try requireMessage(eventType)
            phase = .stopped
            return .end
        default:
            return .nothing  // new event types are ignored, as Anthropic asks of clients
        }
    }

    // MARK: - Events

    private mutating func messageStart(_ data: JSON) throws(ModelsError) -> Output {
        guard phase == .awaitingStart else {
            throw violation(phase == .stopped ? "message_start after message_stop" : "a second message_start")
        }
        guard let message = data["message"], message.kind == .object else {
            throw violation("message_start has no \"message\" object")
        }
        phase = .inMessage
        id = message["id"]?.string ?? ""
        let usage = AnthropicResponse.Usage(message["usage"])
        inputTokens = usage.input
        outputTokens = usage.output
        return chunk(["role": "assistant", "content": ""])
    }

    private mutating func blockStart(_ data: JSON) throws(ModelsError) -> Output {
        let index = try blockIndex(data, "content_block_start")
        guard let block = data["content_block"], block.kind == .object, let type = block["type"]?.string else {
            throw violation("content_block_start has no \"content_block\" with a \"type\"")
        }
        switch type {
        case "tool_use":
            guard let callID = block["id"]?.string, let name = block["name"]?.string else {
                throw violation("a tool_use block starts without an id or a name")
            }
            if name == jsonAnswer {
                blocks[index] = .jsonAnswer
                answeredInJSON = true
                if let input = block["input"], input.kind == .object, input.count > 0 {
                    return chunk(["content": .string(input.serialized())])
                }
                return .nothing
            }
            let toolIndex = toolCount
            toolCount += 1
            blocks[index] = .toolUse(index: toolIndex)
            // Streamed input arrives in input_json_delta; a non-empty input here is a whole one.
            var arguments = ""
            if let input = block["input"], input.kind == .object, input.count > 0 { arguments = input.serialized() }
            return chunk(["tool_calls": [[
                "index": .int(toolIndex), "id": .string(callID), "type": "function",
                "function": ["name": .string(name), "arguments": .string(arguments)],
            ]]])
        case "text":
            blocks[index] = .text
            if let text = block["text"]?.string, !text.isEmpty { return chunk(["content": .string(text)]) }
            return .nothing
        case "thinking":
            blocks[index] = .thinking
            if let text = block["thinking"]?.string, !text.isEmpty { return .thinking(text) }
            return .nothing
        default:
            blocks[index] = .other  // redacted_thinking, server_tool_use, web search results, ...
            return .nothing
        }
    }

    private mutating func blockDelta(_ data: JSON) throws(ModelsError) -> Output {
        let index = try blockIndex(data, "content_block_delta")
        guard let delta = data["delta"], delta.kind == .object, let type = delta["type"]?.string else {
            throw violation("content_block_delta has no \"delta\" with a \"type\"")
        }
        switch type {
        case "text_delta":
            guard let text = delta["text"]?.string else { throw violation("a text_delta has no \"text\" string") }
            return text.isEmpty ? .nothing : chunk(["content": .string(text)])
        case "input_json_delta":
            guard let partial = delta["partial_json"]?.string else {
                throw violation("an input_json_delta has no \"partial_json\" string")
            }
            switch blocks[index] {
            case .toolUse(let toolIndex)?:
                if partial.isEmpty { return .nothing }
                return chunk(["tool_calls": [["index": .int(toolIndex), "function": ["arguments": .string(partial)]]]])
            case .jsonAnswer?:
                return partial.isEmpty ? .nothing : chunk(["content": .string(partial)])
            case .other?:
                return .nothing  // the input of a server tool: not the caller's to run
            case nil:
                throw violation("an input_json_delta for block \(index), which never started")
            case .text?, .thinking?:
                throw violation("an input_json_delta for block \(index), which is not a tool_use block")
            }
        case "thinking_delta":
            guard let text = delta["thinking"]?.string else { throw violation("a thinking_delta has no \"thinking\" string") }
            return text.isEmpty ? .nothing : .thinking(text)
        default:
            return .nothing  // signature_delta, citations_delta, and deltas yet to come
        }
    }

    private mutating func messageDelta(_ data: JSON) -> Output {
        // Anthropic's message_delta counts are cumulative; max() also survives a proxy that sends zeros.
        let usage = AnthropicResponse.Usage(data["usage"])
        if usage.sawInput { inputTokens = max(inputTokens, usage.input) }
        if usage.sawOutput { outputTokens = max(outputTokens, usage.output) }
        let reason = AnthropicResponse.finishReason(data["delta"]?["stop_reason"]?.string,
                                                    answeredInJSON: answeredInJSON && toolCount == 0)
        finishReason = reason
        var c = chunkJSON(.emptyObject, finishReason: reason)
        c.set("usage", [
            "prompt_tokens": .int(inputTokens), "completion_tokens": .int(outputTokens),
            "total_tokens": .int(inputTokens.saturatingAdd(outputTokens)),
        ])
        return .chunk(c)
    }

    // MARK: - Helpers

    private func requireMessage(_ type: String) throws(ModelsError) {
        switch phase {
        case .inMessage: return
        case .awaitingStart: throw violation("\(type) before message_start")
        case .stopped: throw violation("\(type) after message_stop")
        }
    }

    private func blockIndex(_ data: JSON, _ type: String) throws(ModelsError) -> Int64 {
        guard let index = data["index"]?.int, index >= 0 else {
            throw violation("\(type) has no block \"index\"")
        }
        return index
    }

    private func violation(_ what: String) -> ModelsError {
        ModelsError(.protocol, "\(provider) stream: \(what)")
    }

    private func chunkJSON(_ delta: JSON, finishReason: String? = nil) -> JSON {
        [
            "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
            "choices": [["index": 0, "delta": delta, "finish_reason": finishReason.map { .string($0) } ?? .null]],
        ]
    }

    private func chunk(_ delta: JSON) -> Output { .chunk(chunkJSON(delta)) }

    /// The error an `error` event reports: `.api` with "<type>: <message>", and the
    /// status Anthropic gives that type over HTTP (529 overloaded, 429 rate limit, 500
    /// api error, ...; 0 when unknown), which makes overloaded, rate-limit, api and
    /// timeout errors transient.
    static func streamError(_ data: JSON) -> ModelsError {
        let error = data["error"]
        let type = error?["type"]?.string ?? "error"
        let message = error?["message"]?.string ?? "the stream reported an error without a message"
        let status = AnthropicResponse.status(forErrorType: type)
        return .api(status: status, message: "\(type): \(message)", kind: ErrorKind.refusal(status: status, codes: [type], message: message))
    }
}
