// SPDX-License-Identifier: Apache-2.0

/// Requests and tokens over the last minute, in one-second buckets: what a
/// deployment's `rpm` and `tpm` limits are held against. A plain value.
struct UsageWindow: Sendable, Equatable {
    static let seconds = 60

    private var requests = [Int64](repeating: 0, count: seconds)
    private var tokens = [Int64](repeating: 0, count: seconds)
    /// The second (since the clock's start) each bucket last counted.
    private var stamps = [Int64](repeating: -1, count: seconds)

    private mutating func bucket(at nowMs: Int64) -> Int {
        let second = nowMs / 1000
        let i = Int(second % Int64(Self.seconds))
        if stamps[i] != second {
            stamps[i] = second
            requests[i] = 0
            tokens[i] = 0
        }
        return i
    }

    mutating func addRequest(at nowMs: Int64) {
        let i = bucket(at: nowMs)
        requests[i] = requests[i].saturatingAdd(1)
    }

    mutating func addTokens(_ n: Int64, at nowMs: Int64) {
        guard n > 0 else { return }
        let i = bucket(at: nowMs)
        tokens[i] = tokens[i].saturatingAdd(n)
    }

    /// Adds counts to the bucket of one second (a window rebuilt from shared state).
    mutating func add(requests: Int64, tokens: Int64, second: Int64) {
        let i = bucket(at: second.saturatingMultiply(1000))
        self.requests[i] = self.requests[i].saturatingAdd(requests)
        self.tokens[i] = self.tokens[i].saturatingAdd(tokens)
    }

    /// Requests and tokens counted in the minute up to `nowMs`.
    func used(at nowMs: Int64) -> (requests: Int64, tokens: Int64) {
        let second = nowMs / 1000
        var r: Int64 = 0, t: Int64 = 0
        for i in 0..<Self.seconds where stamps[i] > second - Int64(Self.seconds) && stamps[i] <= second {
            r = r.saturatingAdd(requests[i])
            t = t.saturatingAdd(tokens[i])
        }
        return (r, t)
    }

    /// Milliseconds from `nowMs` until the usage counted falls below both
    /// limits (0 when it already is); nil when it never will by time alone
    /// (a limit of 0, or a single second's count over the limit that only
    /// leaves the window after a whole minute: still a finite wait, so this
    /// returns that).
    func msUntilBelow(rpm: Int64?, tpm: Int64?, at nowMs: Int64) -> Int64? {
        if let rpm, rpm <= 0 { return nil }
        if let tpm, tpm <= 0 { return nil }
        let second = nowMs / 1000
        var (r, t) = used(at: nowMs)
        func below() -> Bool { (rpm.map { r < $0 } ?? true) && (tpm.map { t < $0 } ?? true) }
        if below() { return 0 }
        // Oldest buckets leave the window first.
        for age in stride(from: Int64(Self.seconds) - 1, through: 0, by: -1) {
            let s = second - age
            let i = Int(((s % Int64(Self.seconds)) + Int64(Self.seconds)) % Int64(Self.seconds))
            guard stamps[i] == s else { continue }
            r -= requests[i]
            t -= tokens[i]
            if below() { return (s + Int64(Self.seconds)) * 1000 - nowMs }
        }
        return Int64(Self.seconds) * 1000
    }
}
