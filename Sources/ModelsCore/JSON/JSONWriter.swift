// SPDX-License-Identifier: Apache-2.0
import CModelsSupport

/// Writes a jansson tree as compact JSON text.
///
/// Why not `json_dumps`: jansson prints reals with 17 significant digits, so a
/// caller's `"temperature": 0.2` would reach the provider as
/// `0.20000000000000001`. This writer prints each real in the shortest form
/// that reads back as the same double (Swift's `description`: `0.2`, `1e-05`),
/// and everything else as jansson does: members in order, UTF-8 left as is,
/// only `"`, `\` and control characters escaped.
package enum JSONWriter {
    /// An open container: where the walk is inside it.
    private enum Frame {
        case object(UnsafeMutablePointer<json_t>, iterator: UnsafeMutableRawPointer?)
        case array(UnsafeMutablePointer<json_t>, next: Int, count: Int)
    }

    /// Iterative, with its own stack of open containers on the heap: a tree of any
    /// depth is written without recursion (the thread's stack may be 64 KiB).
    package static func write(_ root: UnsafeMutablePointer<json_t>, into out: inout [UInt8]) {
        var stack: [Frame] = []
        var pending: UnsafeMutablePointer<json_t>? = root
        while true {
            if let value = pending {
                pending = nil
                switch json_type(rawValue: UInt32(cms_json_type(value))) {
                case JSON_OBJECT:
                    out.append(UInt8(ascii: "{"))
                    stack.append(.object(value, iterator: json_object_iter(value)))
                case JSON_ARRAY:
                    out.append(UInt8(ascii: "["))
                    stack.append(.array(value, next: 0, count: json_array_size(value)))
                default:
                    writeScalar(value, into: &out)
                }
            }
            guard let top = stack.popLast() else { return }
            switch top {
            case .object(let object, let iterator):
                guard let i = iterator else {
                    out.append(UInt8(ascii: "}"))
                    continue
                }
                if i != json_object_iter(object) { out.append(UInt8(ascii: ",")) }
                writeString(UnsafeRawBufferPointer(start: json_object_iter_key(i), count: json_object_iter_key_len(i)), into: &out)
                out.append(UInt8(ascii: ":"))
                stack.append(.object(object, iterator: json_object_iter_next(object, i)))
                pending = json_object_iter_value(i)
            case .array(let array, let next, let count):
                guard next < count else {
                    out.append(UInt8(ascii: "]"))
                    continue
                }
                if next > 0 { out.append(UInt8(ascii: ",")) }
                stack.append(.array(array, next: next + 1, count: count))
                pending = json_array_get(array, next)
            }
        }
    }

    private static func writeScalar(_ value: UnsafeMutablePointer<json_t>, into out: inout [UInt8]) {
        switch json_type(rawValue: UInt32(cms_json_type(value))) {
        case JSON_STRING:
            writeString(UnsafeRawBufferPointer(start: json_string_value(value), count: json_string_length(value)), into: &out)
        case JSON_INTEGER:
            out.append(contentsOf: String(json_integer_value(value)).utf8)
        case JSON_REAL:
            out.append(contentsOf: json_real_value(value).description.utf8)
        case JSON_TRUE:
            out.append(contentsOf: "true".utf8)
        case JSON_FALSE:
            out.append(contentsOf: "false".utf8)
        default:
            out.append(contentsOf: "null".utf8)
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    package static func writeString(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for (i, b) in bytes.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<i]))
            runStart = i + 1
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0a: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0d: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0c: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            default:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(b >> 4)], hex[Int(b & 0xf)]])
            }
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
        out.append(UInt8(ascii: "\""))
    }
}
