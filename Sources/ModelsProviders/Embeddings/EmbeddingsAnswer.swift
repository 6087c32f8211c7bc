// SPDX-License-Identifier: Apache-2.0
import ModelsCore
/// Reads an OpenAI embeddings answer (`{"object": "list", "data": [...],
/// "model": ..., "usage": {"prompt_tokens", "total_tokens"}}`). Pure.
public enum EmbeddingsAnswer {
    /// A 2xx answer's body from `provider`: passed back as sent (vectors can be
    /// megabytes: checked, not parsed) when its top level is plain; else parsed.
    public static func read(_ bytes: [UInt8], provider: String, status: Int, secrets: [String]) throws(ModelsError) -> ChatAnswer {
        let scan = bytes.withUnsafeBytes { scanner.scan($0) }
        if scan.kind == .object, !scan.topLevelKeyHasEscape, !scan.hasDuplicateKey, scan.depth <= JSON.maxDepth,
           let data = scan.range(of: 0), bytes[data.lowerBound] == UInt8(ascii: "[") {
            return ChatAnswer(checkedBytes: bytes, model: scan.range(of: 1))
        }
        let json: JSON
        do { json = try JSON.parse(bytes) } catch {
            throw ModelsError(.protocol, "\(provider) answered with invalid JSON: \(error.message)")
        }
        guard json.kind == .object else { throw ModelsError(.protocol, "\(provider) answered with \(json.kindName), not an object") }
        if json["error"] != nil, json["data"] == nil {
            throw ModelsError(.api, "\(provider) answered with an error: \(ProviderErrors.message(inBody: bytes, secrets: secrets))",
                              status: status)
        }
        guard json["data"]?.kind == .array else { throw ModelsError(.protocol, "\(provider) answered without \"data\"") }
        return ChatAnswer(json: json)
    }

    /// Looks for `data` and `model` at the top level of an answer.
    private static let scanner = JSONScanner(keys: "data", "model")
}
