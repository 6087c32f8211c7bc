// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// A complete chat answer (`chat.completion`) on its way to the caller.
///
/// A translated answer (Anthropic, a C provider) is JSON the library built. An
/// OpenAI-compatible provider's answer is kept as the bytes it sent, already
/// checked by `JSONScanner`, with the place of its top-level `"model"` value:
/// naming the answering model is then a splice, not a parse and a
/// re-serialisation of the whole answer (which cost more than the rest of the
/// request on loopback). The splice is made once, as the text is written out.
public struct ChatAnswer: @unchecked Sendable {
    enum Storage {
        case json(JSON)
        /// Valid JSON text of an object, the range of its `"model"` value if it
        /// has one, and the model name to put there once set.
        case bytes([UInt8], model: Range<Int>?, newModel: ModelSplice?)
    }

    var storage: Storage

    public init(json: JSON) { storage = .json(json) }

    /// `bytes` must be one JSON object, checked by `JSONScanner`, whose top-level
    /// keys have no escapes and do not repeat `"model"`; `model` is the range of
    /// its top-level `"model"` value (nil when it has none).
    init(checkedBytes bytes: [UInt8], model: Range<Int>?) { storage = .bytes(bytes, model: model, newModel: nil) }

    /// Sets the top-level `"model"` member, keeping every other byte.
    public mutating func setModel(_ name: String) {
        switch storage {
        case .json(var json):
            json.set("model", .string(name))
            storage = .json(json)
        case .bytes(let bytes, let range, _):
            storage = .bytes(bytes, model: range, newModel: ModelSplice(name: name))
        }
    }

    /// Prompt plus completion tokens from the answer's `usage`; 0 without one.
    /// Parses a provider's bytes: for accounting that needs it (tpm limits), not every answer.
    public var usedTokens: Int64 { tokenUsage.total }

    /// The answer's `usage`: prompt, completion and total tokens (the total as
    /// given, else the sum); zeros without one. Parses a provider's bytes.
    public var tokenUsage: (prompt: Int64, completion: Int64, total: Int64) {
        let json: JSON
        switch storage {
        case .json(let j): json = j
        case .bytes(let bytes, _, _):
            guard let parsed = try? JSON.parse(bytes) else { return (0, 0, 0) }
            json = parsed
        }
        guard let usage = json["usage"] else { return (0, 0, 0) }
        let prompt = max(0, usage["prompt_tokens"]?.int ?? 0), completion = max(0, usage["completion_tokens"]?.int ?? 0)
        if let total = usage["total_tokens"]?.int { return (prompt, completion, max(0, total)) }
        return (prompt, completion, prompt.saturatingAdd(completion))
    }

    /// The answer as JSON text.
    public func serializedBytes() -> [UInt8] {
        switch storage {
        case .json(let json): return json.serializedBytes()
        case .bytes:
            var out: [UInt8] = []
            forEachPiece { out.append(contentsOf: $0) }
            return out
        }
    }

    /// The answer as JSON text in memory from `allocate` (given the size, NUL
    /// included), NUL-terminated: one copy of the provider's bytes, for the C API.
    public func copyText(_ allocate: (Int) -> UnsafeMutableRawPointer?) -> UnsafeMutablePointer<CChar>? {
        if case .json(let json) = storage { return Self.copy(json.serializedBytes(), allocate) }
        var count = 0
        forEachPiece { count += $0.count }
        guard let memory = allocate(count + 1) else { return nil }
        var at = 0
        forEachPiece { piece in
            if let base = piece.baseAddress { (memory + at).copyMemory(from: base, byteCount: piece.count) }
            at += piece.count
        }
        memory.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
        return memory.assumingMemoryBound(to: CChar.self)
    }

    private static func copy(_ bytes: [UInt8], _ allocate: (Int) -> UnsafeMutableRawPointer?) -> UnsafeMutablePointer<CChar>? {
        guard let memory = allocate(bytes.count + 1) else { return nil }
        bytes.withUnsafeBytes { if let base = $0.baseAddress { memory.copyMemory(from: base, byteCount: $0.count) } }
        memory.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
        return memory.assumingMemoryBound(to: CChar.self)
    }

    /// The text of a `.bytes` answer, in pieces: the provider's bytes around
    /// the new model name.
    private func forEachPiece(_ body: (UnsafeRawBufferPointer) -> Void) {
        guard case .bytes(let bytes, let range, let newModel) = storage else { return }
        bytes.withUnsafeBytes { all in
            guard let newModel else { return body(all) }
            newModel.forEachPiece(of: all, model: range, body)
        }
    }

    /// The answer as a JSON value (parsed on demand for bytes).
    public var json: JSON {
        switch storage {
        case .json(let json): return json
        case .bytes: return (try? JSON.parse(serializedBytes())) ?? .null
        }
    }
}
