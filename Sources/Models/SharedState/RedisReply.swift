// SPDX-License-Identifier: Apache-2.0

/// One Redis reply as a plain value, copied out of hiredis's reply tree, so
/// that decoding a script's answer is a pure function that tests can feed.
enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int64)
    case string(String)
    case array([RedisReply])
    case null

    /// Deeper than this is not an answer of ours (the scripts nest two levels).
    static let maxDepth = 4

    var integer: Int64? {
        switch self {
        case .integer(let i): return i
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    var array: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// What one read of the shared state says about some models, on Redis's
/// clock (`redisNowMs`), and when on the local clock it was read.
struct SharedSnapshot: Sendable {
    struct Model: Sendable, Equatable {
        var cooldownRemainingMs: Int64 = 0
        /// Failures in a row that Redis holds for the model (0: no entry to clear).
        var failures: Int64 = 0
        /// nil when the model's load was not asked for (a plain model).
        var inFlight: Int?
        var window: UsageWindow?
    }

    var redisNowMs: Int64
    var localMs: Int64
    var models: [String: Model]

    /// Decodes the read script's answer for `queries` (the same list, in the
    /// same order, as the script was given). nil when the answer has another shape.
    static func decode(_ reply: RedisReply, queries: [SharedKeys.Query], localMs: Int64) -> SharedSnapshot? {
        guard let items = reply.array, let now = items.first?.integer, items.count == 1 + 4 * queries.count else { return nil }
        var models: [String: Model] = [:]
        for (i, q) in queries.enumerated() {
            let base = 1 + 4 * i
            guard let remaining = items[base].integer, let failures = items[base + 1].integer,
                  let inFlight = items[base + 2].integer, let fields = items[base + 3].array
            else { return nil }
            var m = Model(cooldownRemainingMs: max(0, remaining), failures: max(0, failures))
            if q.load {
                m.inFlight = Int(clamping: max(0, inFlight))
                m.window = usageWindow(fields, nowMs: now)
            }
            models[q.model] = m
        }
        return SharedSnapshot(redisNowMs: now, localMs: localMs, models: models)
    }

    /// A deployment's usage hash (`r:<second>` / `t:<second>` → count) as a
    /// window; fields of other shapes or outside the last minute are ignored.
    static func usageWindow(_ fields: [RedisReply], nowMs: Int64) -> UsageWindow {
        var window = UsageWindow()
        let second = nowMs / 1000
        var i = 0
        while i + 1 < fields.count {
            defer { i += 2 }
            guard case .string(let name) = fields[i], let count = fields[i + 1].integer, count > 0 else { continue }
            let parts = name.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let s = Int64(parts[1]), s <= second, s > second - Int64(UsageWindow.seconds) else { continue }
            switch parts[0] {
            case "r": window.add(requests: count, tokens: 0, second: s)
            case "t": window.add(requests: 0, tokens: count, second: s)
            default: continue
            }
        }
        return window
    }

    /// Redis's time now, from the local clock's progress since the read.
    func redisMs(atLocal nowMs: Int64) -> Int64 { redisNowMs.saturatingAdd(max(0, nowMs - localMs)) }

    func cooldownRemainingMs(_ model: String, atLocal nowMs: Int64) -> Int64 {
        guard let m = models[model], m.cooldownRemainingMs > 0 else { return 0 }
        return max(0, m.cooldownRemainingMs - max(0, nowMs - localMs))
    }
}
