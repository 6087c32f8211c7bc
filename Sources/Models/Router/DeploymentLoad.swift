// SPDX-License-Identifier: Apache-2.0
import ModelsCore

/// What the router knows of each deployment's load: calls in flight, a moving
/// average of the time to the first byte of its answers, and the last minute's
/// requests and tokens. Shared by every call of a router; thread-safe.
public final class DeploymentLoad: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var inFlight: Int = 0
        /// nil until the deployment has answered once.
        public var latencyMs: Double?
        public var requestsThisMinute: Int64 = 0
        public var tokensThisMinute: Int64 = 0
    }

    private struct Entry {
        var inFlight = 0
        var latencyMs: Double?
        var window = UsageWindow()
    }

    /// The weight of the newest answer in the latency average.
    static let latencySmoothing = 0.3
    /// What a failed call counts as in the latency average: a deployment that
    /// fails looks slow to the latency strategy, which then tries it only in its
    /// exploring share until it answers again.
    static let failurePenaltyMs: Int64 = 30_000

    private let entries = Locked<[String: Entry]>([:])

    public init() {}

    /// A call to `model` starts: one more in flight, one more request this minute.
    func begin(_ model: String, at nowMs: Int64) {
        entries.withLock { e in
            Self.begin(&e[model, default: Entry()], at: nowMs)
        }
    }

    private static func begin(_ entry: inout Entry, at nowMs: Int64) {
        entry.inFlight += 1
        entry.window.addRequest(at: nowMs)
    }

    /// A call to `model` ended; `firstByteMs` is its time to the first byte of
    /// the answer (nil when it failed), `tokens` what its usage reported.
    func end(_ model: String, at nowMs: Int64, firstByteMs: Int64?, tokens: Int64) {
        entries.withLock { e in
            // Changed in place: a copy of the entry would copy its window's buckets.
            Self.update(&e[model, default: Entry()], at: nowMs, firstByteMs: firstByteMs, tokens: tokens)
        }
    }

    private static func update(_ entry: inout Entry, at nowMs: Int64, firstByteMs: Int64?, tokens: Int64) {
        entry.inFlight = max(0, entry.inFlight - 1)
        let sample = Double(max(0, firstByteMs ?? failurePenaltyMs))
        entry.latencyMs = entry.latencyMs.map { $0 + latencySmoothing * (sample - $0) } ?? sample
        entry.window.addTokens(tokens, at: nowMs)
    }

    /// Tokens a stream reported after its call was counted as ended.
    func addTokens(_ model: String, _ tokens: Int64, at nowMs: Int64) {
        entries.withLock { e in e[model, default: Entry()].window.addTokens(tokens, at: nowMs) }
    }

    public func snapshot(_ model: String, at nowMs: Int64) -> Snapshot {
        entries.withLock { e in
            guard let entry = e[model] else { return Snapshot() }
            let used = entry.window.used(at: nowMs)
            return Snapshot(inFlight: entry.inFlight, latencyMs: entry.latencyMs,
                            requestsThisMinute: used.requests, tokensThisMinute: used.tokens)
        }
    }

    /// Milliseconds until `model` is below its limits (0: it is now).
    func msUntilBelow(_ model: String, rpm: Int64?, tpm: Int64?, at nowMs: Int64) -> Int64 {
        guard rpm != nil || tpm != nil else { return 0 }
        return entries.withLock { e in
            (e[model]?.window ?? UsageWindow()).msUntilBelow(rpm: rpm, tpm: tpm, at: nowMs) ?? Int64.max
        }
    }
}
