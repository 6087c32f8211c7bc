// SPDX-License-Identifier: Apache-2.0
#if canImport(CHiredis)
import CHiredis
import Glibc
import ModelsCore

/// A blocking Redis client over hiredis for the shared state: a pool of
/// connections (one per thread talking to Redis at the same moment, reused
/// after), each bounded by `timeoutMs` for connecting and for each reply.
/// Writes whose answer nobody waits for (`send`) go out without waiting: their
/// replies are read, and dropped, before the connection's next command.
///
/// When Redis cannot be reached, is too slow or answers something that is not
/// Redis, every call gets nil at once (its caller goes on with local state)
/// until the next retry time; the call that comes after it tries to connect
/// again, with a backoff that doubles from 100 ms to 2 s. One WARN when
/// sharing stops, one INFO when it resumes; nothing per request.
final class RedisClient: SharedStore {
    let url: RedisURL
    let timeoutMs: Int64

    /// Connections open at once, at most: more threads than this fall back to local state.
    static let maxConnections = 64
    static let firstBackoffMs: Int64 = 100
    static let maxBackoffMs: Int64 = 2_000

    private enum Status { case unknown, up, down }

    /// A hiredis context and the `send`s whose replies are not read yet (as
    /// EVAL arguments, to run again should Redis have lost the script).
    private struct Connection {
        let context: UnsafeMutablePointer<redisContext>
        var unread: [[String]] = []
    }

    private struct State {
        /// Connections not in use; each is used by one thread at a time.
        var idle: [Connection] = []
        var open = 0
        var status = Status.unknown
        /// While down: no call tries Redis before this (monotonic ms).
        var retryAtMs: Int64 = 0
        var backoffMs = RedisClient.firstBackoffMs
        /// A call is connecting while down: the others do not wait for it.
        var probing = false
    }

    /// The pool holds raw hiredis contexts; the lock guards them.
    private let state = Locked(State())

    init(url: RedisURL, timeoutMs: Int64) {
        self.url = url
        self.timeoutMs = max(1, timeoutMs)
    }

    deinit {
        let idle = state.withLock { s in
            defer { s.idle = [] }
            return s.idle
        }
        // The replies of the last writes are read first: closing a socket with
        // unread data resets it, and Redis could drop those writes.
        SignalGuard.withoutSIGPIPE {
            for c in idle {
                _ = drain(c)
                redisFree(c.context)
            }
        }
    }

    // MARK: Commands

    func eval(_ script: SharedScript, keys: [String], args: [String]) -> RedisReply? {
        SignalGuard.withoutSIGPIPE { () -> RedisReply? in
            guard let conn = take() else { return nil }
            let c = conn.context
            guard drain(conn) else {
                failed(c, reason: errorText(c))
                return nil
            }
            let tail = [String(keys.count)] + keys + args
            var reply = command(c, ["EVALSHA", script.sha] + tail)
            if case .error(let e) = reply, e.hasPrefix("NOSCRIPT") { reply = command(c, ["EVAL", script.text] + tail) }
            guard let reply else {
                failed(c, reason: errorText(c))
                return nil
            }
            if case .error(let e) = reply {
                // A Redis that refuses the script (an old version, a script error, OOM).
                give(Connection(context: c))
                markDown("Redis answered an error: \(Self.clip(e))")
                return nil
            }
            give(Connection(context: c))
            markUp()
            return reply
        }
    }

    /// Runs a script without waiting for its answer: written out now, its
    /// reply read before the connection's next command (and the script run
    /// again with EVAL if Redis had lost it). false when it could not be written.
    func send(_ script: SharedScript, keys: [String], args: [String]) -> Bool {
        SignalGuard.withoutSIGPIPE { () -> Bool in
            guard var conn = take() else { return false }
            let c = conn.context
            // A connection's replies stay few: read the older ones first when they pile up.
            if conn.unread.count >= 16 {
                guard drain(conn) else {
                    failed(c, reason: errorText(c))
                    return false
                }
                conn.unread = []
            }
            let tail = [String(keys.count)] + keys + args
            let command = ["EVALSHA", script.sha] + tail
            var done: Int32 = 0
            let ok = Self.withArgv(command) { argc, argv, lens in redisAppendCommandArgv(c, argc, argv, lens) == REDIS_OK }
            while ok && done == 0 {
                guard redisBufferWrite(c, &done) == REDIS_OK else { break }
            }
            guard ok, done != 0 else {
                failed(c, reason: errorText(c))
                return false
            }
            conn.unread.append(["EVAL", script.text] + tail)
            give(conn)
            return true
        }
    }

