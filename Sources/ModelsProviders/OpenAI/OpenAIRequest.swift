// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import ModelsCore

/// The request an OpenAI-compatible provider receives: the caller's JSON as
/// written, with only `model` and `stream` set (and, for streams, a request
/// for usage), so fields the library does not know still reach the provider.
public enum OpenAIRequest {
    public static func body(_ request: ChatRequest, modelID: String, stream: Bool) -> [UInt8] {
        if case .text(let bytes, let members) = request.form {
            // An object already in stream_options gets include_usage added among
            // its members: rare enough to go through the tree.
            let optionsIsObject = members.streamOptions.map { bytes[$0.value.lowerBound] == UInt8(ascii: "{") } ?? false
            if !(stream && optionsIsObject) { return spliced(bytes, members, modelID: modelID, stream: stream) }
        }
        return tree(request.json, modelID: modelID, stream: stream).serializedBytes()
    }

    /// The values the library writes.
    private enum Value { case model, `true`, includeUsage }

    /// The caller's text with members replaced, removed or appended; every
    /// other byte (spacing and number spelling included) as the caller wrote it.
    static func spliced(_ bytes: [UInt8], _ members: ChatRequest.Members, modelID: String, stream: Bool) -> [UInt8] {
        var id = modelID
        func write(_ value: Value, into out: inout [UInt8]) {
            switch value {
            case .model: id.withUTF8 { JSONWriter.writeString(UnsafeRawBufferPointer($0), into: &out) }
            case .true: out.append(contentsOf: "true".utf8)
            case .includeUsage: out.append(contentsOf: #"{"include_usage":true}"#.utf8)
            }
        }
        // Members to replace (a value) or remove (nil); those missing are added at the end.
        var edits: [(member: ChatRequest.Member, value: Value?)] = []
        if let model = members.model { edits.append((model, .model)) }
        if stream {
            if let member = members.stream { edits.append((member, .true)) }
            if let member = members.streamOptions { edits.append((member, .includeUsage)) }
        } else {
            if let member = members.stream { edits.append((member, nil)) }
            if let member = members.streamOptions { edits.append((member, nil)) }
        }

        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + modelID.utf8.count + 64)
        out.append(contentsOf: bytes)
        // Right to left, so the places of the edits still to come do not move.
        if edits.count > 1 { edits.sort { $0.member.member.lowerBound > $1.member.member.lowerBound } }
        for (member, value) in edits {
            if let value {
                var text: [UInt8] = []
                text.reserveCapacity(modelID.utf8.count + 24)
                write(value, into: &text)
                out.replaceSubrange(member.value, with: text)
            } else {
                removeMember(member.member, from: &out)
            }
        }
        let addModel = members.model == nil
        let addStream = stream && members.stream == nil, addOptions = stream && members.streamOptions == nil
        guard addModel || addStream || addOptions else { return out }
        // Before the closing brace; the bytes from it to the end (only spacing
        // follows it) are put back after the new members.
        var close = bytes.count - 1
        while bytes[close] != UInt8(ascii: "}") { close -= 1 }
        let tail = bytes.count - close
        out.removeLast(tail)
        var last = out.count - 1
        while isSpace(out[last]) { last -= 1 }
        var needsComma = out[last] != UInt8(ascii: "{")
        func add(_ key: StaticString, _ value: Value) {
            if needsComma { out.append(UInt8(ascii: ",")) }
            needsComma = true
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            out.append(contentsOf: #"":"#.utf8)
            write(value, into: &out)
        }
        if addModel { add("model", .model) }
        if addStream { add("stream", .true) }
        if addOptions { add("stream_options", .includeUsage) }
        out.append(contentsOf: bytes[close...])
        return out
    }

    /// Removes `"key": value` (at `member`) from an object's text with one of
    /// the commas around it, so the text stays valid JSON.
    private static func removeMember(_ member: Range<Int>, from out: inout [UInt8]) {
        var before = member.lowerBound - 1
        while isSpace(out[before]) { before -= 1 }
        if out[before] == UInt8(ascii: ",") {
            out.removeSubrange(before..<member.upperBound)
            return
        }
        // The first member: the comma after it goes, if there is one.
        var after = member.upperBound
        while isSpace(out[after]) { after += 1 }
        out.removeSubrange(member.lowerBound..<(out[after] == UInt8(ascii: ",") ? after + 1 : member.upperBound))
    }

    @inline(__always) private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// The same edits on a tree, for requests kept as one.
    static func tree(_ request: JSON, modelID: String, stream: Bool) -> JSON {
        // A shallow copy: only top-level members change, and the one nested
        // value touched (stream_options) is copied by `update` as it is shared.
        var body = request
        if request.kind == .object, let top = json_copy(request.raw) { body = JSON(owning: top) }
        body.set("model", .string(modelID))
        if stream {
            body.set("stream", true)
            body.update("stream_options") { options in
                if options.kind == .object { options.set("include_usage", true) } else { options = ["include_usage": true] }
            }
        } else {
            body.set("stream", nil)
            body.set("stream_options", nil)
        }
        return body
    }
}
