// SPDX-License-Identifier: Apache-2.0
import Glibc

/// Strings handed to C: allocated with malloc so that `models_free` (free) releases them.
enum CStrings {
    /// A malloc'd NUL-terminated copy; nil only when out of memory.
    static func copy(_ s: String) -> UnsafeMutablePointer<CChar>? {
        var s = s
        return s.withUTF8 { buf in
            guard let p = malloc(buf.count + 1)?.assumingMemoryBound(to: CChar.self) else { return nil }
            if let base = buf.baseAddress { memcpy(p, base, buf.count) }
            p[buf.count] = 0
            return p
        }
    }

    /// A string that lives as long as the process (version, code names, known URLs).
    static func immortal(_ s: String) -> UnsafePointer<CChar> {
        UnsafePointer(copy(s)!)
    }

    /// The bytes of a caller's NUL-terminated string, checked against a size limit
    /// without reading past `limit + 1` bytes.
    static func bytes(_ p: UnsafePointer<CChar>, limit: Int) -> UnsafeRawBufferPointer? {
        let n = strnlen(p, limit + 1)
        guard n <= limit else { return nil }
        return UnsafeRawBufferPointer(start: p, count: n)
    }

    /// A caller's string as a Swift string, or nil when it is not valid UTF-8 or too long.
    static func string(_ p: UnsafePointer<CChar>, limit: Int = 1 << 20) -> String? {
        guard let buf = bytes(p, limit: limit) else { return nil }
        return String(validating: buf.bindMemory(to: UInt8.self), as: UTF8.self)
    }
}
