// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsProviders

/// What a caller's stream was given, and how to go on with it after a break:
/// a pure value that both drivers (the blocking `ResumingStream` and the
/// engine's `EngineCall`) feed with the chunks they deliver and ask what to do.
///
///     filter(chunk) ...  ──▶ broke(error) ──▶ .resume ──▶ continuation(form) ──▶ attemptBegan(form)
///                                                         ──▶ attemptCommitted(model) ──▶ filter(chunk) ...
///                                         ──▶ .complete (the finish was delivered: end cleanly)
///                                         ──▶ .fail(error)
///
/// Every byte of `delta.content` reaches the caller once, in order: a resumed
/// attempt's text is trimmed of what it repeats of the delivered text (the
/// overlap), its role and reasoning are dropped, and a tool call it restarts
/// keeps the delivered id and name.
struct StreamResume {
    /// How a provider is asked to continue.
    enum Form: Equatable, Sendable {
        /// The partial answer as a trailing assistant message, which the model
        /// continues (Anthropic). Sent without its trailing whitespace, which the
        /// provider refuses, so up to that much may come back again.
        case prefill
        /// The partial answer as an assistant message with `"prefix": true`
        /// (DeepSeek, Mistral): continued exactly.
        case prefix
        /// The partial answer as an assistant message, then a user message
        /// asking to continue: whatever the answer repeats of the end of the
        /// partial answer is removed.
        case instruction
    }

    enum Decision: Equatable {
        /// Ask for a continuation; the error is the one the routing sees (transient).
        case resume(ModelsError)
        /// The finish was delivered before the break: the answer is complete.
        case complete
        /// The stream cannot go on: end it with this error.
        case fail(ModelsError)
    }

    /// One answering attempt's share of the caller's stream.
    struct Part: Equatable {
        var model: String
        /// Bytes of `delta.content` this attempt delivered (after trimming).
        var contentBytes = 0
        /// The kind of the error that broke it; nil for the last part.
        var endedBy: ErrorKind?
    }

    /// The user message of the `instruction` form.
    static let instruction = "Your previous answer was cut off. Continue it exactly where it stops, without repeating any of it and without any preamble."
    /// How much of the delivered text a resumed `instruction` answer may repeat (bytes).
    static let overlapWindow = 512
    /// The shortest repeat removed in the `instruction` form, unless it is the whole delivered text:
    /// shorter ones are as likely to be a real continuation.
    static let minimumOverlap = 4

    /// The `delta.content` delivered, in order.
    private(set) var content: [UInt8] = []
    /// Per tool-call index: its id/name was delivered, and how many bytes of its arguments.
    private(set) var toolArgumentBytes: [Int] = []
    /// A `finish_reason` was delivered.
    private(set) var finished = false
    /// The attempts that delivered something, in order.
    private(set) var parts: [Part] = []
    /// Tokens of the attempts that broke.
    private(set) var usageBefore: (input: Int64, output: Int64) = (0, 0)
    /// Set when the stream has something resumption cannot handle (several choices).
    private var cannotResume: String?

    /// The first chunk's id and created time, for the summary chunk.
    private var chunkID: JSON?
    private var created: JSON?
    private var lastModel: JSON?

    // The attempt in progress.
    private var form: Form?
    /// Content of a resumed attempt held until its overlap with `content` is known.
    private var pending: [UInt8]?
    private var maxOverlap = 0
    private var minOverlap = 1

    init() {}

    /// Times the answer was resumed: the parts after the first.
    var resumes: Int { max(0, parts.count - 1) }
    /// The attempt in progress continues an earlier one.
    var isContinuing: Bool { form != nil }
    /// Something was delivered that a new attempt must continue.
    var hasDelivered: Bool { !parts.isEmpty }

    // MARK: The chunks delivered

    /// What to deliver for a chunk of the attempt in progress.
    enum Delivery: Equatable {
        case pass
        /// The chunk rewritten (JSON text, no NUL).
        case replace([UInt8])
        case drop
    }

