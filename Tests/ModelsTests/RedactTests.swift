// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// Secrets never reach an error message or a log line: known keys are
/// replaced wherever they appear, and words shaped like keys are cut short.
@Suite struct RedactTests {
    @Test func knownSecretIsReplacedEverywhere() {
        let key = "my-private-value-42"
        let out = Redact.secrets("key \(key) rejected; retry with \(key)", known: [key])
        #expect(!out.contains(key))
        #expect(out == "key [redacted] rejected; retry with [redacted]")
    }

    @Test func veryShortKnownSecretsAreNotReplaced() {
        // A 3-character "secret" would shred ordinary text.
        #expect(Redact.secrets("about the abc", known: ["abc", ""]) == "about the abc")
    }

    @Test(arguments: [
        "sk-proj-abcdefghijklmnop0123",
        "sk_live_0123456789abcdef",
        "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
        "ghu_abcdefghijkl",
        "github_pat_11ABCDEFG0123456789",
        "gsk_abcdefghijklmnop",
        "xai-abcdefghijklmnop",
        "tid=abcdef0123456789",
    ])
    func keyShapedWordsAreMasked(key: String) {
        let out = Redact.secrets("Incorrect API key provided: \(key).", known: [])
        #expect(!out.contains(key))
        #expect(out.hasPrefix("Incorrect API key provided: \(key.prefix(4))…[redacted]"))
    }

    /// A Copilot API token: "tid=...;exp=...;...". Its id part is masked.
    @Test func copilotTokenIdIsMasked() {
        let out = Redact.secrets("token tid=abcdef0123456789;exp=1700000000 refused", known: [])
        #expect(!out.contains("abcdef0123456789"))
        #expect(out.contains("tid=…[redacted];exp=1700000000"))
    }

    @Test func longMixedTokensAreMasked() {
        let token = "a1b2c3d4e5f6g7h8i9j0klmnopqrstuvwxyz"  // 36 characters, letters and digits
        let out = Redact.secrets("token \(token) expired", known: [])
        #expect(out == "token a1b2…[redacted] expired")
    }

    @Test(arguments: [
        "Incorrect API key provided",
        "rate limit exceeded for gpt-4o-mini, retry in 20s",
        "internationalization-and-localization-considerations",  // long, but no digits
        "sk-short",                                              // a prefix, but too short for a key
        "model claude-sonnet-4-6 is overloaded",
        "h\u{e9}llo w\u{f6}rld \u{2603}",
        "",
    ])
    func ordinaryTextIsUntouched(text: String) {
        #expect(Redact.secrets(text, known: ["sk-test-key-0123456789"]) == text)
    }

    @Test func replacingAllHandlesOverlapsAndEdges() {
        #expect("aaaa".replacingAll("aa", with: "b") == "bb")
        #expect("xyx".replacingAll("x", with: "") == "y")
        #expect("abc".replacingAll("", with: "z") == "abc")
        #expect("abc".replacingAll("abcd", with: "z") == "abc")
    }
}
