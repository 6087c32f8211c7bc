// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct ErrorKindTests {
    @Test func kindFollowsCodeAndStatus() {
        let cases: [(ModelsCode, Int, ErrorKind)] = [
            (.api, 429, .rateLimit), (.api, 401, .auth), (.api, 403, .auth), (.api, 404, .notFound),
            (.api, 408, .timeout), (.api, 400, .badRequest), (.api, 422, .badRequest), (.api, 413, .badRequest),
            (.api, 500, .server), (.api, 503, .server), (.api, 529, .server), (.api, 0, .server), (.api, 302, .server),
            (.timeout, 0, .timeout), (.transport, 0, .transport), (.protocol, 0, .protocol), (.cancelled, 0, .cancelled),
            (.invalidArgument, 0, .invalidArgument), (.noProvider, 0, .noProvider), (.allCooldown, 0, .allCooldown),
            (.allFailed, 503, .allFailed), (.noMemory, 0, .noMemory),
        ]
        for (code, status, kind) in cases {
            #expect(ModelsError(code, "m", status: status).kind == kind, "\(code.name) \(status)")
        }
    }

    @Test func providerSaysContextWindowOrContentPolicy() {
        let body = { (s: String) -> ErrorKind in
            var head = HTTPResponseHead()
            head.status = 400
            return ProviderErrors.httpError(provider: "p", head: head, body: Array(s.utf8), secrets: []).kind
        }
        // OpenAI
        #expect(body(#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#) == .contextWindow)
        // Anthropic, over HTTP and inside a 200 body
        #expect(body(#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#) == .contextWindow)
        // vLLM and other OpenAI-compatible servers, by their words only
        #expect(body(#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens","type":"BadRequestError","code":400}"#) == .contextWindow)
        #expect(body(#"{"error":{"message":"Please reduce the length of the messages or completion.","code":null}}"#) == .contextWindow)
        // Azure's content filter, and OpenAI's policy refusal
        #expect(body(#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#) == .contentPolicy)
        #expect(body(#"{"error":{"message":"Invalid prompt: your prompt was flagged as potentially violating our usage policy.","type":"invalid_request_error","code":"invalid_prompt"}}"#) == .contentPolicy)
        // Other 400s stay bad requests
        #expect(body(#"{"error":{"message":"Unrecognized request argument supplied: foo","type":"invalid_request_error"}}"#) == .badRequest)
        #expect(body("not json at all") == .badRequest)
    }

    @Test func onlyClientErrorsAreRefusals() {
        let tooLong = "prompt is too long"
        #expect(ErrorKind.refusal(status: 400, codes: [], message: tooLong) == .contextWindow)
        #expect(ErrorKind.refusal(status: 413, codes: [], message: tooLong) == .contextWindow)
        #expect(ErrorKind.refusal(status: 0, codes: ["context_length_exceeded"], message: "") == .contextWindow)
        // A rate limit or a server error that mentions tokens is still what its status says.
        #expect(ErrorKind.refusal(status: 429, codes: [], message: "context length and tokens per minute") == nil)
        #expect(ErrorKind.refusal(status: 500, codes: ["context_length_exceeded"], message: tooLong) == nil)
    }

    @Test func providerFailuresAreTheConfigNames() {
        #expect(ErrorKind.providerFailures.map(\.rawValue) == [
            "rate_limit", "auth", "not_found", "context_window", "content_policy", "bad_request", "server", "timeout", "transport", "protocol",
        ])
    }
}
