// SPDX-License-Identifier: Apache-2.0
/// Model names are `provider/model-id`; a name without `/` belongs to GitHub Copilot.
public enum ModelName {
    public static let copilotProvider = "github-copilot"

    /// The provider part of a full model name (`anthropic/claude-x` → `anthropic`).
    public static func provider(of full: String) -> String {
        guard let slash = full.utf8.firstIndex(of: UInt8(ascii: "/")) else { return copilotProvider }
        return String(full[..<slash])
    }

    /// The model id sent to the provider: everything after the first `/`
    /// (`openrouter/meta/llama-3` → `meta/llama-3`); a name without `/` is returned as is.
    public static func modelID(_ full: String) -> String {
        guard let slash = full.utf8.firstIndex(of: UInt8(ascii: "/")) else { return full }
        return String(full[full.utf8.index(after: slash)...])
    }

    /// Why a model name cannot be routed, or nil when it can.
    public static func problem(with full: String) -> String? {
        if full.isEmpty { return "is empty" }
        if full.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == UInt8(ascii: " ") }) {
            return "contains spaces or control characters"
        }
        if full.utf8.first == UInt8(ascii: "/") { return "has an empty provider name" }
        if full.utf8.last == UInt8(ascii: "/") { return "has an empty model id" }
        return nil
    }
}
