// SPDX-License-Identifier: Apache-2.0
import CModelsSupport

/// A JSON value backed by jansson, with value semantics.
///
/// Requests pass through the library as the caller wrote them, so the core keeps
/// jansson's tree (member order, integer vs real) instead of converting to Swift
/// collections. Mutation copies the tree first when it is shared (copy on write).
public struct JSON: @unchecked Sendable {
    /// Owns one jansson reference. `@unchecked Sendable`: a tree is never mutated
    /// while shared (copy on write), and jansson's reference counts are atomic.
    final class Box {
        let raw: UnsafeMutablePointer<json_t>
        init(owning raw: UnsafeMutablePointer<json_t>) { self.raw = raw }
        deinit { cms_json_decref(raw) }
    }

    var box: Box

    /// Takes over a new reference (from a jansson constructor or loader).
    package init(owning raw: UnsafeMutablePointer<json_t>) { box = Box(owning: raw) }

    /// Adds a reference to a borrowed value (from a getter).
    package init(borrowing raw: UnsafeMutablePointer<json_t>) { box = Box(owning: cms_json_incref(raw)!) }

    package var raw: UnsafeMutablePointer<json_t> { box.raw }

    public enum Kind: Sendable, Equatable {
        case object, array, string, integer, real, bool, null
    }

    public var kind: Kind {
        switch json_type(rawValue: UInt32(cms_json_type(raw))) {
        case JSON_OBJECT: return .object
        case JSON_ARRAY: return .array
        case JSON_STRING: return .string
        case JSON_INTEGER: return .integer
        case JSON_REAL: return .real
        case JSON_TRUE, JSON_FALSE: return .bool
        default: return .null
        }
    }

    /// The name of the kind as a user reads it in an error message.
    public var kindName: String {
        switch kind {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .integer, .real: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}

// MARK: - Parsing and serialising

public struct JSONParseError: Error, Sendable, Equatable {
    /// What is wrong, never the text: jansson's own message ends with up to 20
    /// characters of the input ("near '...'"), which may be a key in a config, a
    /// token in an answer or anything in a request. Line and column locate it.
    public var message: String
    public var line: Int
    public var column: Int
    public var position: Int

    /// Text nested deeper than `JSON.maxDepth`: where the level too many opens.
    static func tooDeep(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> JSONParseError {
        var line = 1, column = 0
        for c in bytes[..<offset] {
            if c == 0x0A { line += 1; column = 0 } else { column += 1 }
        }
        return JSONParseError(message: "nested deeper than \(JSON.maxDepth) levels", line: line, column: column + 1,
                              position: offset)
    }
}

extension JSONParseError {
    /// jansson's message without its " near '<input>'" (or " near end of file") tail.
    static func withoutQuote(_ text: String) -> String {
        guard let near = text.firstRange(of: " near ") else { return text }
        let tail = text[near.upperBound...]
        let base = String(text[..<near.lowerBound])
        return tail.hasPrefix("end of file") ? base + " at the end of the text" : base
    }
}

extension JSON {
    /// The deepest nesting of arrays and objects the library reads (requests,
    /// configs, answers, chunks, token answers, C providers' results); deeper text
    /// is refused before any parse. jansson's parser, its deep copy and the
    /// library's own walks recurse once per level, and the library must work on a
    /// 64 KiB thread stack; real requests, JSON Schemas of tools included, stay
    /// far below this.
    public static let maxDepth = 256

    /// Parses one JSON text (any value at the top level). Invalid UTF-8, raw NUL
    /// bytes and trailing garbage are errors; an escaped `\u0000` inside a string is
    /// valid JSON and accepted (strings are always read with their length). Text
    /// nested deeper than `maxDepth` is an error, found without recursion.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSON {
        if let offset = JSONScanner.offsetBeyondDepth(bytes, limit: maxDepth) {
            throw JSONParseError.tooDeep(bytes, at: offset)
        }
        var error = json_error_t()
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(bitPattern: 1)
        guard let raw = json_loadb(base, bytes.count, Int(JSON_DECODE_ANY | JSON_ALLOW_NUL), &error) else {
            let message = withUnsafeBytes(of: error.text) { buf in
                JSONParseError.withoutQuote(String(decoding: buf.prefix(while: { $0 != 0 }), as: UTF8.self))
            }
            throw JSONParseError(message: message, line: Int(error.line), column: Int(error.column),
                                 position: Int(error.position))
        }
        return JSON(owning: raw)
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        var text = text
        return try text.withUTF8 { buf in Result { () throws(JSONParseError) in try parse(UnsafeRawBufferPointer(buf)) } }.get()
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSON {
        try bytes.withUnsafeBytes { buf in Result { () throws(JSONParseError) in try parse(buf) } }.get()
    }

    /// Compact JSON text, members in insertion order, reals in their shortest
    /// exact form (see `JSONWriter`).
    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// The same text as UTF-8 bytes, for a request body.
    public func serializedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONWriter.write(raw, into: &out)
        return out
    }
}

extension JSON: CustomStringConvertible {
    public var description: String { serialized() }
}

extension JSON: Equatable {
    /// Structural equality (jansson's `json_equal`): member order does not matter.
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        lhs.raw == rhs.raw || json_equal(lhs.raw, rhs.raw) != 0
    }
}

// MARK: - Reading

extension JSON {
    /// The member `key` of an object; nil when absent or when this is not an object.
    public subscript(key: String) -> JSON? {
        guard kind == .object, let v = json_object_get(raw, key) else { return nil }
        return JSON(borrowing: v)
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        guard kind == .array, index >= 0, let v = json_array_get(raw, index) else { return nil }
        return JSON(borrowing: v)
    }

