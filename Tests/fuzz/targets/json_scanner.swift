// SPDX-License-Identifier: Apache-2.0
// JSONScanner against jansson: both accept or both reject every input (bar the
// one documented difference, a NUL byte jansson drops after a number or a
// literal), agree on the top-level kind, and every member range the scanner
// reports holds exactly the value jansson finds for that key.
import CModelsSupport
@testable import Models
@testable import ModelsCore

private let scanner = JSONScanner(keys: "error", "usage", "choices", "a")

private func janssonLoad(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutablePointer<json_t>? {
    let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(bitPattern: 1)
    return json_loadb(base, bytes.count, Int(JSON_DECODE_ANY), nil)
}

/// jansson 2.14 drops one NUL byte read just after a number or a literal (see
/// JSONScanner's doc comment): true when that explains a disagreement.
private func isJanssonSwallowedNUL(_ bytes: UnsafeRawBufferPointer) -> Bool {
    let b = Array(bytes)
    let trailsTokenEnd = b.indices.contains { i in
        b[i] == 0 && i > 0 && ((b[i - 1] >= 0x30 && b[i - 1] <= 0x39) || b[i - 1] == 0x65 || b[i - 1] == 0x6C)
    }
    return trailsTokenEnd && b.filter { $0 != 0 }.withUnsafeBytes { scanner.scan($0).isValid }
}

private func kind(of root: UnsafeMutablePointer<json_t>) -> JSONScanner.Kind {
    switch cms_json_type(root) {
    case Int32(JSON_OBJECT.rawValue): return .object
    case Int32(JSON_ARRAY.rawValue): return .array
    case Int32(JSON_STRING.rawValue): return .string
    case Int32(JSON_INTEGER.rawValue), Int32(JSON_REAL.rawValue): return .number
    case Int32(JSON_TRUE.rawValue), Int32(JSON_FALSE.rawValue): return .boolean
    default: return .null
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONScanner(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    withInput(data, size) { bytes in
        let result = scanner.scan(bytes)
        invariant(result.offset >= 0 && result.offset <= bytes.count, "offset \(result.offset) outside 0...\(bytes.count)")
        guard let root = janssonLoad(bytes) else {
            invariant(!result.isValid, "the scanner accepts what jansson rejects: \(Array(bytes))")
            return 0
        }
        defer { cms_json_decref(root) }
        guard let scanned = result.kind else {
            invariant(isJanssonSwallowedNUL(bytes), "the scanner rejects (at \(result.offset)) what jansson accepts: \(Array(bytes))")
            return 0
        }
        invariant(scanned == kind(of: root), "kind \(scanned) but jansson has \(kind(of: root))")
        invariant(result.offset == bytes.count, "a valid text ends at \(result.offset), not \(bytes.count)")
        for (index, key) in ["error", "usage", "choices", "a"].enumerated() {
            let member = scanned == .object ? json_object_get(root, key) : nil
            guard let range = result.range(of: index) else {
                invariant(member == nil || result.topLevelKeyHasEscape, "no range for \"\(key)\", which jansson has")
                continue
            }
            invariant(range.lowerBound >= 0 && range.upperBound <= bytes.count && !range.isEmpty, "range \(range) out of bounds")
            guard let member else {
                invariant(false, "a range for \"\(key)\", which jansson does not have")
                return 0
            }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
            guard let value = janssonLoad(slice) else {
                invariant(false, "the range of \"\(key)\" is not one JSON value: \(Array(slice))")
                return 0
            }
            defer { cms_json_decref(value) }
            invariant(result.topLevelKeyHasEscape || json_equal(value, member) == 1, "the range of \"\(key)\" holds another value than jansson's")
            if let whole = result.memberRange(of: index) {
                invariant(whole.upperBound == range.upperBound && whole.lowerBound < range.lowerBound
                          && bytes[whole.lowerBound] == 0x22, "member range \(whole) does not start at the key's quote")
            }
        }
        return 0
    }
}
