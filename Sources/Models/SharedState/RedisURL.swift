// SPDX-License-Identifier: Apache-2.0

/// Where the shared state lives: `redis://[[user]:password@]host[:port][/db]`
/// or `unix://[[user]:password@]/path/to/redis.sock[?db=N]`. A plain value;
/// `redacted` is the only form that may reach a log line or an error message.
public struct RedisURL: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var endpoint: Endpoint
    public var username: String?
    public var password: String?
    public var db = 0

    /// Why a URL was refused, without any part of it (it may hold a password).
    public struct Problem: Error, Equatable {
        public let text: String
        init(_ text: String) { self.text = text }
    }

    static let usage = "(expected redis://[:password@]host[:port][/db] or unix:///path/to/redis.sock)"

    /// nil when `text` is a valid URL, else what is wrong with it.
    public static func problem(with text: String) -> String? {
        do throws(Problem) { _ = try RedisURL(parsing: text) } catch { return error.text }
        return nil
    }

    public init(parsing text: String) throws(Problem) {
        let bytes = Array(text.utf8)
        guard bytes.count <= 4096 else { throw Problem("is longer than 4096 bytes") }
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { throw Problem("holds a control character") }
        let isUnix: Bool
        var rest: Substring
        if text.hasPrefix("redis://") {
            isUnix = false
            rest = text.dropFirst("redis://".count)
        } else if text.hasPrefix("unix://") {
            isUnix = true
            rest = text.dropFirst("unix://".count)
        } else if text.hasPrefix("rediss://") {
            throw Problem("uses rediss:// (TLS), which is not supported: use redis:// on a trusted network or unix://")
        } else {
            throw Problem("must start with redis:// or unix:// \(Self.usage)")
        }
        // The credentials end at the last '@' (a password may hold '@' when percent-encoded or not).
        var username: String?, password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = try Self.decode(userinfo[..<colon])
                username = user.isEmpty ? nil : user
                password = try Self.decode(userinfo[userinfo.index(after: colon)...])
            } else {
                // "redis://secret@host": a password alone, as redis-cli reads it.
                password = try Self.decode(userinfo)
            }
            if password?.isEmpty == true { password = nil }
        }
        self.username = username
        self.password = password
        if isUnix {
            var path = rest
            if let q = rest.firstIndex(of: "?") {
                path = rest[..<q]
                let query = rest[rest.index(after: q)...]
                guard query.hasPrefix("db=") else { throw Problem("has a query other than ?db=N \(Self.usage)") }
                db = try Self.database(query.dropFirst(3))
            }
            guard path.hasPrefix("/"), path.count > 1 else { throw Problem("needs an absolute socket path \(Self.usage)") }
            endpoint = .unix(path: String(path))
            return
        }
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let dbText = rest[rest.index(after: slash)...]
            if !dbText.isEmpty { db = try Self.database(dbText) }
        }
        var host: Substring, portText: Substring?
        if hostPort.hasPrefix("[") {
            // An IPv6 address: [::1]:6379.
            guard let close = hostPort.firstIndex(of: "]") else { throw Problem("has an unclosed '[' in its host") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Problem("has text after its IPv6 host \(Self.usage)") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { throw Problem("has no host \(Self.usage)") }
        guard host.utf8.allSatisfy({ Self.isHostByte($0) }) else { throw Problem("has a host with characters a host name cannot hold") }
        var port = 6379
        if let portText {
            guard let p = Self.number(portText), (1...65_535).contains(p) else { throw Problem("has a port that is not a number from 1 to 65535") }
            port = p
        }
        endpoint = .tcp(host: String(host), port: port)
    }

    /// The URL with the password replaced by `[redacted]`: for logs and messages.
    public var redacted: String {
        let auth = password == nil ? (username.map { "\($0)@" } ?? "") : "\(username ?? ""):[redacted]@"
        switch endpoint {
        case .tcp(let host, let port):
            let h = host.contains(":") ? "[\(host)]" : host
            return "redis://\(auth)\(h):\(port)/\(db)"
        case .unix(let path):
            return "unix://\(auth)\(path)" + (db == 0 ? "" : "?db=\(db)")
        }
    }

    private static func isHostByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":") || b == UInt8(ascii: "_")
    }

    private static func database(_ text: Substring) throws(Problem) -> Int {
        guard let n = number(text), n <= 1_000_000 else { throw Problem("has a database that is not a number from 0 to 1000000") }
        return n
    }

    /// Decimal digits only, at most 7 of them: never an overflow.
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 7, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return text.utf8.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// Percent-decoding of the user and password (`%40` for '@').
    private static func decode(_ text: Substring) throws(Problem) -> String {
        var out: [UInt8] = []
        var it = Array(text.utf8)[...]
        while let b = it.popFirst() {
            guard b == UInt8(ascii: "%") else {
                out.append(b)
                continue
            }
            guard it.count >= 2, let hi = hex(it.removeFirst()), let lo = hex(it.removeFirst()) else {
                throw Problem("has a bad percent escape in its user or password")
            }
            out.append(hi << 4 | lo)
        }
        guard !out.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { throw Problem("has a control character in its user or password") }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}
