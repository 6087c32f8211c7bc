// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import ModelsCore

/// A caller's embeddings request (the OpenAI shape), checked once as it
/// enters the library: a JSON object whose `input` is a non-empty string, an
/// array of non-empty strings, an array of tokens (integers) or an array of
/// arrays of tokens; `model` a string or null; `encoding_format` "float" or
/// "base64"; `dimensions` a positive integer; `user` a string. Other members
/// reach an OpenAI-compatible provider unchanged.
public struct EmbeddingsRequest: @unchecked Sendable { // holds a jansson tree it never changes (copied before any edit)
    /// The request as a tree.
    public let json: JSON
    /// The model the caller asked for: nil when `model` is absent, null or empty.
    public let model: String?
    /// How many inputs the request holds (1 for a string or one array of tokens).
    public let inputCount: Int

    /// Checks a caller's JSON text (`.invalidArgument` when it is not an embeddings request).
    public init(text: UnsafeRawBufferPointer) throws(ModelsError) {
        let json: JSON
        do { json = try JSON.parse(text) } catch {
            throw .invalidArgument("request is not valid JSON: \(error.message) (line \(error.line), column \(error.column))")
        }
        try self.init(json: json)
    }

    /// Checks a request given as a tree.
    public init(json: JSON) throws(ModelsError) {
        guard json.kind == .object else { throw .invalidArgument("request must be a JSON object, not \(json.kindName)") }
        var model: String?
        if let value = json["model"], !value.isNull {
            guard let name = value.string else { throw .invalidArgument("request \"model\" must be a string, not \(value.kindName)") }
            model = name
        }
        guard let input = json["input"], !input.isNull else { throw .invalidArgument("embeddings request has no \"input\"") }
        inputCount = try Self.checkInput(input)
        if let format = json["encoding_format"], !format.isNull {
            guard let name = format.string else {
                throw .invalidArgument("request \"encoding_format\" must be a string, not \(format.kindName)")
            }
            guard name == "float" || name == "base64" else {
                throw .invalidArgument("request \"encoding_format\" must be \"float\" or \"base64\", not \"\(Self.quoted(name))\"")
            }
        }
        if let dimensions = json["dimensions"], !dimensions.isNull {
            guard dimensions.kind == .integer, let n = dimensions.int, n > 0 else {
                throw .invalidArgument("request \"dimensions\" must be a positive integer")
            }
        }
        if let user = json["user"], !user.isNull, user.kind != .string {
            throw .invalidArgument("request \"user\" must be a string, not \(user.kindName)")
        }
        self.model = model?.isEmpty == false ? model : nil
        self.json = json
    }

    /// The body an OpenAI-compatible provider receives: the request with `model` set to `modelID`.
    public func body(modelID: String) -> [UInt8] {
        // A shallow copy: only the top-level "model" changes.
        var body = json
        if let top = json_copy(json.raw) { body = JSON(owning: top) }
        body.set("model", .string(modelID))
        return body.serializedBytes()
    }

    private enum Form: Equatable {
        case text, token, tokens

        var name: String {
            switch self {
            case .text: return "a string"
            case .token: return "a token (an integer)"
            case .tokens: return "an array of tokens"
            }
        }
    }

    /// Checks `input`; returns the number of inputs.
    private static func checkInput(_ input: JSON) throws(ModelsError) -> Int {
        switch input.kind {
        case .string:
            guard !(input.string ?? "").isEmpty else {
                throw .invalidArgument("request \"input\" must not be an empty string")
            }
            return 1
        case .array:
            let items = input.array ?? []
            guard !items.isEmpty else { throw .invalidArgument("request \"input\" must not be an empty array") }
            var form: Form?
            for (i, item) in items.enumerated() {
                let this: Form
                switch item.kind {
                case .string:
                    guard !(item.string ?? "").isEmpty else {
                        throw .invalidArgument("request \"input[\(i)]\" must not be an empty string")
                    }
                    this = .text
                case .integer:
                    guard (item.int ?? -1) >= 0 else { throw .invalidArgument("request \"input[\(i)]\" must be a token: an integer of 0 or more") }
                    this = .token
                case .array:
                    try checkTokens(item, path: "input[\(i)]")
                    this = .tokens
                default:
                    throw .invalidArgument("request \"input[\(i)]\" must be a string, a token (an integer) or an array of tokens, not \(item.kindName)")
                }
                if let form, form != this {
                    throw .invalidArgument("request \"input[\(i)]\" must be \(form.name) like \"input[0]\", not \(this.name)")
                }
                form = this
            }
            return form == .token ? 1 : items.count
        default:
            throw .invalidArgument("request \"input\" must be a string or an array (of strings, of tokens or of arrays of tokens), not \(input.kindName)")
        }
    }

    private static func checkTokens(_ array: JSON, path: String) throws(ModelsError) {
        let tokens = array.array ?? []
        guard !tokens.isEmpty else { throw .invalidArgument("request \"\(path)\" must not be an empty array") }
        for (j, token) in tokens.enumerated() where token.kind != .integer || (token.int ?? -1) < 0 {
            throw .invalidArgument("request \"\(path)[\(j)]\" must be a token: an integer of 0 or more, not \(token.kindName)")
        }
    }

    /// A caller's string for a message: at most 40 characters, control characters as spaces.
    private static func quoted(_ text: String) -> String {
        var out = ""
        for (i, ch) in text.unicodeScalars.enumerated() {
            if i == 40 { out += "..."; break }
            out.unicodeScalars.append(ch.value < 0x20 || ch == "\"" || ch == "\\" ? " " : ch)
        }
        return out
    }
}
