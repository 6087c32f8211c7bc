// SPDX-License-Identifier: Apache-2.0
/// A provider's `base_url`, which may carry a query (a gateway's
/// `https://gw.example/v1?key=...`): a request's path goes before the query,
/// and the query goes with every request as written (its percent-encoding
/// untouched). Pure.
package enum BaseURL {
    /// `base` with `path` ("/chat/completions") added to its path.
    package static func appending(_ path: String, to base: String) -> String {
        guard let q = base.utf8.firstIndex(of: UInt8(ascii: "?")) else { return base + path }
        return trimmedPath(base[..<q]) + path + base[q...]
    }

    /// `url` without the `/` that ends its path (`https://x/v1/?k=v` → `https://x/v1?k=v`).
    package static func trimmed(_ url: String) -> String {
        guard let q = url.utf8.firstIndex(of: UInt8(ascii: "?")) else { return trimmedPath(Substring(url)) }
        return trimmedPath(url[..<q]) + url[q...]
    }

    private static func trimmedPath(_ path: Substring) -> String {
        var p = path
        while p.hasSuffix("/"), !p.hasSuffix("://") { p = p.dropLast() }
        return String(p)
    }

    /// The values of `url`'s query parameters, as written and percent-decoded:
    /// they may be keys, so messages never show them.
    package static func queryValues(_ url: String) -> [String] {
        guard let q = url.utf8.firstIndex(of: UInt8(ascii: "?")) else { return [] }
        var values: [String] = []
        for pair in url[url.index(after: q)...].split(separator: "&") {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            let value = String(pair[pair.index(after: eq)...])
            guard !value.isEmpty else { continue }
            values.append(value)
            if let decoded = percentDecoded(value), decoded != value { values.append(decoded) }
        }
        return values
    }

    /// `text` with `%XX` and `+` decoded, or nil when that is not UTF-8.
    static func percentDecoded(_ text: String) -> String? {
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        while let b = bytes.next() {
            if b == UInt8(ascii: "%") {
                guard let h = bytes.next().flatMap(hex), let l = bytes.next().flatMap(hex) else { return nil }
                out.append(h << 4 | l)
            } else {
                out.append(b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
