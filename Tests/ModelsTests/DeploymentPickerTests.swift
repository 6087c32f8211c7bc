// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct DeploymentPickerTests {
    private typealias Candidate = DeploymentPicker.Candidate

    private static func candidate(weight: Double = 1, inFlight: Int = 0, latencyMs: Double? = nil, usage: Double = 0) -> Candidate {
        Candidate(weight: weight, inFlight: inFlight, latencyMs: latencyMs, usageShare: usage)
    }

    private static func uniform(_ rng: inout SplitMix64) -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    /// Picks `draws` times and counts each index.
    private static func counts(_ candidates: [Candidate], _ strategy: ModelGroup.Strategy, draws: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(state: seed)
        var counts = [Int](repeating: 0, count: candidates.count)
        for _ in 0..<draws { counts[DeploymentPicker.pick(candidates, strategy: strategy, random: uniform(&rng))] += 1 }
        return counts
    }

    @Test func weightedFollowsTheWeights() {
        let weights = [3.0, 1.0, 2.0, 0.5]
        let draws = 60_000
        let observed = Self.counts(weights.map { Self.candidate(weight: $0) }, .weighted, draws: draws, seed: 42)
        // Chi-square with 3 degrees of freedom: 16.27 is the 0.1 % critical value.
        let total = weights.reduce(0, +)
        let chi = zip(observed, weights).reduce(0.0) { sum, pair in
            let expected = Double(draws) * pair.1 / total
            return sum + (Double(pair.0) - expected) * (Double(pair.0) - expected) / expected
        }
        #expect(chi < 16.27, "observed \(observed), chi-square \(chi)")
    }

    @Test func weightedEdgesOfTheRandomNumber() {
        let two = [Self.candidate(weight: 1), Self.candidate(weight: 1)]
        #expect(DeploymentPicker.pick(two, strategy: .weighted, random: 0) == 0)
        #expect(DeploymentPicker.pick(two, strategy: .weighted, random: 0.999_999_999_9) == 1)
        #expect(DeploymentPicker.pick(two, strategy: .weighted, random: 7) == 1)
        #expect(DeploymentPicker.pick(two, strategy: .weighted, random: .nan) == 0)
    }

    @Test func leastBusyTakesTheFewestInFlightAndSplitsTies() {
        let busy = [Self.candidate(inFlight: 3), Self.candidate(inFlight: 1), Self.candidate(inFlight: 2)]
        #expect(Self.counts(busy, .leastBusy, draws: 100, seed: 1) == [0, 100, 0])
        let tied = [Self.candidate(inFlight: 1), Self.candidate(inFlight: 0), Self.candidate(inFlight: 0)]
        let counts = Self.counts(tied, .leastBusy, draws: 10_000, seed: 2)
        #expect(counts[0] == 0 && abs(counts[1] - counts[2]) < 600)
    }

    /// Concurrent calls under least_busy spread evenly: each pick raises the
    /// chosen one's count, as a call in flight does.
    @Test func leastBusyUnderConcurrentCallsStaysBalanced() {
        var deployments = [Self.candidate(), Self.candidate(), Self.candidate()]
        var rng = SplitMix64(state: 3)
        for _ in 0..<300 {
            let i = DeploymentPicker.pick(deployments, strategy: .leastBusy, random: Self.uniform(&rng))
            deployments[i].inFlight += 1
            // Now and then a call ends.
            if rng.chance(30), let done = deployments.indices.filter({ deployments[$0].inFlight > 0 }).randomElement(using: &rng) {
                deployments[done].inFlight -= 1
            }
        }
        let loads = deployments.map(\.inFlight)
        #expect(loads.max()! - loads.min()! <= 1, "\(loads)")
    }

    @Test func latencyPrefersTheFastestAndExploresTheOthers() {
        // Unmeasured first.
        #expect(DeploymentPicker.pick([Self.candidate(latencyMs: 10), Self.candidate()], strategy: .latency, random: 0.9) == 1)
        let measured = [Self.candidate(latencyMs: 400), Self.candidate(latencyMs: 90), Self.candidate(latencyMs: 250)]
        let draws = 20_000
        let counts = Self.counts(measured, .latency, draws: draws, seed: 4)
        let share = Double(counts[0] + counts[2]) / Double(draws)
        #expect(abs(share - DeploymentPicker.latencyExploration) < 0.015, "exploring share \(share)")
        #expect(counts[0] > 0 && counts[2] > 0)
    }

    @Test func usageTakesTheLowestShareOfItsLimits() {
        let used = [Self.candidate(usage: 0.8), Self.candidate(usage: 0.2), Self.candidate(usage: 0.5)]
        #expect(Self.counts(used, .usage, draws: 50, seed: 5) == [0, 50, 0])
    }
}

extension SplitMix64: RandomNumberGenerator {}
