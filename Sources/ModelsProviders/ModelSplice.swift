// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore

/// Names a model in the text of a JSON object without parsing it: the value
/// of the object's top-level `"model"` member is replaced by the name (a JSON
/// string), or, when it has no such member, one is put right after the opening
/// brace. Every other byte is kept. Answers (`ChatAnswer`) and stream chunks
/// (`ChunkInspector`) are renamed so, to the full routed name.
///
/// The caller finds the member with `JSONScanner` and must not splice a text
/// whose top-level keys are spelled with escapes or repeat `"model"`: the
/// scanner would not see every `"model"` member, and one left behind could be
/// the one a parser keeps. Such rare texts are parsed and rewritten instead.
struct ModelSplice: Sendable {
    /// The name as JSON text: quoted, with `"`, `\` and control characters escaped.
    let value: [UInt8]

    init(name: String) {
        var value: [UInt8] = []
        value.reserveCapacity(name.utf8.count + 8)
        var name = name
        name.withUTF8 { JSONWriter.writeString(UnsafeRawBufferPointer($0), into: &value) }
        self.value = value
    }

    /// Whether `object[range]` is already this name, byte for byte: the text
    /// can then go on as it is.
    func isSet(in object: UnsafeRawBufferPointer, at range: Range<Int>?) -> Bool {
        guard let range, range.count == value.count else { return false }
        return value.withUnsafeBytes { value in
            guard let a = object.baseAddress, let b = value.baseAddress else { return value.isEmpty }
            return memcmp(a + range.lowerBound, b, value.count) == 0
        }
    }

    /// The renamed text, in pieces handed to `body` in order. `object` is the
    /// text of one JSON object, `range` the bytes of its top-level `"model"`
    /// value (nil when it has none).
    func forEachPiece(of object: UnsafeRawBufferPointer, model range: Range<Int>?, _ body: (UnsafeRawBufferPointer) -> Void) {
        value.withUnsafeBytes { value in
            if let range {
                body(UnsafeRawBufferPointer(rebasing: object[..<range.lowerBound]))
                body(value)
                body(UnsafeRawBufferPointer(rebasing: object[range.upperBound...]))
                return
            }
            guard let brace = object.firstIndex(of: UInt8(ascii: "{")) else { return body(object) }
            let isEmpty = object[(brace + 1)...].first(where: { !Self.isSpace($0) }) == UInt8(ascii: "}")
            body(UnsafeRawBufferPointer(rebasing: object[...brace]))
            Self.key.withUnsafeBytes { body($0) }
            body(value)
            if !isEmpty { Self.comma.withUnsafeBytes { body($0) } }
            body(UnsafeRawBufferPointer(rebasing: object[(brace + 1)...]))
        }
    }

    /// The most bytes the renamed text of `object` takes.
    func maxCount(of object: UnsafeRawBufferPointer) -> Int {
        object.count + value.count + Self.key.count + Self.comma.count
    }

    /// Writes the renamed text to `out`, which has room for `maxCount(of:)`
    /// bytes, and returns its length.
    func write(_ object: UnsafeRawBufferPointer, model range: Range<Int>?, to out: UnsafeMutableRawPointer) -> Int {
        var at = 0
        forEachPiece(of: object, model: range) { piece in
            if let base = piece.baseAddress { (out + at).copyMemory(from: base, byteCount: piece.count) }
            at += piece.count
        }
        return at
    }

    private static let key: [UInt8] = Array(#""model":"#.utf8)
    private static let comma: [UInt8] = [UInt8(ascii: ",")]

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d }
}
