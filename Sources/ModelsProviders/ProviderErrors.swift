// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// Turns a provider's error answer into a `ModelsError` a user can act on:
/// the HTTP status, the Retry-After, and the provider's own message.
public enum ProviderErrors {
    /// The message inside an error body: `{"error":{"message":...}}` (OpenAI,
    /// Anthropic), `{"error":"..."}`, `{"message":...}` or `{"detail":...}`;
    /// else the start of the body as text. `secrets` (and anything shaped like a
    /// key) are removed from the whole text first, then it is cut to
    /// `maxTextBytes`: a key that straddles the cut is gone, not shown in part.
    public static func message(inBody body: [UInt8], secrets: [String]) -> String {
        if let json = try? JSON.parse(body) {
            if let error = json["error"] {
                if let m = error["message"]?.string, !m.isEmpty { return Redact.secrets(m, known: secrets) }
                if let m = error.string, !m.isEmpty { return Redact.secrets(m, known: secrets) }
            }
            if let m = json["message"]?.string, !m.isEmpty { return Redact.secrets(m, known: secrets) }
            if let m = json["detail"]?.string, !m.isEmpty { return Redact.secrets(m, known: secrets) }
        }
        let text = String(decoding: body, as: UTF8.self)
        let cleaned = String(text.unicodeScalars.map { $0.value < 0x20 ? " " : Character($0) })
        let redacted = Redact.secrets(cleaned, known: secrets)
        let cut = truncated(redacted, maxBytes: maxTextBytes).trimmingSpaces
        return cut.isEmpty ? "(empty body)" : cut
    }

    /// How much of a body that is not JSON an error message shows.
    public static let maxTextBytes = 300

    /// The longest start of `text` of at most `maxBytes` UTF-8 bytes, cut between characters.
    static func truncated(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var out = ""
        var bytes = 0
        for ch in text {
            bytes += ch.utf8.count
            if bytes > maxBytes { break }
            out.append(ch)
        }
        return out
    }

    /// The machine-readable codes of an error body: `error.code`, `error.type`
    /// and Azure's `error.innererror.code`, where they are strings.
    static func errorCodes(inBody body: [UInt8]) -> [String] {
        guard let json = try? JSON.parse(body), let error = json["error"], error.kind == .object else { return [] }
        return [error["code"]?.string, error["type"]?.string, error["innererror"]?["code"]?.string].compactMap { $0 }
    }

    /// An HTTP error answer from `provider`, with secrets removed from its message.
    public static func httpError(provider: String, head: HTTPResponseHead, body: [UInt8], secrets: [String]) -> ModelsError {
        let text = message(inBody: body, secrets: secrets)
        // The kind is read from the provider's own words, before redaction.
        let kind = ErrorKind.refusal(status: head.status, codes: errorCodes(inBody: body),
                                     message: message(inBody: body, secrets: []))
        return .api(status: head.status, message: "\(provider) answered HTTP \(head.status): \(text)",
                    retryAfterMs: head.retryAfterMs, kind: kind)
    }

    /// Reads an error answer's body (bounded, truncated rather than failing) and builds the error.
    static func fromTransfer(_ transfer: HTTPTransfer, provider: String, secrets: [String]) -> ModelsError {
        let body = (try? transfer.readBody(limit: 64 << 10, truncate: true)) ?? []
        return httpError(provider: provider, head: transfer.head, body: body, secrets: secrets)
    }
}
