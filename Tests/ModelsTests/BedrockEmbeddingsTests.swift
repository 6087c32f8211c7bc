// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// Bedrock embeddings (InvokeModel): the model families, the bodies sent and
/// the OpenAI answer built from Bedrock's, without a network.
@Suite struct BedrockEmbeddingsTests {
    static func request(_ text: String) throws -> EmbeddingsRequest {
        try EmbeddingsRequest(json: try JSON.parse(Array(text.utf8)))
    }

    static func bodies(_ text: String, _ modelID: String) throws -> [String] {
        let family = try #require(BedrockEmbeddings.family(modelID: modelID))
        return try BedrockEmbeddings.bodies(try request(text), family: family, provider: "aws", model: "aws/" + modelID).map { $0.serialized() }
    }

    @Test func families() {
        #expect(BedrockEmbeddings.family(modelID: "amazon.titan-embed-text-v2:0") == .titan(dimensions: true))
        #expect(BedrockEmbeddings.family(modelID: "us.amazon.titan-embed-text-v2:0") == .titan(dimensions: true))
        #expect(BedrockEmbeddings.family(modelID: "amazon.titan-embed-text-v1") == .titan(dimensions: false))
        #expect(BedrockEmbeddings.family(modelID: "cohere.embed-english-v3") == .cohere)
        #expect(BedrockEmbeddings.family(modelID: "eu.cohere.embed-multilingual-v3") == .cohere)
        #expect(BedrockEmbeddings.family(modelID: "arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-english-v3") == .cohere)
        #expect(BedrockEmbeddings.family(modelID: "anthropic.claude-3-haiku") == nil)
        #expect(BedrockEmbeddings.family(modelID: "amazon.titan-embed-image-v1") == nil)
        #expect(BedrockEmbeddings.family(modelID: "x.y.amazon.titan-embed-text-v2:0") == nil)
    }

    @Test func titanBodies() throws {
        #expect(try Self.bodies(#"{"input":"hi"}"#, "amazon.titan-embed-text-v2:0") == [#"{"inputText":"hi","normalize":true}"#])
        #expect(try Self.bodies(#"{"input":["a","b"],"dimensions":256}"#, "amazon.titan-embed-text-v2:0")
            == [#"{"inputText":"a","dimensions":256,"normalize":true}"#, #"{"inputText":"b","dimensions":256,"normalize":true}"#])
    }

    @Test func cohereBodies() throws {
        #expect(try Self.bodies(#"{"input":["a","b"]}"#, "cohere.embed-english-v3")
            == [#"{"texts":["a","b"],"input_type":"search_document"}"#])
        #expect(try Self.bodies(#"{"input":"q","input_type":"search_query"}"#, "cohere.embed-english-v3")
            == [#"{"texts":["q"],"input_type":"search_query"}"#])
    }

    @Test(arguments: [
        (#"{"input":[1,2]}"#, "amazon.titan-embed-text-v2:0", "text inputs only, not tokens"),
        (#"{"input":[[1],[2]]}"#, "cohere.embed-english-v3", "text inputs only, not tokens"),
        (#"{"input":"a","dimensions":8}"#, "amazon.titan-embed-text-v1", #"does not take "dimensions""#),
        (#"{"input":"a","dimensions":8}"#, "cohere.embed-english-v3", #"does not take "dimensions""#),
        (#"{"input":"a","input_type":3}"#, "cohere.embed-english-v3", #""input_type" must be a non-empty string"#),
    ])
    func refused(_ text: String, _ modelID: String, _ message: String) throws {
        do {
            _ = try Self.bodies(text, modelID)
            Issue.record("accepted \(text)")
        } catch let error as ModelsError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func tooManyInputs() throws {
        let inputs = (0...BedrockEmbeddings.maxInputs).map { "\"t\($0)\"" }.joined(separator: ",")
        do {
            _ = try Self.bodies("{\"input\":[\(inputs)]}", "amazon.titan-embed-text-v2:0")
            Issue.record("accepted")
        } catch let error as ModelsError {
            #expect(error.message.contains("at most 96 inputs per call, not 97"))
        }
    }

    @Test func titanAnswer() throws {
        let answers = [try JSON.parse(Array(#"{"embedding":[0.5,-1],"inputTextTokenCount":3}"#.utf8)),
                       try JSON.parse(Array(#"{"embedding":[1,0.25],"inputTextTokenCount":2}"#.utf8))]
        let json = try BedrockEmbeddings.answer(answers, family: .titan(dimensions: true), model: "aws/titan", base64: false, provider: "aws")
        #expect(json.serialized() == #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1]},"#
            + #"{"object":"embedding","index":1,"embedding":[1,0.25]}],"model":"aws/titan","usage":{"prompt_tokens":5,"total_tokens":5}}"#)
    }

    @Test func cohereAnswerBase64() throws {
        let answer = try JSON.parse(Array(#"{"embeddings":[[1.0],[0.5,-2]],"id":"x","response_type":"embeddings_floats","texts":["a","b"]}"#.utf8))
        let json = try BedrockEmbeddings.answer([answer], family: .cohere, model: "aws/c", base64: true, headerTokens: 7, provider: "aws")
        // 1.0f = 00 00 80 3f; 0.5f = 00 00 00 3f, -2f = 00 00 00 c0.
        #expect(json["data"]?[0]?["embedding"]?.string == "AACAPw==")
        #expect(json["data"]?[1]?["embedding"]?.string == "AAAAPwAAAMA=")
        #expect(json["usage"]?["prompt_tokens"]?.int == 7)
    }

    @Test(arguments: [#"[]"#, #"{"embedding":"x"}"#, #"{"embeddings":[1]}"#])
    func badAnswers(_ text: String) throws {
        let answer = try JSON.parse(Array(text.utf8))
        let family: BedrockEmbeddings.Family = text.contains("embeddings") ? .cohere : .titan(dimensions: true)
        #expect(throws: ModelsError.self) {
            try BedrockEmbeddings.answer([answer], family: family, model: "m", base64: false, provider: "aws")
        }
    }

    @Test func base64() {
        #expect(BedrockEmbeddings.base64([]) == "")
        #expect(BedrockEmbeddings.base64(Array("f".utf8)) == "Zg==")
        #expect(BedrockEmbeddings.base64(Array("fo".utf8)) == "Zm8=")
        #expect(BedrockEmbeddings.base64(Array("foobar".utf8)) == "Zm9vYmFy")
    }

    @Test(arguments: [("12", Int64(12)), ("0", 0), ("", 0), ("-3", 0), ("1e3", 0), (" 7", 0),
                      ("999999999999999999", 999_999_999_999_999_999), ("9999999999999999999", 0)])
    func inputTokenHeader(_ value: String, _ tokens: Int64) {
        var head = HTTPResponseHead()
        head.bedrockInputTokens = value
        #expect(BedrockProvider.tokens(head) == tokens)
    }
}
