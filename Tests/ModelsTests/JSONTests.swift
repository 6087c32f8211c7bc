// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct JSONTests {
    @Test func parsesAndKeepsMemberOrder() throws {
        let j = try JSON.parse(#"{"b":1,"a":[true,null,"x"],"c":1.5}"#)
        #expect(j.keys == ["b", "a", "c"])
        #expect(j["b"]?.int == 1)
        #expect(j["a"]?[0]?.bool == true)
        #expect(j["a"]?[1]?.isNull == true)
        #expect(j["a"]?[2]?.string == "x")
        #expect(j["c"]?.double == 1.5)
        #expect(j.serialized() == #"{"b":1,"a":[true,null,"x"],"c":1.5}"#)
    }

    @Test func rejectsInvalidText() {
        for bad in ["", "{", "{\"a\":}", "[1,]", "{} x", "\u{0}"] {
            #expect(throws: JSONParseError.self) { try JSON.parse(bad) }
        }
        let invalidUTF8: [UInt8] = [0x22, 0xff, 0xfe, 0x22]
        #expect(throws: JSONParseError.self) { try JSON.parse(invalidUTF8) }
    }

    @Test func mutationDoesNotShowThroughCopies() throws {
        let original = try JSON.parse(#"{"model":"a","messages":[{"role":"user"}]}"#)
        var copy = original
        copy.set("model", "b")
        copy.set("stream", true)
        #expect(original["model"]?.string == "a")
        #expect(original["stream"] == nil)
        #expect(copy["model"]?.string == "b")
        // A member taken out and changed does not change its parent.
        var message = original["messages"]![0]!
        message.set("role", "system")
        #expect(original["messages"]?[0]?["role"]?.string == "user")
    }

    @Test func setKeepsPositionOfExistingMember() throws {
        var j = try JSON.parse(#"{"model":"a","x":1}"#)
        j.set("model", "b")
        #expect(j.serialized() == #"{"model":"b","x":1}"#)
        j.update("usage") { $0.set("total_tokens", 3) }
        #expect(j.serialized() == #"{"model":"b","x":1,"usage":{"total_tokens":3}}"#)
    }

    @Test func buildsFromLiterals() {
        let j: JSON = ["s": "x", "n": 3, "f": 0.5, "b": false, "z": nil, "a": [1, 2]]
        #expect(j.serialized() == #"{"s":"x","n":3,"f":0.5,"b":false,"z":null,"a":[1,2]}"#)
        #expect(JSON.string("").serialized() == #""""#)
        #expect(JSON.string("a\u{0}b").string == "a\u{0}b")
        #expect(JSON.double(.nan).isNull)
    }
}

@Suite struct JSONWriterTests {
    /// Reals print in their shortest exact form, not jansson's 17 digits.
    @Test(arguments: [
        (#"{"temperature":0.2}"#, #"{"temperature":0.2}"#),
        (#"{"top_p":0.95,"x":1.0,"big":1e300,"tiny":5e-324}"#, #"{"top_p":0.95,"x":1.0,"big":1e+300,"tiny":5e-324}"#),
        ("[0.1,-2.5,100.0]", "[0.1,-2.5,100.0]"),
    ])
    func realsKeepTheirShortestForm(input: String, expected: String) throws {
        #expect(try JSON.parse(input).serialized() == expected)
    }

    @Test func everyRealReadsBackAsTheSameDouble() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let d = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            guard d.isFinite else { continue }
            let text = JSON.array([.double(d)]).serialized()
            #expect(try JSON.parse(text)[0]?.double == d, "\(text)")
        }
    }

    @Test func stringsAreEscapedAsJSONRequires() throws {
        let s = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é 🙂 /"
        let text = JSON.string(s).serialized()
        #expect(text == #""quote \" backslash \\ newline \n tab \t nul \u0000 bell \u0007 é 🙂 /""#)
        #expect(try JSON.parse(text).string == s)
    }

    @Test func writesWhatJanssonReadsBack() throws {
        let text = #"{"model":"m","messages":[{"role":"user","content":"hi"}],"n":1,"stream":false,"stop":null,"x":{"a":[true,{}],"b":[]},"big":9223372036854775807}"#
        #expect(try JSON.parse(text).serialized() == text)
    }
}
