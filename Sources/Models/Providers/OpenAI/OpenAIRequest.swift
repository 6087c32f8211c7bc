import CModelsSupport

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

    /// The caller's text with members replaced, removed or appended; every
    /// other byte (spacing and number spelling included) as the caller wrote it.
    static func spliced(_ bytes: [UInt8], _ members: ChatRequest.Members, modelID: String, stream: Bool) -> [UInt8] {
        var modelValue: [UInt8] = []
        var id = modelID
        id.withUTF8 { JSONWriter.writeString(UnsafeRawBufferPointer($0), into: &modelValue) }
        let streamValue = Array("true".utf8), optionsValue = Array(#"{"include_usage":true}"#.utf8)

        // nil: remove the member.
        var edits: [(ChatRequest.Member, [UInt8]?)] = []
        var appended: [UInt8] = []
        func append(_ key: StaticString, _ value: [UInt8]) {
            if !appended.isEmpty { appended.append(UInt8(ascii: ",")) }
            appended.append(UInt8(ascii: "\""))
            appended.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            appended.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
            appended.append(contentsOf: value)
        }
        if let model = members.model { edits.append((model, modelValue)) } else { append("model", modelValue) }
        if stream {
            if let member = members.stream { edits.append((member, streamValue)) } else { append("stream", streamValue) }
            if let member = members.streamOptions { edits.append((member, optionsValue)) } else { append("stream_options", optionsValue) }
        } else {
            if let member = members.stream { edits.append((member, nil)) }
            if let member = members.streamOptions { edits.append((member, nil)) }
        }

        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + appended.count + 2)
        out.append(contentsOf: bytes)
        // Right to left, so the places of the edits still to come do not move.
        for (member, value) in edits.sorted(by: { $0.0.member.lowerBound > $1.0.member.lowerBound }) {
            if let value { out.replaceSubrange(member.value, with: value) } else { removeMember(member.member, from: &out) }
        }
        if !appended.isEmpty {
            var close = out.count - 1
            while out[close] != UInt8(ascii: "}") { close -= 1 }
            var before = close - 1
            while isSpace(out[before]) { before -= 1 }
            if out[before] != UInt8(ascii: "{") { appended.insert(UInt8(ascii: ","), at: 0) }
            out.insert(contentsOf: appended, at: close)
        }
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
