import CModelsSupport

/// Process-wide libcurl state: the one-time global init, the share handle that
/// lets every transfer on every thread reuse kept-alive connections, DNS and
/// TLS sessions, and a pool of idle multi/easy handle pairs.
enum Curl {
    /// `curl_global_init` and the share handle, created once (Swift globals
    /// are initialised exactly once, thread-safely).
    /// The CURLSH handle of the share; it lives as long as the process.
    nonisolated(unsafe) static let share: UnsafeMutableRawPointer? = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return cms_share_handle(cms_share_new())
    }()

    static let version: String = {
        guard let v = curl_version() else { return "libcurl" }
        return String(cString: v)
    }()

    /// Idle handle pairs. A pair is reset before reuse; the pool is bounded so a
    /// burst of concurrency does not keep handles forever.
    private static let pool = Locked<[HandlePair]>([])
    private static let poolLimit = 32

    struct HandlePair: @unchecked Sendable {
        let multi: UnsafeMutableRawPointer
        let easy: UnsafeMutableRawPointer
    }

    static func takeHandles() -> HandlePair? {
        if let pair = pool.withLock({ $0.popLast() }) {
            curl_easy_reset(pair.easy)
            return pair
        }
        _ = share
        guard let multi = curl_multi_init() else { return nil }
        guard let easy = curl_easy_init() else { curl_multi_cleanup(multi); return nil }
        return HandlePair(multi: multi, easy: easy)
    }

    static func returnHandles(_ pair: HandlePair) {
        let kept = pool.withLock { handles -> Bool in
            guard handles.count < poolLimit else { return false }
            handles.append(pair)
            return true
        }
        if !kept {
            curl_easy_cleanup(pair.easy)
            curl_multi_cleanup(pair.multi)
        }
    }
}
