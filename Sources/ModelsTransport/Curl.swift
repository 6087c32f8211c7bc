// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import Glibc
import ModelsCore

/// Process-wide libcurl state: the one-time global init, the share handle that
/// lets every transfer on every thread reuse kept-alive connections, DNS and
/// TLS sessions, and a pool of idle handles.
package enum Curl {
    /// `curl_global_init` and the share handle, created once (Swift globals
    /// are initialised exactly once, thread-safely).
    /// The CURLSH handle of the share; it lives as long as the process.
    package nonisolated(unsafe) static let share: UnsafeMutableRawPointer? = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return cms_share_handle(cms_share_new())
    }()

    static let version: String = {
        guard let v = curl_version() else { return "libcurl" }
        return String(cString: v)
    }()

    /// Idle handles, bounded so a burst of concurrency does not keep handles forever.
    private static let pool = Locked<[Handles]>([])
    private static let poolLimit = 32

    /// A multi handle with its one easy handle, and what the easy handle is set up for.
    ///
    /// The easy handle keeps its options between transfers: a request to the
    /// same endpoint with the same headers (`setup`) only sets what changes
    /// (body, timeout, callback data) instead of `curl_easy_reset` and ~25
    /// options and a header list built again, which cost a fifth of a
    /// request's instructions on loopback.
    final class Handles: @unchecked Sendable {
        let multi: UnsafeMutableRawPointer
        let easy: UnsafeMutableRawPointer
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        /// The header list the easy handle points to.
        var headerList: UnsafeMutablePointer<curl_slist>?
        /// The options the easy handle holds; nil when it must be reset first.
        var setup: TransferSetup?
        /// Set when the easy handle holds options but its last transfer did not end
        /// cleanly: it is reset before its next use.
        var needsReset = false
        /// The transfer the libcurl callbacks report to: WRITEDATA and HEADERDATA
        /// point at these handles, set once, and this changes per transfer.
        var transfer: UnsafeMutableRawPointer?
        /// The request body libcurl reads (POSTFIELDS), kept and grown across
        /// transfers so an unchanged pointer and size need no setopt.
        private(set) var body: UnsafeMutableRawPointer?
        private var bodyCapacity = 0
        /// The per-transfer options as last set (-1: not set since the last reset).
        var postedBytes = -1
        var postedBody: UnsafeMutableRawPointer?
        var connectTimeoutMs = -1

        init?() {
            _ = share
            guard let multi = curl_multi_init() else { return nil }
            guard let easy = curl_easy_init() else { curl_multi_cleanup(multi); return nil }
            self.multi = multi
            self.easy = easy
            errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        }

        /// Whether the easy handle holds the options of `setup`.
        func holds(_ setup: TransferSetup) -> Bool {
            guard !needsReset, let current = self.setup else { return false }
            return current == setup
        }

        /// Forgets every option (back to libcurl's defaults).
        func reset() {
            curl_easy_reset(easy)
            if let list = headerList { curl_slist_free_all(list); headerList = nil }
            setup = nil
            needsReset = false
            postedBytes = -1
            postedBody = nil
            connectTimeoutMs = -1
        }

        /// Copies a request body into `body`, growing it when needed; false when out of memory.
        func storeBody(_ bytes: [UInt8]) -> Bool {
            let needed = max(bytes.count, 1)
            if needed > bodyCapacity {
                let capacity = max(needed, 2 * bodyCapacity, 1024)
                guard let grown = realloc(body, capacity) else { return false }
                body = grown
                bodyCapacity = capacity
            }
            bytes.withUnsafeBytes { if let base = $0.baseAddress { body!.copyMemory(from: base, byteCount: $0.count) } }
            return true
        }

        /// Lets a large body buffer go: an idle handle keeps at most `keptBodyBytes`
        /// (a request with images can be megabytes; up to `poolLimit` handles wait).
        func releaseLargeBody() {
            guard bodyCapacity > Handles.keptBodyBytes else { return }
            free(body)
            body = nil
            bodyCapacity = 0
        }

        static let keptBodyBytes = 256 << 10

        deinit {
            curl_easy_cleanup(easy)
            curl_multi_cleanup(multi)
            if let list = headerList { curl_slist_free_all(list) }
            errorBuffer.deallocate()
            free(body)
        }
    }

    /// Idle handles, preferring ones already set up for `setup`; others are reset.
    static func takeHandles(for setup: TransferSetup) -> Handles? {
        let (reused, matches) = pool.withLock { idle -> (Handles?, Bool) in
            for i in idle.indices.reversed() where idle[i].holds(setup) { return (idle.remove(at: i), true) }
            return (idle.popLast(), false)
        }
        if let handles = reused {
            if handles.needsReset || (!matches && handles.setup != nil) { handles.reset() }
            return handles
        }
        return Handles()
    }

    static func returnHandles(_ handles: Handles) {
        handles.releaseLargeBody()
        pool.withLock { idle in
            if idle.count < poolLimit { idle.append(handles) }
        }
    }
}

/// What an easy handle is set up with that stays the same from one request to
/// the next to the same endpoint: URL, method, headers, HTTP version, proxy.
package struct TransferSetup: Equatable {
    var url: String
    var method: HTTPRequest.Method
    var headers: [(name: String, value: String)]
    var http1Only: Bool
    /// The proxy read from the environment (nil: none).
    var proxy: Proxy.Setting?

    package init(url: String, method: HTTPRequest.Method, headers: [(name: String, value: String)], http1Only: Bool,
                 proxy: Proxy.Setting?) {
        (self.url, self.method, self.headers, self.http1Only, self.proxy) = (url, method, headers, http1Only, proxy)
    }

    package static func == (a: TransferSetup, b: TransferSetup) -> Bool {
        a.url == b.url && a.method == b.method && a.http1Only == b.http1Only && a.proxy == b.proxy
            && a.headers.count == b.headers.count
            && zip(a.headers, b.headers).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