    /// Reads the replies of the connection's earlier `send`s, running again
    /// with EVAL those Redis did not have the script for; false when the connection failed.
    private func drain(_ conn: Connection) -> Bool {
        var lost: [[String]] = []
        for eval in conn.unread {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(conn.context, &raw) == REDIS_OK, let raw else { return false }
            let reply = raw.assumingMemoryBound(to: redisReply.self).pointee
            if reply.type == REDIS_REPLY_ERROR, let str = reply.str, reply.len >= 8,
               memcmp(str, "NOSCRIPT", 8) == 0 {
                lost.append(eval)
            }
            freeReplyObject(raw)
        }
        for eval in lost {
            guard command(conn.context, eval) != nil else { return false }
        }
        return true
    }

    // MARK: The pool

    /// A connection to use, or nil when Redis is down (or too many are open).
    private func take() -> Connection? {
        enum Choice { case reuse(Connection), connect, none }
        let now = MonotonicClock.nowMs()
        let choice: Choice = state.withLock { s in
            if s.status == .down {
                guard !s.probing, now >= s.retryAtMs else { return .none }
                s.probing = true
                s.open += 1
                return .connect
            }
            if let c = s.idle.popLast() { return .reuse(c) }
            guard s.open < Self.maxConnections else { return .none }
            s.open += 1
            return .connect
        }
        switch choice {
        case .reuse(let c): return c
        case .none: return nil
        case .connect:
            switch connect() {
            case .success(let c): return Connection(context: c)
            case .failure(let problem):
                state.withLock { s in
                    s.open -= 1
                    s.probing = false
                }
                markDown(problem.text)
                return nil
            }
        }
    }

    private func give(_ c: Connection) {
        state.withLock { $0.idle.append(c) }
    }

    /// The connection broke (or timed out): it is closed, and Redis counts as down.
    private func failed(_ c: UnsafeMutablePointer<redisContext>, reason: String) {
        redisFree(c)
        state.withLock { $0.open -= 1 }
        markDown(reason)
    }

    private func markDown(_ reason: String) {
        let now = MonotonicClock.nowMs()
        let (wasUp, stale): (Bool, [Connection]) = state.withLock { s in
            let wasUp = s.status != .down
            s.backoffMs = wasUp ? Self.firstBackoffMs : min(Self.maxBackoffMs, s.backoffMs * 2)
            s.status = .down
            s.probing = false
            s.retryAtMs = now.saturatingAdd(s.backoffMs)
            // The other connections are likely broken too: closed, not tried one by one.
            let stale = s.idle
            s.idle = []
            s.open -= stale.count
            return (wasUp, stale)
        }
        for c in stale { redisFree(c.context) }
        if wasUp {
            Log.warn("shared state: Redis at \(url.redacted) is not usable (\(redact(reason))); "
                     + "going on with this process's own cooldowns, rate limits and load, and retrying in the background of later calls")
        }
    }

    private func markUp() {
        let was: Status? = state.withLock { s in
            guard s.status != .up else { return nil }
            defer {
                s.status = .up
                s.probing = false
                s.backoffMs = Self.firstBackoffMs
            }
            return s.status
        }
        switch was {
        case .down?: Log.info("shared state: Redis at \(url.redacted) is back; sharing resumes")
        case .unknown?: Log.debug("shared state: connected to Redis at \(url.redacted)")
        default: break
        }
    }

    // MARK: hiredis

    private struct Problem: Error { let text: String }

