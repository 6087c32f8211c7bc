import Testing
@testable import Models

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
