// SPDX-License-Identifier: Apache-2.0
/// Removes secrets from text that may reach a log line or an error message.
/// Providers sometimes quote a key back ("Incorrect API key provided: sk-...").
public enum Redact {
    public static func secrets(_ text: String, known: [String]) -> String {
        var out = text
        // Longest first: a secret that contains another is removed whole.
        for secret in known.sorted(by: { $0.utf8.count > $1.utf8.count }) where secret.utf8.count >= 4 {
            out = out.replacingAll(secret, with: "[redacted]")
        }
        return maskKeyLikeWords(out)
    }

    /// Words that look like API keys or tokens (`sk-...`, `ghp_...`, `ghu_...`,
    /// long runs of key characters) are cut to their first four characters.
    static func maskKeyLikeWords(_ text: String) -> String {
        var result = ""
        var word = ""
        func flush() {
            if looksLikeKey(word) { result += word.prefix(4) + "…[redacted]" } else { result += word }
            word = ""
        }
        for ch in text {
            // "=" belongs to the word so that a Copilot token's "tid=..." part keeps its prefix.
            if ch.isLetter || ch.isNumber || ch == "-" || ch == "_" || ch == "*" || ch == "." || ch == "=" { word.append(ch) } else {
                flush()
                result.append(ch)
            }
        }
        flush()
        return result
    }

    static func looksLikeKey(_ word: String) -> Bool {
        let prefixes = ["sk-", "sk_", "ghp_", "gho_", "ghu_", "ghs_", "github_pat_", "xai-", "gsk_", "tid="]
        if prefixes.contains(where: { word.hasPrefix($0) }) && word.count >= 12 { return true }
        guard word.count >= 32 else { return false }
        let digits = word.filter(\.isNumber).count
        let letters = word.filter(\.isLetter).count
        return digits >= 4 && letters >= 8
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            result += rest[..<r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        return result + rest
    }
}
