// SPDX-License-Identifier: Apache-2.0
import ModelsCore
/// ConverseStream events → `chat.completion.chunk` JSON, one event at a time.
///
/// `messageStart` opens the message (a role chunk); `contentBlockStart` of a
/// `toolUse` starts a tool call (numbered from 0 in order); `contentBlockDelta`
/// carries text, tool input or reasoning (to the thinking callback);
/// `messageStop` gives the stop reason; `metadata`, which AWS sends last, gives
/// the usage and ends the stream with one chunk holding the finish reason and
/// the usage. Events before `messageStart` or after the end, and unknown shapes
/// of known events, are protocol errors; unknown events are ignored.
public struct BedrockStreamTranslator: Sendable {
    public enum Output: Sendable, Equatable {
        case chunk(JSON)
        case thinking(String)
        case nothing
        /// The last chunk (finish reason and usage): the stream is complete.
        case end(JSON)
    }

    private enum Phase: Sendable { case awaitingStart, inMessage, stopped, finished }
    private enum Block: Sendable { case tool(Int), jsonAnswer }

    public let model: String
    public let created: Int64
    public let id: String
    public let provider: String
    public let jsonAnswer: String?
    public private(set) var inputTokens: Int64 = 0
    public private(set) var outputTokens: Int64 = 0
    public private(set) var finishReason: String?
    public var finished: Bool { phase == .finished }

    private var phase = Phase.awaitingStart
    private var blocks: [Int64: Block] = [:]
    private var toolCount = 0
    private var answeredInJSON = false

    public init(model: String, created: Int64, id: String = "", provider: String = "bedrock", jsonAnswer: String? = nil) {
        self.model = model
        self.created = created
        self.id = id
        self.provider = provider
        self.jsonAnswer = jsonAnswer
    }

    public mutating func translate(type: String, data: JSON) throws(ModelsError) -> Output {
        guard data.kind == .object else { throw violation("the payload of a \"\(type)\" event is \(data.kindName), not an object") }
        switch type {
        case "messageStart":
            guard phase == .awaitingStart else { throw violation("a second messageStart") }
            phase = .inMessage
            return chunk(["role": "assistant", "content": ""])
        case "contentBlockStart":
            try require(.inMessage, type)
            let index = try blockIndex(data, type)
            guard let use = data["start"]?["toolUse"], use.kind == .object else { return .nothing }
            guard let callID = use["toolUseId"]?.string, let name = use["name"]?.string else {
                throw violation("a toolUse block starts without a toolUseId or a name")
            }
            if name == jsonAnswer {
                blocks[index] = .jsonAnswer
                answeredInJSON = true
                return .nothing
            }
            blocks[index] = .tool(toolCount)
            toolCount += 1
            return chunk(["tool_calls": [[
                "index": .int(Int64(toolCount - 1)), "id": .string(callID), "type": "function",
                "function": ["name": .string(name), "arguments": ""],
            ]]])
        case "contentBlockDelta":
            try require(.inMessage, type)
            let index = try blockIndex(data, type)
            guard let delta = data["delta"], delta.kind == .object else { throw violation("contentBlockDelta has no \"delta\" object") }
            if let text = delta["text"]?.string { return text.isEmpty ? .nothing : chunk(["content": .string(text)]) }
            if let input = delta["toolUse"]?["input"]?.string {
                switch blocks[index] {
                case .tool(let n)?:
                    return input.isEmpty ? .nothing : chunk(["tool_calls": [["index": .int(Int64(n)), "function": ["arguments": .string(input)]]]])
                case .jsonAnswer?:
                    return input.isEmpty ? .nothing : chunk(["content": .string(input)])
                case nil:
                    throw violation("tool input for block \(index), which did not start as a toolUse block")
                }
            }
            if let reasoning = delta["reasoningContent"]?["text"]?.string { return reasoning.isEmpty ? .nothing : .thinking(reasoning) }
            return .nothing  // reasoning signatures, redacted reasoning, citations
        case "contentBlockStop":
            try require(.inMessage, type)
            return .nothing
        case "messageStop":
            try require(.inMessage, type)
            phase = .stopped
            finishReason = BedrockResponse.finishReason(data["stopReason"]?.string, answeredInJSON: answeredInJSON && toolCount == 0)
            return .nothing
        case "metadata":
            try require(.stopped, type)
            let usage = BedrockResponse.Usage(data["usage"])
            inputTokens = usage.input
            outputTokens = usage.output
            phase = .finished
            var last = chunkJSON(.emptyObject, finishReason: finishReason)
            last.set("usage", usage.json)
            return .end(last)
        default:
            return .nothing
        }
    }

    private func require(_ wanted: Phase, _ type: String) throws(ModelsError) {
        guard phase != wanted else { return }
        switch phase {
        case .awaitingStart: throw violation("\(type) before messageStart")
        case .inMessage: throw violation("\(type) before messageStop")
        case .stopped: throw violation("\(type) after messageStop")
        case .finished: throw violation("\(type) after metadata")
        }
    }

    private func blockIndex(_ data: JSON, _ type: String) throws(ModelsError) -> Int64 {
        guard let index = data["contentBlockIndex"]?.int, index >= 0 else { throw violation("\(type) has no \"contentBlockIndex\"") }
        return index
    }

    private func violation(_ what: String) -> ModelsError { ModelsError(.protocol, "\(provider) stream: \(what)") }

    private func chunkJSON(_ delta: JSON, finishReason: String? = nil) -> JSON {
        [
            "id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
            "choices": [["index": 0, "delta": delta, "finish_reason": finishReason.map { .string($0) } ?? .null]],
        ]
    }

    private func chunk(_ delta: JSON) -> Output { .chunk(chunkJSON(delta)) }
}
