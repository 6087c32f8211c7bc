// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// The caller's request: checked from its text without a tree, and forwarded
/// to OpenAI-compatible providers by splicing. Every case is held against the
/// tree path (jansson parse, edit, write), which is what it replaces.
@Suite struct ChatRequestTests {
    private func request(_ text: String) throws(ModelsError) -> ChatRequest {
        var text = text
        return try text.withUTF8 { buf in
            Result { () throws(ModelsError) in try ChatRequest(text: UnsafeRawBufferPointer(buf)) }
        }.get()
    }

    private func isText(_ r: ChatRequest) -> Bool {
        if case .text = r.form { return true }
        return false
    }

    /// The error of `ChatRequest(text:)`, and that of the tree path for the same text.
    private func errors(_ text: String) -> (String?, String?) {
        var fromText: String?, fromTree: String?
        do { _ = try request(text) } catch { fromText = error.message }
        do {
            let json = try JSON.parse(text)
            _ = try ChatRequest(json: json)
        } catch let error as ModelsError { fromTree = error.message } catch {
            fromTree = "request is not valid JSON"
        }
        return (fromText, fromTree)
    }

    @Test(arguments: [
        (#"[]"#, "request must be a JSON object, not an array"),
        (#""x""#, "request must be a JSON object, not a string"),
        (#"{"model":"a/b"}"#, "request has no \"messages\""),
        (#"{"messages":{}}"#, "request \"messages\" must be an array, not an object"),
        (#"{"messages":null}"#, "request \"messages\" must be an array, not null"),
        (#"{"messages":[{"role":"user"}, 3]}"#, "request \"messages[1]\" must be an object, not a number"),
        (#"{"messages":[ "hi" ]}"#, "request \"messages[0]\" must be an object, not a string"),
        (#"{"messages":[{"content":"a]\"}{["},{"x":[{}]} ,[]]}"#, "request \"messages[2]\" must be an object, not an array"),
        (#"{"messages":[{}, {}, true]}"#, "request \"messages[2]\" must be an object, not a boolean"),
        (#"{"messages":[],"model":7}"#, "request \"model\" must be a string, not a number"),
        (#"{"messages":[],"model":["a"]}"#, "request \"model\" must be a string, not an array"),
        (#"{"m\u0065ssages":[3]}"#, "request \"messages[0]\" must be an object, not a number"),
        (#"{"messages":[],"model":"a","model":false}"#, "request \"model\" must be a string, not a boolean"),
    ])
    func refusesWhatIsNotARequest(text: String, message: String) {
        let (fromText, fromTree) = errors(text)
        #expect(fromText == message)
        #expect(fromTree == message)
    }

    @Test func invalidJSONIsRefusedWithJanssonsMessage() {
        for text in ["", "{", #"{"messages":[]"#, #"{"messages":[]} x"#, "{\"messages\":[\"\u{1}\"]}"] {
            let (fromText, _) = errors(text)
            #expect(fromText?.hasPrefix("request is not valid JSON: ") == true, "\(text)")
            #expect(fromText?.contains("line ") == true)
        }
    }

    @Test func acceptedRequestsAndTheirModel() throws {
        let cases: [(String, String?, Bool)] = [
            (#"{"messages":[]}"#, nil, true),
            (#"{"messages":[{"role":"user","content":"hi"}],"model":"openai/gpt-4o"}"#, "openai/gpt-4o", true),
            (#"{"messages":[],"model":""}"#, nil, true),
            (#"{"messages":[],"model":null}"#, nil, true),
            (#"{"messages":[],"model":"a/\u00e9\n"}"#, "a/é\n", true),
            // Beyond the scanner: kept as a tree, same answers.
            (#"{"messages":[],"mod\u0065l":"x/y"}"#, "x/y", false),
            (#"{"messages":[],"model":"x/a","model":"x/b"}"#, "x/b", false),
            (#"{"messages":[{"content":"a\u0000b"}]}"#, nil, false),
        ]
        for (text, model, fast) in cases {
            let r = try request(text)
            #expect(r.model == model, "\(text)")
            #expect(isText(r) == fast, "\(text)")
            #expect(r.json == (try JSON.parse(text)))
        }
    }

    /// The spliced body equals the tree path's (as JSON), and keeps the caller's bytes.
    @Test func splicedBodiesMatchTheTreePath() throws {
        let requests = [
            #"{"messages":[]}"#,
            #"{}"#.replacingOccurrences(of: "{}", with: #"{"messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#),
            #"{"model":"p/old","messages":[],"stream":true}"#,
            #"{ "stream" : false , "messages":[] }"#,
            #"{"messages":[],"stream":true,"stream_options":null}"#,
            #"{"stream":true,"stream_options":7}"#.replacingOccurrences(of: "{\"stream", with: "{\"messages\":[],\"stream"),
            #"{"stream_options":{"x":1},"stream":1,"messages":[],"seed":5}"#,
            #"{"messages":[],"stream":false,"stream_options":{},"model":"z"}"#,
            #"{"stream":false,"stream_options":{},"messages":[]}"#,
            #"{"stream":false,"messages":[],"stream_options":{}}"#,
            #"{"messages":[],"stream_options":{"include_usage":false,"y":2}}"#,
            "{\n  \"messages\": [],\n  \"n\": 1e2\n}\n",
        ]
        for text in requests {
            let r = try request(text)
            for stream in [false, true] {
                let body = OpenAIRequest.body(r, modelID: "m\"1", stream: stream)
                let expected = OpenAIRequest.tree(try JSON.parse(text), modelID: "m\"1", stream: stream)
                #expect((try? JSON.parse(body)) == expected, "\(text) stream=\(stream): \(String(decoding: body, as: UTF8.self))")
            }
        }
    }

    @Test func unknownFieldsAndSpellingPassThroughUntouched() throws {
        let text = #"{"messages":[{"role":"user","content":"hi"}], "temperature":0.20, "x-vendor":{"a":[1E2]}}"#
        let body = String(decoding: OpenAIRequest.body(try request(text), modelID: "gpt-4o", stream: false), as: UTF8.self)
        #expect(body == #"{"messages":[{"role":"user","content":"hi"}], "temperature":0.20, "x-vendor":{"a":[1E2]},"model":"gpt-4o"}"#)
        let streamed = String(decoding: OpenAIRequest.body(try request(#"{"model":"a/b","messages":[]}"#), modelID: "b", stream: true),
                              as: UTF8.self)
        #expect(streamed == #"{"model":"b","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#)
        let removed = String(decoding: OpenAIRequest.body(try request(#"{"stream":true, "messages":[],"stream_options":{}}"#),
                                                          modelID: "b", stream: false), as: UTF8.self)
        #expect(removed == #"{ "messages":[],"model":"b"}"#)
    }
}
