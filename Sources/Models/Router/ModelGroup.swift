// SPDX-License-Identifier: Apache-2.0

/// A name that stands for several deployments of one model (two API keys, two
/// regions, Azure beside OpenAI), balanced by a strategy. Deployments are
/// `provider/model` names of configured providers.
public struct ModelGroup: Sendable, Equatable {
    public enum Strategy: String, Sendable, CaseIterable {
        /// Random, in proportion to each deployment's weight.
        case weighted
        /// The deployment with the fewest calls in flight.
        case leastBusy = "least_busy"
        /// The lowest moving average of time to the first byte of the answer;
        /// a share of calls still goes to the others, so a recovered one is noticed.
        case latency
        /// The lowest share of its rpm/tpm used in the current minute.
        case usage
    }

    public struct Deployment: Sendable, Equatable {
        public var model: String
        public var weight: Double = 1
        /// Requests per minute this deployment may take; nil: no limit.
        public var rpm: Int64?
        /// Tokens (prompt + completion) per minute; nil: no limit.
        public var tpm: Int64?

        public init(model: String, weight: Double = 1, rpm: Int64? = nil, tpm: Int64? = nil) {
            self.model = model
            self.weight = weight
            self.rpm = rpm
            self.tpm = tpm
        }

        /// The limits reached, for a message: "its rpm limit of 2 requests a minute",
        /// "its tpm limit of 100 tokens a minute", or both joined by "and".
        func limitsReached(rpm rpmReached: Bool, tpm tpmReached: Bool) -> String {
            var parts: [String] = []
            if rpmReached, let rpm { parts.append("rpm limit of \(rpm) request\(rpm == 1 ? "" : "s") a minute") }
            if tpmReached, let tpm { parts.append("tpm limit of \(tpm) token\(tpm == 1 ? "" : "s") a minute") }
            return parts.isEmpty ? "its rpm/tpm limit" : "its " + parts.joined(separator: " and its ")
        }
    }

    public var name: String
    public var strategy: Strategy
    public var deployments: [Deployment]

    public init(name: String, strategy: Strategy = .weighted, deployments: [Deployment]) {
        self.name = name
        self.strategy = strategy
        self.deployments = deployments
    }
}
