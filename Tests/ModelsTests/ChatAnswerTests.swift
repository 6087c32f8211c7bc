// SPDX-License-Identifier: Apache-2.0
import Glibc
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct ChatAnswerTests {
    private func answer(_ text: String) -> ChatAnswer {
        let bytes = Array(text.utf8)
        let scan = bytes.withUnsafeBytes { JSONScanner(keys: "choices", "model").scan($0) }
        #expect(scan.kind == .object)
        return ChatAnswer(checkedBytes: bytes, model: scan.range(of: 1))
    }

    private func text(_ a: ChatAnswer) -> String { String(decoding: a.serializedBytes(), as: UTF8.self) }

    @Test func replacesTheModelKeepingEveryOtherByte() {
        var a = answer(#"{"id":"x", "model" : "gpt-4o-2024-08-06","choices":[{"message":{"model":"inner"}}],"n":0.2}"#)
        a.setModel("openai/gpt-4o")
        #expect(text(a) == #"{"id":"x", "model" : "openai/gpt-4o","choices":[{"message":{"model":"inner"}}],"n":0.2}"#)
    }

    @Test func insertsAModelWhenThereIsNone() {
        var a = answer(#"  {"choices":[]}"#)
        a.setModel("local/m1")
        #expect(text(a) == #"  {"model":"local/m1","choices":[]}"#)
        var empty = ChatAnswer(checkedBytes: Array("{ }".utf8), model: nil)
        empty.setModel("a/b")
        #expect(text(empty) == #"{"model":"a/b" }"#)
    }

    @Test func escapesTheName() throws {
        var a = answer(#"{"model":"m","choices":[]}"#)
        a.setModel("a/\"quoted\"\\")
        #expect(try JSON.parse(a.serializedBytes())["model"]?.string == "a/\"quoted\"\\")
    }

    @Test func aNonStringModelIsReplacedToo() {
        var a = answer(#"{"model":{"name":"x"},"choices":[]}"#)
        a.setModel("p/m")
        #expect(text(a) == #"{"model":"p/m","choices":[]}"#)
    }

    @Test func translatedAnswersAreJSON() {
        var a = ChatAnswer(json: ["choices": [], "model": "claude"])
        a.setModel("anthropic/claude")
        #expect(a.json["model"]?.string == "anthropic/claude")
        #expect(text(a) == #"{"choices":[],"model":"anthropic/claude"}"#)
    }

    /// The C API's copy: the same text, NUL-terminated, in memory from the given allocator.
    @Test func copiesTheTextForCOnce() {
        var spliced = answer(#"{"model":"x","choices":[1]}"#)
        spliced.setModel("p/é")
        var inserted = answer(#"{"choices":[]}"#)
        inserted.setModel("p/m")
        var translated = ChatAnswer(json: ["choices": []])
        translated.setModel("a/c")
        for a in [spliced, inserted, translated, answer(#"{"choices":[]} "#)] {
            var sizes: [Int] = []
            guard let p = a.copyText({ sizes.append($0); return malloc($0) }) else {
                Issue.record("no copy")
                continue
            }
            #expect(String(cString: p) == text(a))
            #expect(sizes == [a.serializedBytes().count + 1])
            free(p)
        }
    }
}
