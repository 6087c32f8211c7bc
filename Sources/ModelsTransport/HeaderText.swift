// SPDX-License-Identifier: Apache-2.0

/// What may go into an HTTP header line. A CR or LF in a name or value would end
/// the line (or the whole header block) early and let the rest reach the server
/// as headers or as a second request; other control characters are refused too.
public enum HeaderText {
    /// A header name: RFC 9110 token characters only (no space, colon or control).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(isTokenByte)
    }

    /// A header value: no control character but horizontal tab.
    public static func isValidValue(_ value: String) -> Bool {
        !value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7f })
    }

    /// A key or token sent in a header as is: no control character at all and no
    /// space or tab at either end (a key read from a file keeps its newline).
    public static func isValidCredential(_ value: String) -> Bool {
        let bytes = value.utf8
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { return false }
        guard let first = bytes.first, let last = bytes.last else { return true }
        return first != 0x20 && last != 0x20
    }

    /// What a message says of a credential that fails `isValidCredential`.
    public static let credentialProblem =
        "has a space at either end or a control character (a trailing newline?); keys and tokens are sent as they are"

    /// A name as a message may show it: anything outside visible ASCII as `\xNN`.
    public static func printableName(_ name: String) -> String {
        var out = ""
        for b in name.utf8.prefix(100) {
            if b > 0x20 && b < 0x7f { out.unicodeScalars.append(Unicode.Scalar(b)) } else {
                let hex = String(b, radix: 16, uppercase: true)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    private static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }
}
