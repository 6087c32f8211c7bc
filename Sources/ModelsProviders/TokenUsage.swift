// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// The tokens one answer used, in the OpenAI sense: `input` (prompt tokens)
/// includes `cachedInput`, the part read from the provider's prompt cache.
/// Counts from outside are clamped to 0...Int64.max, never trusted to add up.
public struct TokenUsage: Sendable, Equatable {
    public var input: Int64
    public var output: Int64
    /// Prompt tokens served from the provider's cache; at most `input`.
    public var cachedInput: Int64
    /// As the provider gave it, else `input + output` (saturating).
    public var total: Int64

    public static let zero = TokenUsage(input: 0, output: 0)

    public init(input: Int64, output: Int64, cachedInput: Int64 = 0, total: Int64? = nil) {
        self.input = max(0, input)
        self.output = max(0, output)
        self.cachedInput = min(max(0, cachedInput), self.input)
        self.total = max(0, total ?? self.input.saturatingAdd(self.output))
    }

    public var isZero: Bool { input == 0 && output == 0 && total == 0 }

    /// Read from an OpenAI-shaped `usage` object (`prompt_tokens`,
    /// `completion_tokens`, `total_tokens`, `prompt_tokens_details.cached_tokens`).
    public init(openAI usage: JSON?) {
        guard let usage, usage.kind == .object else {
            self = .zero
            return
        }
        self.init(input: usage["prompt_tokens"]?.int ?? 0, output: usage["completion_tokens"]?.int ?? 0,
                  cachedInput: usage["prompt_tokens_details"]?["cached_tokens"]?.int ?? 0,
                  total: usage["total_tokens"]?.int)
    }
}

extension ChatAnswer {
    /// The answer's `usage`, cached tokens included; zeros without one. Parses
    /// a provider's bytes: read only when something needs it.
    public var usage: TokenUsage {
        switch storage {
        case .json(let json): return TokenUsage(openAI: json["usage"])
        case .bytes(let bytes, _, _):
            // The scanner finds the member; jansson parses only its value (a
            // whole answer costs several times more to parse).
            return bytes.withUnsafeBytes { all in
                let scan = Self.usageScanner.scan(all)
                if scan.topLevelKeyHasEscape {
                    return TokenUsage(openAI: (try? JSON.parse(all))?["usage"])
                }
                guard let r = scan.range(of: 0), all[r.lowerBound] == UInt8(ascii: "{") else { return .zero }
                return TokenUsage(openAI: try? JSON.parse(UnsafeRawBufferPointer(rebasing: all[r])))
            }
        }
    }

    private static let usageScanner = JSONScanner(keys: "usage")
}

extension ChatAnswer {
    /// Sets a top-level member (`x_libmodels`). A provider's bytes are parsed
    /// and written again for it: only for callers who ask for the member.
    public mutating func setMember(_ key: String, _ value: JSON) {
        var whole = json
        whole.set(key, value)
        storage = .json(whole)
    }
}
