// SPDX-License-Identifier: Apache-2.0
import Glibc

/// AWS Signature Version 4 for one request, as pure functions: the headers
/// to add (`X-Amz-Date`, `X-Amz-Security-Token`, `Authorization`).
///
/// Why not libcurl's `CURLOPT_AWS_SIGV4`: up to at least libcurl 7.88 (Debian
/// 12's) it signs the path exactly as sent, while AWS services other than S3
/// URI-encode each path segment once more before checking the signature
/// (`v1%3A0` is signed as `v1%253A0`). Nearly every Bedrock model id holds a
/// `:`, so every such request would be refused with 403. Signing here gives
/// the same answer on every libcurl; the loopback test server checks each
/// signature with botocore's signer.
///
/// What is signed: the method, the path (each byte outside `A-Za-z0-9-._~/`
/// percent-encoded, `%` included), the query (pairs sorted, names and values
/// encoded), the `host` (with a port only when it is not the scheme's
/// default, as libcurl sends it), `x-amz-date`, the session token, every
/// header of the request with a value, and the body's SHA-256.
public struct AWSSigV4: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var region: String
    public var service: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String?, region: String, service: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.region = region
        self.service = service
    }

    /// The secrets a message must never show.
    public var secrets: [String] { [secretAccessKey, accessKeyID] + (sessionToken.map { [$0] } ?? []) }

    /// The request with its signature headers added; `now` is Unix seconds.
    public func sign(_ request: HTTPRequest, now: Int64) -> HTTPRequest {
        var signed = request
        let amzDate = Self.amzDate(now)
        signed.headers.removeAll { ["x-amz-date", "x-amz-security-token", "authorization"].contains($0.name.lowercased()) }
        signed.headers.append(("X-Amz-Date", amzDate))
        if let token = sessionToken, !token.isEmpty { signed.headers.append(("X-Amz-Security-Token", token)) }
        let (authorization, _) = authorization(for: signed, amzDate: amzDate)
        signed.headers.append(("Authorization", authorization))
        return signed
    }

    /// The `Authorization` value and the canonical request it signs (for tests).
    func authorization(for request: HTTPRequest, amzDate: String) -> (String, String) {
        let url = Self.split(request.url)
        var headers: [(String, String)] = [("host", url.host)]
        for h in request.headers where !h.value.isEmpty {
            let name = h.name.lowercased()
            if name == "host" || name == "authorization" || name == "expect" || name == "user-agent" { continue }
            headers.append((name, Self.trimmed(h.value)))
        }
        // One line per name, values of repeated names joined by commas, sorted by name.
        var merged: [(String, String)] = []
        for (name, value) in headers {
            if let i = merged.firstIndex(where: { $0.0 == name }) { merged[i].1 += "," + value } else { merged.append((name, value)) }
        }
        merged.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        let signedHeaders = merged.map(\.0).joined(separator: ";")
        let canonical = [
            request.method.rawValue,
            Self.canonicalPath(url.path),
            Self.canonicalQuery(url.query),
            merged.map { "\($0.0):\($0.1)\n" }.joined(),
            signedHeaders,
            SHA256.hex(SHA256.hash(request.body)),
        ].joined(separator: "\n")
        let date = String(amzDate.prefix(8))
        let scope = "\(date)/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(SHA256.hex(SHA256.hash(Array(canonical.utf8))))"
        var key = SHA256.hmac(key: Array("AWS4\(secretAccessKey)".utf8), Array(date.utf8))
        for part in [region, service, "aws4_request"] { key = SHA256.hmac(key: key, Array(part.utf8)) }
        let signature = SHA256.hex(SHA256.hmac(key: key, Array(toSign.utf8)))
        return ("AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)", canonical)
    }

    /// `YYYYMMDDTHHMMSSZ` of Unix time `seconds` (UTC).
    static func amzDate(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// Host (port only when not the scheme's default), path (at least `/`) and query of a URL.
    static func split(_ url: String) -> (host: String, path: String, query: String) {
        var rest = Substring(url)
        var defaultPort = ""
        let scheme = rest.prefix(while: { $0 != ":" && $0 != "/" })
        if rest.dropFirst(scheme.count).hasPrefix("://") {
            defaultPort = scheme.lowercased() == "https" ? ":443" : ":80"
            rest = rest.dropFirst(scheme.count + 3)
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let pathStart = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var host = String(rest[..<pathStart]).lowercased()
        if host.hasSuffix(defaultPort) { host = String(host.dropLast(defaultPort.count)) }
        let target = rest[pathStart...]
        let queryStart = target.firstIndex(of: "?")
        let path = String(target[..<(queryStart ?? target.endIndex)])
        let query = queryStart.map { String(target[target.index(after: $0)...]) } ?? ""
        return (host, path.isEmpty ? "/" : path, query)
    }

    /// The path as sent, encoded once more (`%` too): what AWS does to it before checking.
    static func canonicalPath(_ path: String) -> String { encode(path, keepSlash: true) }

    /// `a=1&b=2`, pairs sorted by encoded name then value, each part decoded then encoded.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = item.firstIndex(of: "=")
            let name = String(item[..<(eq ?? item.endIndex)])
            let value = eq.map { String(item[item.index(after: $0)...]) } ?? ""
            pairs.append((encode(decode(name), keepSlash: false), encode(decode(value), keepSlash: false)))
        }
        pairs.sort { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    package static func encode(_ text: String, keepSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for c in text.utf8 {
            let unreserved = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
                || c == 0x2d || c == 0x2e || c == 0x5f || c == 0x7e || (keepSlash && c == 0x2f)
            if unreserved { out.append(c) } else { out += [UInt8(ascii: "%"), hex[Int(c >> 4)], hex[Int(c & 15)]] }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        func digit(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x37
            case 0x61...0x66: return c - 0x57
            default: return nil
            }
        }
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
               let hi = digit(bytes[i + 1]), let lo = digit(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A header value with its ends trimmed and runs of spaces made one.
    static func trimmed(_ value: String) -> String {
        var out = ""
        var space = false
        for c in value {
            if c == " " || c == "\t" { space = !out.isEmpty; continue }
            if space { out.append(" "); space = false }
            out.append(c)
        }
        return out
    }
}
