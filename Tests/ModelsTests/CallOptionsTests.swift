// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// A call's options: read like the config, and applied to the HTTP request.
@Suite struct CallOptionsTests {
    static func parse(_ text: String) throws(ModelsError) -> CallOptions {
        var text = text
        return try text.withUTF8 { buf in Result { () throws(ModelsError) in try CallOptions(text: UnsafeRawBufferPointer(buf)) } }.get()
    }

    @Test func everyKeyIsRead() throws {
        let o = try Self.parse("""
        {"timeout_ms": 1500, "max_retries": 0, "fallbacks": ["a/b", "g"], "stream_idle_timeout_ms": 200,
         "stream_timeout_ms": 9000, "extra_headers": {"X-Trace": "t", "Authorization": "Bearer x"},
         "extra_query": {"api-version": "2024-10-21", "n": 2, "on": true, "q": "a b/é"},
         "metadata": {"tenant": "acme", "ids": [1, 2]}}
        """)
        #expect(o.timeoutMs == 1500 && o.maxRetries == 0 && o.fallbacks == ["a/b", "g"])
        #expect(o.streamIdleTimeoutMs == 200 && o.streamTimeoutMs == 9000)
        #expect(o.extraHeaders.map(\.name) == ["X-Trace", "Authorization"])
        #expect(o.secrets == ["t", "Bearer x"])
        #expect(o.extraQuery == "api-version=2024-10-21&n=2&on=true&q=a%20b%2F%C3%A9")
        #expect(o.metadata == #"{"tenant":"acme","ids":[1,2]}"#)
    }

    @Test func emptyOptionsChangeNothing() throws {
        let o = try Self.parse("{}")
        #expect(o.timeoutMs == nil && o.maxRetries == nil && o.fallbacks == nil && o.metadata == nil)
        #expect(o.extraHeaders.isEmpty && o.extraQuery.isEmpty)
    }

    /// Each bad option and the text its error must contain; values are never echoed.
    static let bad: [(String, String)] = [
        (#"{"max_retry": 1}"#, #"options: unknown key "max_retry" (did you mean "max_retries"?)"#),
        (#"{"extra-headers": {}}"#, #"(did you mean "extra_headers"?)"#),
        (#"{"timeout_ms": 1.5}"#, #""timeout_ms" must be a whole number, not a number"#),
        (#"{"extra_headers": {"X": "a\nb-secret"}}"#, #""extra_headers.X" is not a valid HTTP header"#),
        (#"{"extra_headers": {"Transfer-Encoding": "chunked"}}"#, "cannot be replaced"),
        (#"{"metadata": "x"}"#, #""metadata" must be an object, not a string"#),
        (#"{"fallbacks": ["ok/m", " bad"]}"#, #""fallbacks[1]""#),
    ]

    @Test(arguments: bad) func badOptionsNameTheKey(_ text: String, _ expected: String) {
        do {
            _ = try Self.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(!error.message.contains("secret"))
        }
    }

    @Test func extrasReplaceHeadersWhateverTheirCaseAndExtendTheQuery() {
        var request = HTTPRequest(method: .post, url: "https://h.example/v1/chat/completions",
                                  headers: [("Authorization", "Bearer k"), ("Accept", "application/json")])
        request.add(extraHeaders: [("authorization", "Bearer call"), ("X-A", "1")], extraQuery: "a=1")
        #expect(request.headers.map(\.name) == ["Accept", "authorization", "X-A"])
        #expect(request.headers.map(\.value) == ["application/json", "Bearer call", "1"])
        #expect(request.url == "https://h.example/v1/chat/completions?a=1")
        request.add(extraHeaders: [], extraQuery: "b=2")
        #expect(request.url == "https://h.example/v1/chat/completions?a=1&b=2")
    }

    @Test func theNearestKeyIsSuggested() {
        let keys = CallOptions.keys + ["type"]
        let cases: [(String, String?)] = [
            ("max_retry", "max_retries"), ("Timeout-MS", "timeout_ms"), ("timeout", "timeout_ms"), ("typ", "type"),
            ("tipe", "type"), ("stream_timeout", "stream_timeout_ms"), ("stream_idle_timeout", "stream_idle_timeout_ms"),
            ("extra_header", "extra_headers"), ("tip", nil), ("headers", nil), ("x", nil), ("", nil),
        ]
        for (key, expected) in cases {
            #expect(ConfigReader.suggestion(for: key, among: keys) == expected, "\(key)")
        }
    }
}
