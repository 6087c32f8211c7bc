// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// Embeddings through Bedrock's InvokeModel, translated to and from the OpenAI
/// shapes. Pure: the provider sends the bodies and hands back the answers.
///
/// - Titan text (`amazon.titan-embed-text-v1`, `amazon.titan-embed-text-v2`):
///   one input per request (`{"inputText", "dimensions"?, "normalize": true}`),
///   so an array of N inputs is N requests, sent one after another.
/// - Cohere v3 (`cohere.embed-english-v3`, `cohere.embed-multilingual-v3`):
///   one request for all inputs (`{"texts", "input_type"}`); `input_type`
///   comes from the caller's request, else `search_document`.
///
/// Both take at most `maxInputs` inputs. Token inputs, and `dimensions` for a
/// model without it (Titan v1, Cohere), are refused.
public enum BedrockEmbeddings {
    public enum Family: Equatable, Sendable {
        case titan(dimensions: Bool)
        case cohere
    }

    /// The most inputs one call takes (Cohere's own bound; for Titan, the most
    /// requests one call sends).
    public static let maxInputs = 96

    /// The family of a model id (a region prefix like `us.`, or an ARN's last
    /// segment, is looked through); nil: not an embeddings model this library knows.
    public static func family(modelID: String) -> Family? {
        let last = modelID.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? modelID
        var candidates = [last]
        if let dot = last.firstIndex(of: ".") { candidates.append(String(last[last.index(after: dot)...])) }
        for id in candidates {
            if id.hasPrefix("amazon.titan-embed-text-v2") { return .titan(dimensions: true) }
            if id.hasPrefix("amazon.titan-embed-text-v1") { return .titan(dimensions: false) }
            if id.hasPrefix("cohere.embed-english-v3") || id.hasPrefix("cohere.embed-multilingual-v3") { return .cohere }
        }
        return nil
    }

    /// The InvokeModel bodies for `request` (Titan: one per input; Cohere: one).
    public static func bodies(_ request: EmbeddingsRequest, family: Family, provider: String, model: String) throws(ModelsError) -> [JSON] {
        let json = request.json
        let input = json["input"]
        var texts: [String] = []
        if let text = input?.string {
            texts = [text]
        } else {
            for item in input?.array ?? [] {
                guard let text = item.string else {
                    throw .invalidArgument("provider \"\(provider)\" (Bedrock, model \"\(model)\") takes text inputs only, not tokens")
                }
                texts.append(text)
            }
        }
        guard texts.count <= maxInputs else {
            throw .invalidArgument("provider \"\(provider)\" (Bedrock, model \"\(model)\") takes at most \(maxInputs) inputs per call, not \(texts.count)")
        }
        let dimensions = json["dimensions"].flatMap { $0.isNull ? nil : $0.int }
        switch family {
        case .titan(let hasDimensions):
            if dimensions != nil, !hasDimensions {
                throw .invalidArgument("provider \"\(provider)\" (Bedrock, model \"\(model)\") does not take \"dimensions\"")
            }
            return texts.map { text in
                var body: [(String, JSON)] = [("inputText", .string(text))]
                if let dimensions { body.append(("dimensions", .int(dimensions))) }
                body.append(("normalize", .bool(true)))
                return .object(body)
            }
        case .cohere:
            if dimensions != nil {
                throw .invalidArgument("provider \"\(provider)\" (Bedrock, model \"\(model)\") does not take \"dimensions\"")
            }
            var inputType = "search_document"
            if let value = json["input_type"], !value.isNull {
                guard let name = value.string, !name.isEmpty, name.utf8.count <= 64 else {
                    throw .invalidArgument("request \"input_type\" must be a non-empty string")
                }
                inputType = name
            }
            return [.object([("texts", .array(texts.map { .string($0) })), ("input_type", .string(inputType))])]
        }
    }

    /// The OpenAI embeddings answer from Bedrock's answers (in the order of
    /// `bodies`). `headerTokens`: the input tokens Bedrock counted in its
    /// `X-Amzn-Bedrock-Input-Token-Count` headers (used when a body has none).
    public static func answer(_ answers: [JSON], family: Family, model: String, base64: Bool, headerTokens: Int64 = 0,
                              provider: String) throws(ModelsError) -> JSON {
        var vectors: [JSON] = []
        var tokens: Int64 = 0
        for answer in answers {
            guard answer.kind == .object else { throw ModelsError(.protocol, "\(provider) answered with \(answer.kindName), not an object") }
            switch family {
            case .titan:
                guard let vector = answer["embedding"], vector.kind == .array else {
                    throw ModelsError(.protocol, "\(provider) answered without \"embedding\"")
                }
                vectors.append(vector)
                if let n = answer["inputTextTokenCount"]?.int, n >= 0 { tokens = tokens.addingReportingOverflow(n).overflow ? .max : tokens + n }
            case .cohere:
                guard let list = answer["embeddings"]?.array, list.allSatisfy({ $0.kind == .array }) else {
                    throw ModelsError(.protocol, "\(provider) answered without \"embeddings\" (a list of vectors)")
                }
                vectors += list
            }
        }
        if tokens == 0 { tokens = max(0, headerTokens) }
        var data: [JSON] = []
        data.reserveCapacity(vectors.count)
        for (index, vector) in vectors.enumerated() {
            let embedding: JSON
            if base64 {
                guard let text = encodeFloat32(vector) else {
                    throw ModelsError(.protocol, "\(provider) answered with a vector that holds something other than numbers")
                }
                embedding = .string(text)
            } else {
                embedding = vector
            }
            data.append(.object([("object", "embedding"), ("index", .int(index)), ("embedding", embedding)]))
        }
        return .object([
            ("object", "list"), ("data", .array(data)), ("model", .string(model)),
            ("usage", .object([("prompt_tokens", .int(tokens)), ("total_tokens", .int(tokens))])),
        ])
    }

    /// A vector as OpenAI's base64 form: little-endian float32, base64; nil when an element is not a number.
    static func encodeFloat32(_ vector: JSON) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for item in vector.array ?? [] {
            guard let d = item.double else { return nil }
            let bits = Float(d).bitPattern
            bytes += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                      UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
        }
        return base64(bytes)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i]), b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
