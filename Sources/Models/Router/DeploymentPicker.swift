// SPDX-License-Identifier: Apache-2.0

/// Which deployment of a group takes the next attempt: a pure function of the
/// candidates' weights and load, and one random number.
enum DeploymentPicker {
    struct Candidate: Equatable {
        var weight: Double
        var inFlight: Int
        /// nil: never measured (tried first by the latency strategy).
        var latencyMs: Double?
        /// The larger of requests/rpm and tokens/tpm this minute; 0 without limits.
        var usageShare: Double
    }

    /// The share of calls the latency strategy sends to a deployment other than
    /// the fastest, so that a slow one that recovered is noticed.
    static let latencyExploration = 0.1

    /// The index of the chosen candidate (`candidates` is not empty); `random`
    /// is uniform in [0, 1).
    static func pick(_ candidates: [Candidate], strategy: ModelGroup.Strategy, random: Double) -> Int {
        precondition(!candidates.isEmpty)
        let all = Array(candidates.indices)
        switch strategy {
        case .weighted:
            return weighted(all, candidates, random)
        case .leastBusy:
            let fewest = candidates.map(\.inFlight).min()!
            return weighted(all.filter { candidates[$0].inFlight == fewest }, candidates, random)
        case .usage:
            let lowest = candidates.map(\.usageShare).min()!
            return weighted(all.filter { candidates[$0].usageShare == lowest }, candidates, random)
        case .latency:
            // Never measured first; then the fastest, but for an exploring share.
            if let unmeasured = all.first(where: { candidates[$0].latencyMs == nil }) { return unmeasured }
            let fastest = all.min(by: { candidates[$0].latencyMs! < candidates[$1].latencyMs! })!
            let others = all.filter { $0 != fastest }
            guard !others.isEmpty, random < latencyExploration else { return fastest }
            // The same random number, rescaled, picks among the others.
            return weighted(others, candidates, random / latencyExploration)
        }
    }

    /// Random among `indices` in proportion to weight.
    private static func weighted(_ indices: [Int], _ candidates: [Candidate], _ random: Double) -> Int {
        let total = indices.reduce(0.0) { $0 + candidates[$1].weight }
        let r = (random.isNaN ? 0 : min(max(random, 0), 0.999_999_999)) * total
        var sum = 0.0
        for i in indices {
            sum += candidates[i].weight
            if r < sum { return i }
        }
        return indices.last!
    }
}
