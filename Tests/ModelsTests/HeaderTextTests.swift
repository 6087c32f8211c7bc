// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// A header that would split the request never reaches libcurl: the transfer
/// refuses it before any connection, naming the header and never its value.
@Suite struct HeaderTextTests {
    @Test(arguments: [
        ("Authorization", "Bearer k\r\nX-Injected: yes"),
        ("Authorization", "Bearer k\n"),
        ("x-api-key", "k\r"),
        ("x-api-key", "k\u{0}x"),
        ("x-api-key", "k\u{7f}"),
        ("X-Bad\r\nX-Injected", "v"),
        ("X Bad", "v"),
        ("X-Bad:", "v"),
    ])
    func transferRefusesControlCharacters(name: String, value: String) {
        // Port 1 on loopback: nothing is listening, and the check comes before connecting.
        let request = HTTPRequest(method: .post, url: "http://127.0.0.1:1/v1/chat/completions",
                                  headers: [("Content-Type", "application/json"), (name, value)], body: Array("{}".utf8))
        let limits = TransferLimits(headersDeadlineMs: MonotonicClock.nowMs() + 1000, totalDeadlineMs: nil, idleTimeoutMs: 1000)
        do {
            _ = try HTTPTransfer(request, limits: limits, cancellation: nil)
            Issue.record("the transfer accepted a header with a control character")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("request header"))
            #expect(!error.message.contains("Injected: yes"))
            #expect(!error.message.contains("Bearer"))
        }
    }

    @Test func tabIsAllowedInValuesOnly() {
        #expect(HeaderText.isValidValue("a\tb"))
        #expect(!HeaderText.isValidName("a\tb"))
        #expect(!HeaderText.isValidCredential("a\tb"))
    }

    @Test(arguments: ["sk-k\n", " sk-k", "sk-k ", "sk\r\nk", "sk\u{1b}k"])
    func credentialsWithSpacesAroundOrControlsAreRefused(key: String) {
        #expect(!HeaderText.isValidCredential(key))
    }

    @Test func printableNameEscapesControlCharacters() {
        #expect(HeaderText.printableName("X-A\r\nB") == "X-A\\x0D\\x0AB")
    }

    /// jansson quotes up to 20 characters of the text at a syntax error; the
    /// library's parse errors quote nothing (the text may be a config with a key).
    @Test(arguments: [
        "{\"api_key\": \"sk-live-SECRET\" \"x\": 1}",
        "{\"api_key\": \"sk-live-SECRET",
        "{\"api_key\": sk-live-SECRET}",
        "{\"a\": 1} sk-live-SECRET",
    ])
    func parseErrorsQuoteNothing(text: String) {
        do {
            _ = try JSON.parse(text)
            Issue.record("parsed")
        } catch {
            #expect(!error.message.contains("SECRET"))
            #expect(!error.message.contains("sk-"))
            #expect(!error.message.contains("near"))
            #expect(error.line == 1)
        }
    }

    /// A key that straddles the 300-byte cut of a plain-text error body is
    /// redacted before the cut.
    @Test(arguments: [6, 9, 12, 20, 31])
    func keyStraddlingTheCutIsRedacted(beforeCut: Int) {
        let key = "sk-live-Q7xYz2Wv9Lm4Np8Rt1Ks6Hd3Fg5Jb0Vc"
        let body = String(repeating: "a", count: 300 - beforeCut - 1) + " " + key + " refused"
        let text = ProviderErrors.message(inBody: Array(body.utf8), secrets: [key])
        #expect(!text.contains(String(key.prefix(5))))
        #expect(text.utf8.count <= ProviderErrors.maxTextBytes)
    }
}
