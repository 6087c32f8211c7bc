/// A complete chat answer (`chat.completion`) on its way to the caller.
///
/// A translated answer (Anthropic, a C provider) is JSON the library built. An
/// OpenAI-compatible provider's answer is kept as the bytes it sent, already
/// checked by `JSONScanner`, with the place of its top-level `"model"` value:
/// naming the answering model is then a splice, not a parse and a
/// re-serialisation of the whole answer (which cost more than the rest of the
/// request on loopback).
public struct ChatAnswer: @unchecked Sendable {
    enum Storage {
        case json(JSON)
        /// Valid JSON text of an object, and the range of its `"model"` value if it has one.
        case bytes([UInt8], model: Range<Int>?)
    }

    var storage: Storage

    public init(json: JSON) { storage = .json(json) }

    /// `bytes` must be one JSON object, checked by `JSONScanner`; `model` is the
    /// range of its top-level `"model"` value (nil when it has none).
    init(checkedBytes bytes: [UInt8], model: Range<Int>?) { storage = .bytes(bytes, model: model) }

    /// Sets the top-level `"model"` member, keeping every other byte.
    public mutating func setModel(_ name: String) {
        switch storage {
        case .json(var json):
            json.set("model", .string(name))
            storage = .json(json)
        case .bytes(let bytes, let range):
            var value: [UInt8] = []
            var name = name
            name.withUTF8 { JSONWriter.writeString(UnsafeRawBufferPointer($0), into: &value) }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + value.count + 10)
            if let range {
                out.append(contentsOf: bytes[..<range.lowerBound])
                out.append(contentsOf: value)
                out.append(contentsOf: bytes[range.upperBound...])
            } else {
                // No "model" member: insert one right after the opening brace.
                guard let brace = bytes.firstIndex(of: UInt8(ascii: "{")) else { return }
                let isEmpty = bytes[(brace + 1)...].first(where: { !Self.isSpace($0) }) == UInt8(ascii: "}")
                out.append(contentsOf: bytes[...brace])
                out.append(contentsOf: Array(#""model":"#.utf8))
                out.append(contentsOf: value)
                if !isEmpty { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: bytes[(brace + 1)...])
            }
            storage = .bytes(out, model: nil)
        }
    }

    /// The answer as JSON text.
    public func serializedBytes() -> [UInt8] {
        switch storage {
        case .json(let json): return json.serializedBytes()
        case .bytes(let bytes, _): return bytes
        }
    }

    /// The answer as a JSON value (parsed on demand for bytes).
    public var json: JSON {
        switch storage {
        case .json(let json): return json
        case .bytes(let bytes, _): return (try? JSON.parse(bytes)) ?? .null
        }
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d }
}
