// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// The API a provider speaks: the config's `"type"` of a provider entry, or,
/// without it, what the provider's name implies (`anthropic` → Anthropic's
/// Messages API, `github-copilot` → GitHub Copilot, any other name →
/// OpenAI-compatible Chat Completions). `azure` is Azure OpenAI: Chat
/// Completions at a deployment's URL with an `api-key` header; `bedrock` is AWS
/// Bedrock's Converse API, signed with SigV4. No name implies either.
public enum ProviderType: String, Sendable, Equatable, CaseIterable {
    case openai
    case anthropic
    case githubCopilot = "github-copilot"
    case azure
    case bedrock

    /// Values DESIGN.md reserves for later issues: refused with "not supported yet".
    static let reserved: [String] = []

    /// The type a provider without `"type"` gets from its name.
    public static func implied(byName name: String) -> ProviderType {
        switch name {
        case "anthropic": return .anthropic
        case ModelName.copilotProvider: return .githubCopilot
        default: return .openai
        }
    }

    /// The configured `"type"` value parsed; the error names the key (by full
    /// path) and the valid values, never quoting an unknown value.
    package static func parse(_ value: String, key: String) throws(ModelsError) -> ProviderType {
        if let type = ProviderType(rawValue: value) { return type }
        let valid = allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        if reserved.contains(value) {
            throw .invalidArgument("config: \"\(key)\" \"\(value)\" is not supported yet; use one of \(valid)")
        }
        throw .invalidArgument("config: \"\(key)\" must be one of \(valid)")
    }
}
