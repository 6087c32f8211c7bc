// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// Embeddings in the core: the request's checks, the body a provider gets,
/// reading an answer, Azure's URLs, and the router's refusal for a provider
/// without embeddings.
@Suite struct EmbeddingsTests {
    static func request(_ text: String) throws(ModelsError) -> EmbeddingsRequest {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { buf in Result { () throws(ModelsError) in try EmbeddingsRequest(text: buf) } }
        return try result.get()
    }

    @Test(arguments: [
        (#"{"input":"a"}"#, 1), (#"{"input":["a","b c"]}"#, 2), (#"{"input":[1,2,3]}"#, 1),
        (#"{"input":[[1],[2,3],[4]],"model":"p/m"}"#, 3), (#"{"input":"a","encoding_format":"base64","dimensions":3,"user":"u"}"#, 1),
        (#"{"input":"a","model":null,"dimensions":null,"encoding_format":null}"#, 1),
    ])
    func accepted(_ text: String, _ count: Int) throws {
        #expect(try Self.request(text).inputCount == count)
    }

    @Test(arguments: [
        (#"{"input":"#, "not valid JSON"), (#"3"#, "must be a JSON object, not a number"),
        (#"{}"#, #"has no "input""#), (#"{"input":{}}"#, #""input" must be a string or an array"#),
        (#"{"input":""}"#, "must not be an empty string"), (#"{"input":[]}"#, "must not be an empty array"),
        (#"{"input":["a",[1]]}"#, #""input[1]" must be a string like "input[0]", not an array of tokens"#),
        (#"{"input":[[1],2]}"#, #""input[1]" must be an array of tokens like "input[0]", not a token (an integer)"#),
        (#"{"input":[true]}"#, #""input[0]" must be a string, a token (an integer) or an array of tokens, not a boolean"#),
        (#"{"input":[[1,2.5]]}"#, #""input[0][1]" must be a token"#),
        (#"{"input":"a","encoding_format":"x\"y"}"#, #"not "x y""#),
        (#"{"input":"a","dimensions":-1}"#, "positive integer"), (#"{"input":"a","dimensions":2.0}"#, "positive integer"),
        (#"{"input":"a","user":1}"#, #""user" must be a string"#), (#"{"input":"a","model":[]}"#, #""model" must be a string"#),
    ])
    func refused(_ text: String, _ message: String) {
        do {
            _ = try Self.request(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func bodySetsTheModelIdAndKeepsTheRest() throws {
        let r = try Self.request(#"{"model":"p/full","input":["a"],"dimensions":4,"x_vendor":{"k":1}}"#)
        #expect(r.model == "p/full")
        let body = try JSON.parse(r.body(modelID: "full"))
        #expect(body["model"]?.string == "full")
        #expect(body["dimensions"]?.int == 4)
        #expect(body["x_vendor"]?["k"]?.int == 1)
        // The request itself is unchanged.
        #expect(r.json["model"]?.string == "p/full")
        #expect(try Self.request(#"{"input":"a","model":""}"#).model == nil)
    }

    @Test func answerPassesThroughAndNamesTheModel() throws {
        let bytes = Array(#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AAAA"}],"model":"m","usage":{"prompt_tokens":7,"total_tokens":7}}"#.utf8)
        var answer = try EmbeddingsAnswer.read(bytes, provider: "p", status: 200, secrets: [])
        #expect(answer.usage == TokenUsage(input: 7, output: 0, total: 7))
        answer.setModel("p/m")
        let text = String(decoding: answer.serializedBytes(), as: UTF8.self)
        #expect(text == #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AAAA"}],"model":"p/m","usage":{"prompt_tokens":7,"total_tokens":7}}"#)
    }

    @Test(arguments: [
        (#"{"object":"list"}"#, ModelsCode.protocol, #"without "data""#),
        (#"[1]"#, ModelsCode.protocol, "not an object"),
        (#"{"error":{"message":"no key sk-secret-123456789012"}}"#, ModelsCode.api, "answered with an error"),
        (#"nope"#, ModelsCode.protocol, "invalid JSON"),
    ])
    func badAnswers(_ text: String, _ code: ModelsCode, _ message: String) {
        do {
            _ = try EmbeddingsAnswer.read(Array(text.utf8), provider: "p", status: 200, secrets: ["sk-secret-123456789012"])
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == code)
            #expect(error.message.contains(message), "\(error.message)")
            #expect(!error.message.contains("sk-secret-123456789012"))
        }
    }

    @Test func azureURLs() {
        let d = AzureEndpoint(baseURL: "https://res.openai.azure.com", apiVersion: "2024-10-21")
        #expect(d.embeddingsURL(modelID: "emb 1")
            == "https://res.openai.azure.com/openai/deployments/emb%201/embeddings?api-version=2024-10-21")
        let v1 = AzureEndpoint(baseURL: "https://res.openai.azure.com/openai/v1", apiVersion: nil)
        #expect(v1.embeddingsURL(modelID: "text-embedding-3-small") == "https://res.openai.azure.com/openai/v1/embeddings")
    }

    @Test func providersWithoutEmbeddingsEndTheCall() throws {
        let config = try RouterConfigTests.parse(
            #"{"primary":"anthropic/c","fallbacks":["other/m"],"providers":{"anthropic":{"api_key":"k","base_url":"http://127.0.0.1:9/v1"},"other":{"api_key":"k","base_url":"http://127.0.0.1:9/v1"}}}"#)
        let router = try Router(config: config, environment: { _ in nil })
        do {
            _ = try router.embed(Self.request(#"{"input":"a"}"#))
            Issue.record("answered")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message == #"provider "anthropic" has no embeddings API (model "anthropic/c")"#)
        }
    }
}
