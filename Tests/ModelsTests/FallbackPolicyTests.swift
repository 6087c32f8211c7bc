// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct FallbackPolicyTests {
    @Test func byDefaultEveryProviderFailureFallsBack() {
        let policy = FallbackPolicy()
        for kind in ErrorKind.providerFailures {
            #expect(policy.decision(after: kind, switched: []) == .next, "\(kind)")
        }
        for kind in [ErrorKind.cancelled, .invalidArgument, .noMemory] {
            #expect(policy.decision(after: kind, switched: []) == .stop)
        }
    }

    @Test func kindsLeftOutOfFallbackOnEndTheCall() {
        let policy = FallbackPolicy(fallbackOn: [.server, .timeout])
        #expect(policy.decision(after: .server, switched: []) == .next)
        #expect(policy.decision(after: .auth, switched: []) == .stop)
        #expect(policy.decision(after: .badRequest, switched: []) == .stop)
        #expect(policy.decision(after: .contextWindow, switched: []) == .stop)
        // Not a provider's failure: a provider that cannot stream is passed over.
        #expect(policy.decision(after: .noProvider, switched: []) == .next)
    }

    @Test func perKindFallbacksReplaceTheRestOnce() {
        let policy = FallbackPolicy(fallbackOn: [.server], contextWindowFallbacks: ["a/long"], contentPolicyFallbacks: ["b/lenient"])
        #expect(policy.decision(after: .contextWindow, switched: []) == .switchTo(["a/long"]))
        #expect(policy.decision(after: .contentPolicy, switched: []) == .switchTo(["b/lenient"]))
        // Once switched, a second error of the kind follows fallback_on: no circles.
        #expect(policy.decision(after: .contextWindow, switched: [.contextWindow]) == .stop)
        #expect(policy.decision(after: .contentPolicy, switched: [.contextWindow]) == .switchTo(["b/lenient"]))
        let ordinary = FallbackPolicy(contextWindowFallbacks: ["a/long"])
        #expect(ordinary.decision(after: .contextWindow, switched: [.contextWindow]) == .next)
    }
}
