// SPDX-License-Identifier: Apache-2.0

/// The Redis keys of the shared state, all under the configured prefix:
///
///     <prefix>cooldown:<model>   hash f (failures in a row), u (until, ms of Redis time)
///     <prefix>rate:<provider>    GCRA: the theoretical arrival time, ms of Redis time
///     <prefix>inflight:<model>   sorted set: one member per call in flight, scored by when it expires
///     <prefix>usage:<model>      hash r:<second> / t:<second>: requests and tokens per second
///     <prefix>ended:<member>     a call's end that reached Redis before its start (10 min)
///
/// Model and provider names are used as they are (Redis keys are binary safe).
struct SharedKeys: Sendable, Equatable {
    let prefix: String

    func cooldown(_ model: String) -> String { prefix + "cooldown:" + model }
    func rate(_ provider: String) -> String { prefix + "rate:" + provider }
    func inFlight(_ model: String) -> String { prefix + "inflight:" + model }
    func usage(_ model: String) -> String { prefix + "usage:" + model }
    func ended(_ member: String) -> String { prefix + "ended:" + member }

    /// One model a read asks about; `load`: its calls in flight and usage too (a deployment).
    struct Query: Sendable, Equatable, Hashable {
        var model: String
        var load: Bool
    }

    /// KEYS and ARGV of the read script for `queries`.
    func read(_ queries: [Query]) -> (keys: [String], args: [String]) {
        var keys: [String] = []
        keys.reserveCapacity(queries.count * 3)
        for q in queries { keys += [cooldown(q.model), inFlight(q.model), usage(q.model)] }
        return (keys, queries.map { $0.load ? "1" : "0" })
    }
}
