// SPDX-License-Identifier: Apache-2.0

/// The base URLs of the providers the library knows by name.
public enum KnownProviders {
    public static let openAIBaseURL = "https://api.openai.com/v1"
    public static let anthropicBaseURL = "https://api.anthropic.com/v1"
    public static let copilotAPIURL = "https://api.individual.githubcopilot.com"
    public static let copilotTokenURL = "https://api.github.com/copilot_internal/v2/token"

    public static let baseURLs: [(name: String, url: String)] = [
        ("openai", openAIBaseURL),
        ("anthropic", anthropicBaseURL),
        ("github-copilot", copilotAPIURL),
        ("groq", "https://api.groq.com/openai/v1"),
        ("openrouter", "https://openrouter.ai/api/v1"),
        ("mistral", "https://api.mistral.ai/v1"),
        ("together", "https://api.together.xyz/v1"),
        ("fireworks", "https://api.fireworks.ai/inference/v1"),
        ("perplexity", "https://api.perplexity.ai"),
        ("gemini", "https://generativelanguage.googleapis.com/v1beta/openai"),
        ("ollama", "http://localhost:11434/v1"),
        ("lmstudio", "http://localhost:1234/v1"),
    ]

    /// The known base URL for a provider name; nil when the name is not known.
    public static func defaultBaseURL(_ provider: String) -> String? {
        baseURLs.first(where: { $0.name == provider })?.url
    }

    /// The environment variable whose key registers a provider when the config does
    /// not name it (`OPENAI_API_KEY` for openai, `GROQ_API_KEY` for groq, ...).
    public static func apiKeyVariable(_ provider: String) -> String {
        var name = ""
        for u in provider.utf8 {
            switch u {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): name.append(Character(Unicode.Scalar(u - 32)))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                name.append(Character(Unicode.Scalar(u)))
            default: name.append("_")
            }
        }
        return name + "_API_KEY"
    }
}