    public var string: String? {
        guard kind == .string, let p = json_string_value(raw) else { return nil }
        let n = json_string_length(raw)
        return p.withMemoryRebound(to: UInt8.self, capacity: n) {
            String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
        }
    }

    /// An integer, or a real with no fractional part that fits in Int64.
    public var int: Int64? {
        switch kind {
        case .integer: return Int64(json_integer_value(raw))
        case .real:
            let d = json_real_value(raw)
            guard d.rounded() == d, d >= -9.2e18, d <= 9.2e18 else { return nil }
            return Int64(d)
        default: return nil
        }
    }

    public var double: Double? {
        switch kind {
        case .integer: return Double(json_integer_value(raw))
        case .real: return json_real_value(raw)
        default: return nil
        }
    }

    public var bool: Bool? { kind == .bool ? cms_json_type(raw) == Int32(JSON_TRUE.rawValue) : nil }

    public var isNull: Bool { kind == .null }

    /// Elements of an array or members of an object; 0 otherwise.
    public var count: Int {
        switch kind {
        case .array: return json_array_size(raw)
        case .object: return json_object_size(raw)
        default: return 0
        }
    }

    public var array: [JSON]? {
        guard kind == .array else { return nil }
        let n = json_array_size(raw)
        var out: [JSON] = []
        out.reserveCapacity(n)
        for i in 0..<n { out.append(JSON(borrowing: json_array_get(raw, i))) }
        return out
    }

    /// The members of an object in order; nil when this is not an object.
    public var members: [(key: String, value: JSON)]? {
        guard kind == .object else { return nil }
        var out: [(key: String, value: JSON)] = []
        out.reserveCapacity(json_object_size(raw))
        var it = json_object_iter(raw)
        while let i = it {
            let keyPtr = json_object_iter_key(i)!
            let keyLen = json_object_iter_key_len(i)
            let key = keyPtr.withMemoryRebound(to: UInt8.self, capacity: keyLen) {
                String(decoding: UnsafeBufferPointer(start: $0, count: keyLen), as: UTF8.self)
            }
            out.append((key, JSON(borrowing: json_object_iter_value(i))))
            it = json_object_iter_next(raw, i)
        }
        return out
    }

    public var keys: [String] { members?.map(\.key) ?? [] }
}

// MARK: - Building

extension JSON {
    public static var null: JSON { JSON(owning: json_null()) }
    public static func bool(_ b: Bool) -> JSON { JSON(owning: b ? json_true() : json_false()) }
    public static func int(_ i: Int64) -> JSON { JSON(owning: json_integer(json_int_t(i))) }
    public static func int(_ i: Int) -> JSON { JSON(owning: json_integer(json_int_t(i))) }
    public static func double(_ d: Double) -> JSON {
        // jansson refuses NaN and infinities; JSON has no spelling for them.
        guard d.isFinite, let raw = json_real(d) else { return .null }
        return JSON(owning: raw)
    }
    public static func string(_ s: String) -> JSON {
        var s = s
        return s.withUTF8 { buf in
            // Swift strings are valid UTF-8 already, so jansson need not check again.
            let raw = buf.withMemoryRebound(to: CChar.self) { chars in
                chars.count == 0 ? json_string_nocheck("") : json_stringn_nocheck(chars.baseAddress!, chars.count)
            }
            return JSON(owning: raw!)
        }
    }
    public static func array(_ items: [JSON]) -> JSON {
        let raw = json_array()!
        for item in items { json_array_append(raw, item.raw) }
        return JSON(owning: raw)
    }
    public static func object(_ members: [(String, JSON)]) -> JSON {
        let raw = json_object()!
        for (k, v) in members { json_object_set(raw, k, v.raw) }
        return JSON(owning: raw)
    }
    public static var emptyObject: JSON { JSON(owning: json_object()) }

    /// Copies the tree when another value shares it, so mutation never shows through.
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&box) || box.raw.pointee.refcount > 1 {
            box = Box(owning: json_deep_copy(raw))
        }
    }

    /// Sets (or, with nil, removes) a member of an object. No effect on other kinds.
    public mutating func set(_ key: String, _ value: JSON?) {
        guard kind == .object else { return }
        makeUnique()
        if let value { json_object_set(raw, key, value.raw) } else { json_object_del(raw, key) }
    }

    /// Appends to an array. No effect on other kinds.
    public mutating func append(_ value: JSON) {
        guard kind == .array else { return }
        makeUnique()
        json_array_append(raw, value.raw)
    }

    /// Reads, changes and writes back one member in place (its position is kept):
    /// `json.update("usage") { $0.set("total_tokens", 3) }`.
    public mutating func update(_ key: String, default def: JSON = .emptyObject, _ body: (inout JSON) -> Void) {
        var member = self[key] ?? def
        body(&member)
        set(key, member)
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(elements) }
    public init(nilLiteral: ()) { self = .null }
}
