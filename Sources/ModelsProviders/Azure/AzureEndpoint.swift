// SPDX-License-Identifier: Apache-2.0

/// Where an Azure OpenAI provider sends a chat request, from its `base_url`,
/// its `api_version` and the model id (the deployment name). Pure.
///
/// Two forms:
/// - the deployment form: `base_url` is the resource endpoint
///   (`https://NAME.openai.azure.com`, or the same ending in `/openai`);
///   requests go to `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version={v}`,
///   and `api_version` is required;
/// - the v1 form: `base_url` ends in `/openai/v1`; requests go to
///   `{base_url}/chat/completions` with the model in the body, as to OpenAI,
///   and `api_version` (rarely needed there) is added when given.
public struct AzureEndpoint: Sendable, Equatable {
    public enum Form: Sendable, Equatable { case deployment, v1 }

    public let form: Form
    /// The deployment form: the URL up to and including `/openai`; the v1 form: `base_url`.
    public let root: String
    public let apiVersion: String?

    /// `baseURL` without a trailing `/`, as the config keeps it.
    public init(baseURL: String, apiVersion: String?) {
        if baseURL.hasSuffix("/openai/v1") {
            form = .v1
            root = baseURL
        } else {
            form = .deployment
            root = baseURL.hasSuffix("/openai") ? baseURL : baseURL + "/openai"
        }
        self.apiVersion = apiVersion
    }

    /// The chat completions URL for the model id `modelID`.
    public func chatURL(modelID: String) -> String { url(modelID: modelID, path: "/chat/completions") }

    /// The embeddings URL for the model id `modelID`.
    public func embeddingsURL(modelID: String) -> String { url(modelID: modelID, path: "/embeddings") }

    private func url(modelID: String, path: String) -> String {
        var url = root
        if form == .deployment { url += "/deployments/" + Self.pathSegment(modelID) }
        url += path
        if let apiVersion { url += "?api-version=" + apiVersion }
        return url
    }

    /// `text` as one URL path segment: unreserved characters as they are,
    /// every other byte (`/`, `?`, `#`, `%`, non-ASCII) percent-encoded.
    static func pathSegment(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` is an API version Azure could mean: a date `YYYY-MM-DD`,
    /// optionally followed by `-` and lowercase letters (`2024-10-21`,
    /// `2025-01-01-preview`), or `preview` / `latest` (the v1 API's). Pure.
    public static func isValidAPIVersion(_ text: String) -> Bool {
        if text == "preview" || text == "latest" { return true }
        let b = Array(text.utf8)
        guard b.count >= 10, b.count <= 40 else { return false }
        func digits(_ r: Range<Int>) -> Int? {
            var n = 0
            for i in r {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int(b[i] - UInt8(ascii: "0"))
            }
            return n
        }
        guard let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
              b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              year >= 2020, (1...12).contains(month), (1...31).contains(day) else { return false }
        guard b.count > 10 else { return true }
        return b.count > 11 && b[10] == UInt8(ascii: "-")
            && b[11...].allSatisfy { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
    }
}