    /// Records a chunk that is about to be delivered, and says what to deliver
    /// instead when this attempt continues an earlier one.
    mutating func filter(_ bytes: UnsafeRawBufferPointer) -> Delivery {
        guard var chunk = try? JSON.parse(bytes), chunk.kind == .object else { return .pass }
        if chunkID == nil {
            chunkID = chunk["id"]
            created = chunk["created"]
        }
        if let model = chunk["model"] { lastModel = model }
        guard let choices = chunk["choices"]?.array else { return .pass }
        if choices.count > 1 || choices.contains(where: { ($0["index"]?.int ?? 0) != 0 }) {
            cannotResume = "the stream has more than one choice"
        }
        guard var choice = choices.first, var delta = choice["delta"], delta.kind == .object else {
            return .pass
        }
        var changed = false
        let finish = choice["finish_reason"].map { !$0.isNull } ?? false

        if form != nil {
            for key in ["role", "reasoning_content", "reasoning"] where delta[key] != nil {
                delta.set(key, nil)
                changed = true
            }
        }
        var text = delta["content"]?.string.map { Array($0.utf8) }
        let tools = delta["tool_calls"]?.array
        if form != nil, pending != nil, let piece = text {
            text = take(piece, decide: tools != nil || finish)
            changed = true
        } else if form != nil, pending != nil, tools != nil || finish {
            text = settle()
            changed = true
        }
        if let text {
            if changed { delta.set("content", text.isEmpty ? nil : .string(String(decoding: text, as: UTF8.self))) }
            content.append(contentsOf: text)
            if !parts.isEmpty { parts[parts.count - 1].contentBytes += text.count }
        }
        if let tools {
            var rewritten: [JSON] = []
            for var call in tools {
                guard let i = call["index"]?.int, i >= 0, i < 1 << 20 else {
                    rewritten.append(call)
                    continue
                }
                let index = Int(i)
                let args = call["function"]?["arguments"]?.string?.utf8.count ?? 0
                if index < toolArgumentBytes.count {
                    // A tool call restarted by this attempt: its id and name are the caller's already.
                    if form != nil, call["id"] != nil || call["function"]?["name"] != nil {
                        call.set("id", nil)
                        call.set("type", nil)
                        if var function = call["function"] {
                            function.set("name", nil)
                            call.set("function", function)
                        }
                        changed = true
                    }
                    toolArgumentBytes[index] += args
                } else {
                    while toolArgumentBytes.count < index { toolArgumentBytes.append(0) }
                    toolArgumentBytes.append(args)
                }
                rewritten.append(call)
            }
            if changed { delta.set("tool_calls", .array(rewritten)) }
        }
        if finish { finished = true }
        guard changed else { return .pass }
        if delta.count == 0 && !finish && chunk["usage"] == nil { return .drop }
        choice.set("delta", delta)
        var all = choices
        all[0] = choice
        chunk.set("choices", .array(all))
        return .replace(chunk.serializedBytes())
    }

    /// A piece of a resumed attempt's text while its overlap is not known yet:
    /// what of the held text can be delivered now (empty: hold on).
    private mutating func take(_ piece: [UInt8], decide: Bool) -> [UInt8] {
        pending!.append(contentsOf: piece)
        if !decide && stillAmbiguous(pending!) { return [] }
        return settle()
    }

    /// The held text, less the longest overlap it may have: what is delivered.
    private mutating func settle() -> [UInt8] {
        guard let held = pending else { return [] }
        pending = nil
        let k = Self.overlap(delivered: content, next: held, max: maxOverlap, min: minOverlap)
        return Array(held[k...])
    }

    /// More text could still make a longer overlap out of `held`.
    private func stillAmbiguous(_ held: [UInt8]) -> Bool {
        let window = min(maxOverlap, content.count)
        guard held.count < window else { return false }
        for k in (held.count + 1)...window where content[(content.count - k)...].starts(with: held) { return true }
        return false
    }

    /// The length of the longest end of `delivered` (at most `max` bytes) that
    /// `next` begins with; 0 when it is shorter than `min` (unless it is the whole of `delivered`).
    static func overlap(delivered: [UInt8], next: [UInt8], max: Int, min: Int) -> Int {
        let top = Swift.min(max, delivered.count, next.count)
        guard top > 0 else { return 0 }
        for k in stride(from: top, through: 1, by: -1) where delivered[(delivered.count - k)...].elementsEqual(next[..<k]) {
            return k >= min || k == delivered.count ? k : 0
        }
        return 0
    }

    /// The stream ended cleanly: the text still held for its overlap, to deliver in a last content chunk (nil: none).
    mutating func flush() -> [UInt8]? {
        guard pending != nil else { return nil }
        let text = settle()
        guard !text.isEmpty else { return nil }
        content.append(contentsOf: text)
        if !parts.isEmpty { parts[parts.count - 1].contentBytes += text.count }
        var delta = JSON.emptyObject
        delta.set("content", .string(String(decoding: text, as: UTF8.self)))
        return chunk(choices: [["index": 0, "delta": delta, "finish_reason": .null]])
    }

    // MARK: Breaks

    /// The attempt in progress, past its first word, failed with `error`:
    /// resume, end cleanly or fail. Its usage so far is counted either way.
    mutating func broke(_ error: ModelsError, model: String, usage: (input: Int64, output: Int64)) -> Decision {
        usageBefore = (usageBefore.input.saturatingAdd(max(0, usage.input)), usageBefore.output.saturatingAdd(max(0, usage.output)))
        pending = nil
        if !parts.isEmpty { parts[parts.count - 1].endedBy = error.kind }
        if finished { return .complete }
        switch error.code {
        case .cancelled, .invalidArgument, .noMemory, .noProvider, .allCooldown, .allFailed, .ok, .done:
            return .fail(error)
        case .api, .transport, .timeout, .protocol: break
        }
        switch error.kind {
        case .auth, .notFound, .contextWindow, .contentPolicy, .badRequest: return .fail(error)
        default: break
        }
        if let cannotResume { return .fail(ModelsError(.protocol, "\(error.message) (not resumed: \(cannotResume))")) }
        if let cut = toolArgumentBytes.indices.last {
            if toolArgumentBytes[cut] > 0 {
                return .fail(ModelsError(.protocol, "\(error.message) (not resumed: the stream of \(model) broke after part of the "
                                         + "arguments of tool call \(cut) was delivered)", status: error.status))
            }
            if cut > 0 {
                return .fail(ModelsError(.protocol, "\(error.message) (not resumed: the stream of \(model) broke after "
                                         + "\(cut) complete tool call\(cut == 1 ? "" : "s") were delivered)", status: error.status))
            }
        }
        return .resume(Self.retryable(error))
    }