    private func connect() -> Result<UnsafeMutablePointer<redisContext>, Problem> {
        let start = MonotonicClock.nowMs()
        let tv = Self.timeval(ms: timeoutMs)
        let made: UnsafeMutablePointer<redisContext>?
        switch url.endpoint {
        case .tcp(let host, let port): made = redisConnectWithTimeout(host, Int32(port), tv)
        case .unix(let path): made = redisConnectUnixWithTimeout(path, tv)
        }
        guard let c = made else { return .failure(Problem(text: "out of memory")) }
        if c.pointee.err != 0 {
            let text = errorText(c)
            redisFree(c)
            return .failure(Problem(text: "cannot connect: \(text)"))
        }
        // What is left of the time budget bounds each reply of the setup.
        _ = redisSetTimeout(c, Self.timeval(ms: max(1, timeoutMs - (MonotonicClock.nowMs() - start))))
        var setup: [[String]] = []
        if let password = url.password { setup.append(url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]) }
        if url.db != 0 { setup.append(["SELECT", String(url.db)]) }
        // The scripts, so that EVALSHA finds them (a write not waited for included).
        for script in SharedScript.all { setup.append(["SCRIPT", "LOAD", script.text]) }
        do {
            let replies = pipeline(c, setup)
            guard replies.count == setup.count else {
                let text = errorText(c)
                redisFree(c)
                return .failure(Problem(text: text))
            }
            for (i, r) in replies.enumerated() {
                if case .error(let e) = r {
                    redisFree(c)
                    let what = setup[i][0] == "AUTH" ? "refused the password"
                        : e.hasPrefix("NOAUTH") ? "wants a password, and the URL gives none"
                        : setup[i][0] == "SELECT" ? "refused the database number" : "refused a script"
                    return .failure(Problem(text: "Redis \(what): \(Self.clip(e))"))
                }
            }
        }
        _ = redisSetTimeout(c, tv)
        return .success(c)
    }

    /// One command; nil when the connection failed (see `errorText`).
    private func command(_ c: UnsafeMutablePointer<redisContext>, _ args: [String]) -> RedisReply? {
        Self.withArgv(args) { argc, argv, lens in
            guard let raw = redisCommandArgv(c, argc, argv, lens) else { return nil }
            defer { freeReplyObject(raw) }
            return Self.convert(raw.assumingMemoryBound(to: redisReply.self), depth: 0)
        }
    }

    /// Several commands sent together; the replies read, fewer when the connection failed.
    private func pipeline(_ c: UnsafeMutablePointer<redisContext>, _ commands: [[String]]) -> [RedisReply] {
        for args in commands {
            let ok = Self.withArgv(args) { argc, argv, lens in redisAppendCommandArgv(c, argc, argv, lens) == REDIS_OK }
            guard ok else { return [] }
        }
        var replies: [RedisReply] = []
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(c, &raw) == REDIS_OK, let raw else { return replies }
            defer { freeReplyObject(raw) }
            guard let r = Self.convert(raw.assumingMemoryBound(to: redisReply.self), depth: 0) else { return replies }
            replies.append(r)
        }
        return replies
    }

    private static func withArgv<R>(
        _ args: [String],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var bytes: [CChar] = []
        var offsets: [Int] = [], lengths: [Int] = []
        for a in args {
            offsets.append(bytes.count)
            lengths.append(a.utf8.count)
            bytes.append(contentsOf: a.utf8.map { CChar(bitPattern: $0) })
            bytes.append(0)
        }
        return bytes.withUnsafeBufferPointer { b in
            var argv: [UnsafePointer<CChar>?] = offsets.map { b.baseAddress! + $0 }
            return argv.withUnsafeMutableBufferPointer { av in
                lengths.withUnsafeBufferPointer { lv in body(Int32(args.count), av.baseAddress!, lv.baseAddress!) }
            }
        }
    }

    private static func convert(_ r: UnsafeMutablePointer<redisReply>, depth: Int) -> RedisReply? {
        let reply = r.pointee
        func text() -> String {
            guard let s = reply.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: s, count: reply.len), as: UTF8.self)
        }
        switch reply.type {
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(Int64(reply.integer))
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY:
            guard depth < RedisReply.maxDepth else { return nil }
            var items: [RedisReply] = []
            items.reserveCapacity(reply.elements)
            for i in 0..<reply.elements {
                guard let e = reply.element[i], let item = convert(e, depth: depth + 1) else { return nil }
                items.append(item)
            }
            return .array(items)
        default: return nil
        }
    }

    private func errorText(_ c: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: c.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        switch c.pointee.err {
        case REDIS_ERR_IO where text.contains("temporarily unavailable"):
            return "no answer within \(timeoutMs) ms"
        case REDIS_ERR_EOF: return "connection closed"
        case REDIS_ERR_PROTOCOL: return "not a Redis server: \(text)"
        default: return text.isEmpty ? "connection failed" : text
        }
    }

    private func redact(_ text: String) -> String {
        Redact.secrets(text, known: [url.password].compactMap { $0 })
    }

    private static func clip(_ text: String) -> String {
        text.utf8.count <= 200 ? text : String(decoding: text.utf8.prefix(200), as: UTF8.self) + "…"
    }

    private static func timeval(ms: Int64) -> Glibc.timeval {
        Glibc.timeval(tv_sec: Int(ms / 1000), tv_usec: Int(ms % 1000) * 1000)
    }
}
#endif
