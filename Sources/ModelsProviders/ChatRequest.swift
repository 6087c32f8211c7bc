// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// A caller's chat request (the OpenAI shape), checked once as it enters the
/// library: a JSON object whose `messages` is an array of objects, and whose
/// `model`, when present, is a string or null.
///
/// It is kept as the caller's text, with the places of the top-level members
/// the library reads or rewrites (`messages`, `model`, `stream`,
/// `stream_options`) found by `JSONScanner`; no tree is built. An
/// OpenAI-compatible provider forwards that text with a few splices
/// (`OpenAIRequest`): parsing it with jansson and writing it out again cost
/// more than libcurl's whole exchange on loopback. Providers that translate
/// the request (Anthropic, C providers) ask for `json`.
///
/// Text the scanner does not settle alone (a top-level key spelled with
/// escapes, a repeated `model`, `stream` or `stream_options`, an escaped NUL,
/// which only jansson accepts) is parsed at once and kept as a tree. Either
/// way the request is accepted or refused alike, with the same messages.
public struct ChatRequest: @unchecked Sendable {
    enum Form {
        /// Checked JSON text of an object, and where its members are.
        case text([UInt8], Members)
        case tree(JSON)
    }

    /// Byte ranges in the text: a whole member (`"key": value`) and its value.
    struct Member {
        var member: Range<Int>
        var value: Range<Int>
    }

    struct Members {
        var model: Member?
        var stream: Member?
        var streamOptions: Member?
    }

    let form: Form
    /// The model the caller asked for: nil when `model` is absent, null or empty.
    public let model: String?

    /// Checks a caller's JSON text (`.invalidArgument` when it is not a request).
    public init(text: UnsafeRawBufferPointer) throws(ModelsError) {
        let scan = Self.scanner.scan(text)
        guard let kind = scan.kind, !scan.topLevelKeyHasEscape, !scan.hasDuplicateKey else {
            // Invalid to the scanner, or beyond what it settles alone: jansson decides.
            let json: JSON
            do { json = try JSON.parse(text) } catch {
                throw .invalidArgument("request is not valid JSON: \(error.message) (line \(error.line), column \(error.column))")
            }
            self = try ChatRequest(json: json)
            return
        }
        guard scan.depth <= JSON.maxDepth else {
            throw .invalidArgument("request is nested deeper than \(JSON.maxDepth) levels")
        }
        guard kind == .object else { throw .invalidArgument("request must be a JSON object, not \(Self.kindName(kind))") }
        guard let messages = scan.range(of: 0) else { throw .invalidArgument("request has no \"messages\"") }
        let bytes = text.bindMemory(to: UInt8.self)
        guard bytes[messages.lowerBound] == UInt8(ascii: "[") else {
            throw .invalidArgument("request \"messages\" must be an array, not \(Self.kindName(of: bytes[messages.lowerBound]))")
        }
        if let (index, first) = Self.firstElementNotAnObject(bytes, array: messages) {
            throw .invalidArgument("request \"messages[\(index)]\" must be an object, not \(Self.kindName(of: first))")
        }
        func member(_ index: Int) -> Member? {
            guard let member = scan.memberRange(of: index), let value = scan.range(of: index) else { return nil }
            return Member(member: member, value: value)
        }
        let members = Members(model: member(1), stream: member(2), streamOptions: member(3))
        var model: String?
        if let value = members.model?.value {
            switch bytes[value.lowerBound] {
            case UInt8(ascii: "\""):
                let inner = UnsafeBufferPointer(rebasing: bytes[(value.lowerBound + 1)..<(value.upperBound - 1)])
                if inner.contains(UInt8(ascii: "\\")) {
                    model = (try? JSON.parse(UnsafeRawBufferPointer(rebasing: text[value])))?.string
                } else {
                    model = String(decoding: inner, as: UTF8.self)
                }
            case UInt8(ascii: "n"):
                model = nil
            case let first:
                throw .invalidArgument("request \"model\" must be a string, not \(Self.kindName(of: first))")
            }
        }
        self.model = model?.isEmpty == false ? model : nil
        form = .text(Array(bytes), members)
    }

    /// Checks a request given as a tree.
    public init(json: JSON) throws(ModelsError) {
        guard json.kind == .object else { throw .invalidArgument("request must be a JSON object, not \(json.kindName)") }
        guard let messages = json["messages"] else { throw .invalidArgument("request has no \"messages\"") }
        guard let list = messages.array else { throw .invalidArgument("request \"messages\" must be an array, not \(messages.kindName)") }
        for (i, m) in list.enumerated() where m.kind != .object {
            throw .invalidArgument("request \"messages[\(i)]\" must be an object, not \(m.kindName)")
        }
        var model: String?
        if let value = json["model"], !value.isNull {
            guard let name = value.string else { throw .invalidArgument("request \"model\" must be a string, not \(value.kindName)") }
            model = name
        }
        self.model = model?.isEmpty == false ? model : nil
        form = .tree(json)
    }

    /// The request as a tree (parsed on demand from text).
    public var json: JSON {
        switch form {
        case .tree(let json): return json
        // Checked text: it parses.
        case .text(let bytes, _): return (try? JSON.parse(bytes)) ?? .emptyObject
        }
    }

    private static let scanner = JSONScanner(keys: "messages", "model", "stream", "stream_options")

    /// The index and first byte of the first element of a valid JSON array
    /// (its text at `array`) that is not an object; nil when all are objects.
    static func firstElementNotAnObject(_ bytes: UnsafeBufferPointer<UInt8>, array: Range<Int>) -> (Int, UInt8)? {
        var i = array.lowerBound + 1
        var index = 0
        @inline(__always) func skipSpace() {
            while bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }
        skipSpace()
        if bytes[i] == UInt8(ascii: "]") { return nil }
        while true {
            guard bytes[i] == UInt8(ascii: "{") else { return (index, bytes[i]) }
            // Skip the object: the text is valid, so brackets balance outside strings.
            var depth = 0
            repeat {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    i += 1
                    while bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
                i += 1
            } while depth > 0
            skipSpace()
            if bytes[i] == UInt8(ascii: "]") { return nil }
            i += 1 // the comma
            skipSpace()
            index += 1
        }
    }

    private static func kindName(_ kind: JSONScanner.Kind) -> String {
        switch kind {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .boolean: return "a boolean"
        case .null: return "null"
        }
    }

    /// The kind of the valid JSON value starting with `first`, named as `JSON.kindName` names it.
    private static func kindName(of first: UInt8) -> String {
        switch first {
        case UInt8(ascii: "{"): return kindName(.object)
        case UInt8(ascii: "["): return kindName(.array)
        case UInt8(ascii: "\""): return kindName(.string)
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return kindName(.boolean)
        case UInt8(ascii: "n"): return kindName(.null)
        default: return kindName(.number)
        }
    }
}
