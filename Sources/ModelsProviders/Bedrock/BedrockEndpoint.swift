// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport
/// Where a Bedrock provider sends its requests, and how it signs them.
public struct BedrockEndpoint: Sendable, Equatable {
    /// `https://bedrock-runtime.REGION.amazonaws.com`, or the configured `base_url`.
    public var baseURL: String
    public var signer: AWSSigV4

    public init(baseURL: String?, signer: AWSSigV4) {
        self.baseURL = baseURL ?? Self.defaultBaseURL(region: signer.region)
        self.signer = signer
    }

    public static func defaultBaseURL(region: String) -> String { "https://bedrock-runtime.\(region).amazonaws.com" }

    /// `{base}/model/{id}/converse` or `/converse-stream`; the model id (an id
    /// with `:`, an ARN with `/`) is one path segment, percent-encoded.
    public func url(modelID: String, stream: Bool) -> String {
        "\(baseURL)/model/\(AWSSigV4.encode(modelID, keepSlash: false))/\(stream ? "converse-stream" : "converse")"
    }

    /// `{base}/model/{id}/invoke` (InvokeModel: the embeddings models).
    public func invokeURL(modelID: String) -> String {
        "\(baseURL)/model/\(AWSSigV4.encode(modelID, keepSlash: false))/invoke"
    }

    /// AWS region names: lowercase letters, digits and `-` (`us-east-1`, `eu-central-2`).
    public static func isValidRegion(_ region: String) -> Bool {
        (1...64).contains(region.utf8.count)
            && region.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d }
    }
}
