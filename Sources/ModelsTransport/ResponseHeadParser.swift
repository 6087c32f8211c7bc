// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import Glibc

/// Reads the header lines libcurl hands over, one at a time, into an
/// `HTTPResponseHead`: the status, Content-Type, Retry-After and AWS's
/// x-amzn-ErrorType; every other
/// line is passed over at its first byte. Bounded by `maxHeaderBytes`. Shared
/// by the blocking transfer and the engine.
package struct ResponseHeadParser {
    package enum Outcome { case more, complete, tooLarge }

    package static let maxHeaderBytes = 256 << 10

    package private(set) var head = HTTPResponseHead()
    package private(set) var isComplete = false
    private var headerBytes = 0

    package init() {}

    /// One header line (with its CR LF); `easy` gives the status of a status line.
    @inline(__always)
    package mutating func take(_ line: UnsafeRawBufferPointer, easy: UnsafeMutableRawPointer) -> Outcome {
        headerBytes += line.count
        guard headerBytes <= Self.maxHeaderBytes else { return .tooLarge }
        // Bytes, not String: this runs for every header line of every response,
        // and only two headers are read (a String per line cost more than the request).
        guard let first = line.first else { return .more }
        let lower = first | 0x20
        // Only Content-Type, Retry-After, x-amzn-ErrorType and X-Amzn-Bedrock-Input-Token-Count are read: other lines are passed over at their first byte.
        if lower != UInt8(ascii: "c") && lower != UInt8(ascii: "r") && lower != UInt8(ascii: "x") && first != UInt8(ascii: "H") && first != UInt8(ascii: "\r")
            && first != UInt8(ascii: "\n") { return .more }
        if Self.startsWith(line, "HTTP/") {
            // A new response (after 100 Continue, or the final one): start over.
            head = HTTPResponseHead()
            isComplete = false
            var status: Int = 0
            _ = cms_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            head.status = status
            return .more
        }
        if Self.equalBytes(line, "\r\n") || Self.equalBytes(line, "\n") {
            if head.status >= 200 {
                isComplete = true
                return .complete
            }
            return .more
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return .more }
        let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
        let isContentType = Self.equalIgnoringASCIICase(name, "content-type")
        let isAWSErrorType = !isContentType && Self.equalIgnoringASCIICase(name, "x-amzn-errortype")
        let isInputTokens = !isContentType && !isAWSErrorType && Self.equalIgnoringASCIICase(name, "x-amzn-bedrock-input-token-count")
        guard isContentType || isAWSErrorType || isInputTokens || Self.equalIgnoringASCIICase(name, "retry-after") else { return .more }
        var start = colon + 1, end = line.count
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        while end > start, line[end - 1] == 0x20 || line[end - 1] == 0x09 || line[end - 1] == 0x0D || line[end - 1] == 0x0A { end -= 1 }
        let value = String(decoding: line[start..<end], as: UTF8.self)
        if isContentType {
            head.contentType = value
        } else if isAWSErrorType {
            head.awsErrorType = String(value.prefix(200))
        } else if isInputTokens {
            head.bedrockInputTokens = String(value.prefix(20))
        } else {
            head.retryAfter = value
        }
        return .more
    }

    private static func startsWith(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        bytes.count >= prefix.utf8CodeUnitCount
            && memcmp(bytes.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
    }

    private static func equalBytes(_ bytes: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        bytes.count == s.utf8CodeUnitCount && startsWith(bytes, s)
    }

    /// `bytes` equals `lower` (an ASCII lower-case name) but for ASCII case.
    private static func equalIgnoringASCIICase(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        for i in 0..<bytes.count {
            var b = bytes[i]
            if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { b += 32 }
            if b != lower.utf8Start[i] { return false }
        }
        return true
    }
}
