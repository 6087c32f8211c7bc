// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import ModelsCore

/// Checks one `chat.completion.chunk` an OpenAI-shaped stream produced and
/// reads what the library needs from it (an error object, the usage, reasoning
/// text), then hands it on with its top-level `"model"` set to the routed name
/// (added when the chunk has none), every other byte as the provider sent it.
/// `JSONScanner` validates the chunk and finds its `"model"` without
/// allocating; jansson parses only what must be read.
struct ChunkInspector {
    let source: String
    /// Removed from error messages the stream carries (a provider may quote the key).
    let secrets: [String]
    private(set) var usage: (input: Int64, output: Int64) = (0, 0)
    /// The routed name every chunk carries as its `"model"`; nil leaves chunks as they are.
    private let rename: ModelSplice?
    /// Where renamed chunks are written, reused from chunk to chunk.
    private let buffer = ChunkBuffer()

    /// `model`: the full name of the model the stream is from (`openai/gpt-4o`).
    init(source: String, secrets: [String] = [], model: String? = nil) {
        self.source = source
        self.secrets = secrets
        rename = model.map { ModelSplice(name: $0) }
    }

    /// The top-level members that need more than a check (indexes 0, 1 and 2 below).
    private static let scanner = JSONScanner(keys: "error", "usage", "model")

    /// `bytes` must be followed by a NUL byte (it is passed on to C as is).
    mutating func deliver(_ bytes: UnsafeRawBufferPointer, to outlet: ChunkOutlet) throws(ModelsError) {
        // The scanner accepts what json_loadb does (see its doc comment for the one NUL
        // byte jansson drops) at ~1/17 of its cost, so a chunk is checked and passed on
        // without building a tree; jansson reads only the rare chunk that carries an
        // error, the usage, or the thinking asked for.
        let scan = Self.scanner.scan(bytes)
        switch scan.kind {
        case .object: break
        case .array: throw ModelsError(.protocol, "stream from \(source) sent a chunk that is not a JSON object")
        default: throw ModelsError(.protocol, "stream from \(source) sent a chunk that is not valid JSON") // json_loadb(flags 0) refuses scalars too
        }
        guard scan.depth <= JSON.maxDepth else {
            throw ModelsError(.protocol, "stream from \(source) sent a chunk nested deeper than \(JSON.maxDepth) levels")
        }
        // A repeated "model" (or any repeated key: the scan does not say which) cannot be spliced.
        let rewrite = rename != nil && (scan.topLevelKeyHasEscape || scan.hasDuplicateKey)
        if scan.range(of: 0) != nil || scan.topLevelKeyHasEscape || outlet.wantsThinking || rewrite {
            return try deliverParsed(bytes, model: scan.range(of: 2), rewrite: rewrite, to: outlet)
        }
        if let r = scan.range(of: 1), bytes[r.lowerBound] == UInt8(ascii: "{"),
           let u = json_loadb(bytes.baseAddress!.assumingMemoryBound(to: CChar.self) + r.lowerBound, r.count, 0, nil) {
            usage = (Self.integer(u, "prompt_tokens") ?? usage.input, Self.integer(u, "completion_tokens") ?? usage.output)
            cms_json_decref(u)
        }
        try deliverRenamed(bytes, model: scan.range(of: 2), to: outlet)
    }

