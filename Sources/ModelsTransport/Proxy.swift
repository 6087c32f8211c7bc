// SPDX-License-Identifier: Apache-2.0
import Glibc

/// The proxy for a URL from the environment, as curl and most tools read it:
/// `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for http
/// URLs, and `no_proxy`/`NO_PROXY` for exceptions. Loopback hosts never go
/// through a proxy (a local model server or test server must stay local).
/// The environment is read for every request, so a change applies at once.
package enum Proxy {
    package struct Setting: Equatable {
        var url: String
        var noProxy: String?
    }

    package static func forURL(_ url: String) -> Setting? {
        var url = url
        let (https, loopback) = url.withUTF8 { (hasPrefixIgnoringCase($0, "https://"), isLoopback($0)) }
        if loopback { return nil }
        let names = https ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"]
        guard let proxy = names.lazy.compactMap(env).first(where: { !$0.isEmpty }) else { return nil }
        return Setting(url: proxy, noProxy: env("no_proxy") ?? env("NO_PROXY"))
    }

    /// Whether a URL's host is `localhost`, `127.x.x.x` or `[::1]`; bytes, not
    /// Strings, as this runs for every request.
    static func isLoopback(_ url: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        if let colon = url.firstIndex(of: UInt8(ascii: ":")), colon + 2 < url.count,
           url[colon + 1] == UInt8(ascii: "/"), url[colon + 2] == UInt8(ascii: "/") {
            start = colon + 3
        }
        var end = start
        while end < url.count, url[end] != UInt8(ascii: "/"), url[end] != UInt8(ascii: "?"), url[end] != UInt8(ascii: "#") { end += 1 }
        for i in start..<end where url[i] == UInt8(ascii: "@") { start = i + 1 } // credentials
        var hostEnd = start
        if start < end, url[start] == UInt8(ascii: "[") {
            while hostEnd < end, url[hostEnd] != UInt8(ascii: "]") { hostEnd += 1 }
            hostEnd = min(hostEnd + 1, end)
        } else {
            while hostEnd < end, url[hostEnd] != UInt8(ascii: ":") { hostEnd += 1 }
        }
        let host = UnsafeBufferPointer(rebasing: url[start..<hostEnd])
        return (host.count == 9 && hasPrefixIgnoringCase(host, "localhost")) || hasPrefixIgnoringCase(host, "127.")
            || (host.count == 5 && hasPrefixIgnoringCase(host, "[::1]"))
    }

    private static func hasPrefixIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
        for i in 0..<prefix.utf8CodeUnitCount {
            var b = bytes[i]
            if b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { b += 32 }
            if b != prefix.utf8Start[i] { return false }
        }
        return true
    }

    private static func env(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }
}