    /// A break (reset, truncation, malformed or error event, idle timeout) as
    /// the routing retries it: transient; an error event without a transient
    /// status becomes a protocol error. Refusals and the caller's own errors are left as they are.
    static func retryable(_ error: ModelsError) -> ModelsError {
        switch error.code {
        case .api, .transport, .timeout, .protocol: break
        default: return error
        }
        switch error.kind {
        case .auth, .notFound, .contextWindow, .contentPolicy, .badRequest: return error
        default: break
        }
        if error.code == .api && error.status != 0 { return error }
        var transient = error
        if transient.code == .api {
            transient = ModelsError(.protocol, error.message, status: 0, retryAfterMs: error.retryAfterMs)
        }
        transient.isTransient = true
        return transient
    }

    // MARK: The next attempt

    /// The request that asks a model of `form` to continue the delivered answer.
    func continuation(of request: JSON, form: Form) -> JSON {
        var text = content
        if form == .prefill {
            while let last = text.last, Self.isSpace(last) { text.removeLast() }
        }
        guard !text.isEmpty, var messages = request["messages"]?.array else { return request }
        let partial = String(decoding: text, as: UTF8.self)
        switch form {
        case .prefill:
            messages.append(["role": "assistant", "content": .string(partial)])
        case .prefix:
            messages.append(["role": "assistant", "content": .string(partial), "prefix": true])
        case .instruction:
            messages.append(["role": "assistant", "content": .string(partial)])
            messages.append(["role": "user", "content": .string(Self.instruction)])
        }
        var out = request
        out.set("messages", .array(messages))
        return out
    }

    /// An attempt that continues the delivered answer is about to go out in `form`.
    mutating func attemptBegan(form: Form) {
        guard hasDelivered else { return }
        self.form = form
        pending = nil
        switch form {
        case .prefix:
            maxOverlap = 0
        case .prefill:
            maxOverlap = content.reversed().prefix(while: Self.isSpace).count
            minOverlap = 1
        case .instruction:
            maxOverlap = Self.overlapWindow
            minOverlap = Self.minimumOverlap
        }
        if maxOverlap > 0 && !content.isEmpty { pending = [] }
    }

    /// The attempt in progress sent its first word: a new part of the answer.
    mutating func attemptCommitted(model: String) {
        parts.append(Part(model: model))
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d }

    // MARK: The summary

    /// `{"count": n, "parts": [{"model", "content_bytes", "ended_by"}...]}`.
    var summary: JSON {
        let list: [JSON] = parts.map { p in
            var j: JSON = ["model": .string(p.model), "content_bytes": .int(Int64(p.contentBytes))]
            if let e = p.endedBy { j.set("ended_by", .string(e.rawValue)) }
            return j
        }
        return ["count": .int(Int64(resumes)), "parts": .array(list)]
    }

    /// The last chunk of a resumed stream: no choices, the usage summed over the
    /// attempts (`usage`: the last attempt's) and `x_libmodels.resumed`. Nil when the stream was not resumed.
    func summaryChunk(lastUsage: (input: Int64, output: Int64)) -> [UInt8]? {
        guard resumes > 0 else { return nil }
        let total = totalUsage(lastUsage)
        return chunk(choices: [], extra: [
            ("usage", ["prompt_tokens": .int(total.input), "completion_tokens": .int(total.output),
                       "total_tokens": .int(total.input.saturatingAdd(total.output))]),
            ("x_libmodels", ["resumed": summary]),
        ])
    }

    /// The tokens of every attempt: the broken ones' and the last one's.
    func totalUsage(_ last: (input: Int64, output: Int64)) -> (input: Int64, output: Int64) {
        (usageBefore.input.saturatingAdd(max(0, last.input)), usageBefore.output.saturatingAdd(max(0, last.output)))
    }

    private func chunk(choices: [JSON], extra: [(String, JSON)] = []) -> [UInt8] {
        var c: JSON = ["object": "chat.completion.chunk"]
        c.set("id", chunkID ?? .string(""))
        c.set("created", created ?? .int(0))
        if let lastModel { c.set("model", lastModel) }
        c.set("choices", .array(choices))
        for (key, value) in extra { c.set(key, value) }
        return c.serializedBytes()
    }
}