    /// The whole chunk parsed with jansson: for an error, a top-level key spelled with
    /// escapes (which the scanner does not match), reasoning text, or a chunk to
    /// rename that the splice cannot (`rewrite`: written out again from the tree).
    private mutating func deliverParsed(_ bytes: UnsafeRawBufferPointer, model: Range<Int>?, rewrite: Bool,
                                        to outlet: ChunkOutlet) throws(ModelsError) {
        var error = json_error_t()
        guard let root = json_loadb(bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count, 0, &error) else {
            throw ModelsError(.protocol, "stream from \(source) sent a chunk that is not valid JSON")
        }
        defer { cms_json_decref(root) }
        guard cms_json_type(root) == Int32(JSON_OBJECT.rawValue) else {
            throw ModelsError(.protocol, "stream from \(source) sent a chunk that is not a JSON object")
        }
        if let err = json_object_get(root, "error") { throw streamError(JSON(borrowing: err)) }
        if let u = json_object_get(root, "usage"), cms_json_type(u) == Int32(JSON_OBJECT.rawValue) {
            usage = (Self.integer(u, "prompt_tokens") ?? usage.input, Self.integer(u, "completion_tokens") ?? usage.output)
        }
        if outlet.wantsThinking { Self.reportReasoning(root, outlet) }
        guard rewrite, let rename else { return try deliverRenamed(bytes, model: model, to: outlet) }
        // The name's JSON text parses back to the name: no second escaping to get wrong.
        rename.value.withUnsafeBytes { v in
            if let name = json_loadb(v.baseAddress!.assumingMemoryBound(to: CChar.self), v.count, Int(JSON_DECODE_ANY), nil) {
                json_object_set_new(root, "model", name)
            }
        }
        var rewritten: [UInt8] = []
        JSONWriter.write(root, into: &rewritten)
        let count = rewritten.count
        rewritten.append(0)
        try rewritten.withUnsafeBytes { all in
            Result { () throws(ModelsError) in try outlet.chunk(UnsafeRawBufferPointer(rebasing: all[..<count])) }
        }.get()
    }

    /// The chunk with the routed name as its `"model"` (`model`: the range of
    /// the value it has, nil for none); as it is when it already has that name.
    private func deliverRenamed(_ bytes: UnsafeRawBufferPointer, model: Range<Int>?, to outlet: ChunkOutlet) throws(ModelsError) {
        guard let rename, !rename.isSet(in: bytes, at: model) else { return try outlet.chunk(bytes) }
        guard let out = buffer.room(rename.maxCount(of: bytes) + 1) else { throw ModelsError(.noMemory, "out of memory") }
        let count = rename.write(bytes, model: model, to: out)
        out.storeBytes(of: 0, toByteOffset: count, as: UInt8.self) // the NUL the outlet requires
        try outlet.chunk(UnsafeRawBufferPointer(start: out, count: count))
    }

    /// The error an `event: error` carries: its `error` object, or a message
    /// wherever the data has one (`{"message":...}`, plain text).
    func errorEvent(_ data: UnsafeRawBufferPointer) -> ModelsError {
        if let json = try? JSON.parse(data), let err = json["error"] { return streamError(err) }
        let message = ProviderErrors.message(inBody: Array(data), secrets: secrets)
        return ModelsError(.api, "\(source) reported an error in the stream: \(message)")
    }

    /// An error object in a stream: its message, and its code when that is an HTTP status.
    private func streamError(_ object: JSON) -> ModelsError {
        let message = object["message"]?.string ?? object.string ?? object.serialized()
        let status = object["code"]?.int.flatMap { (400...599).contains($0) ? Int($0) : nil } ?? 0
        let codes = [object["code"]?.string, object["type"]?.string].compactMap { $0 }
        return ModelsError(.api, "\(source) reported an error in the stream: \(Redact.secrets(message, known: secrets))", status: status,
                           isTransient: ModelsError.isTransientStatus(status),
                           kind: ErrorKind.refusal(status: status, codes: codes, message: message))
    }

    /// `choices[0].delta.reasoning_content` (DeepSeek and many OpenAI-compatible
    /// servers) or `.reasoning` (OpenRouter) goes to the thinking callback too.
    private static func reportReasoning(_ root: UnsafeMutablePointer<json_t>, _ outlet: ChunkOutlet) {
        guard let choices = json_object_get(root, "choices"), let first = json_array_get(choices, 0),
              let delta = json_object_get(first, "delta") else { return }
        for key in ["reasoning_content", "reasoning"] {
            if let r = json_object_get(delta, key), let p = json_string_value(r) {
                let n = json_string_length(r)
                if n > 0 { outlet.thinking(UnsafeRawBufferPointer(start: p, count: n)) }
                return
            }
        }
    }

    private static func integer(_ object: UnsafeMutablePointer<json_t>, _ key: String) -> Int64? {
        guard let v = json_object_get(object, key), cms_json_type(v) == Int32(JSON_INTEGER.rawValue) else { return nil }
        return Int64(json_integer_value(v))
    }
}
